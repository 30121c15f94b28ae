"""Per-session overlay of the built Store: a browser session's own uploads (and uploads opened by
a share link) shown like built-in indicators on every page.

- The session is a random id in an HttpOnly, SameSite=Lax cookie (COOKIE), set by the Flask
  hooks `install(server)` registers on the first response that lacks it.
- A share link `?upload=<token>` is remembered in a second cookie (SHARED_COOKIE) when the page
  is opened, so callbacks (POSTs without the page's query) still see it; the token in the
  request's own query or its Referer counts too.
- `store_for_request(base)` returns `base` when the request has no uploads, else an overlay
  Store whose catalog and indicator table add the uploads. Overlays are cached per (session,
  upload ids, share tokens): a new or deleted upload changes the key. Within one request the
  overlay is computed once (flask.g).

Uploaded indicators keep the catalog's five areas (the area the user picked; pages need no
change), live on their own division only, and have no city value. Their source is cited as
"Egen uppladdning: <filename>, <date>" ("Own upload: ..." in English, see `publisher`) through
a per-upload pseudo-source id 'upload_<id>' in an overlay registry; the indicator also keeps
the plain UPLOAD_SOURCE_ID ('upload'), which is in no registry and which the pages skip.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from data import upload_store
from data.registry import Source
from indicators.catalog import AREAS, Indicator
from indicators.uploads import UPLOAD_SOURCE_ID, as_indicator, as_indicator_values

log = logging.getLogger(__name__)

COOKIE = "skillnader_session"
SHARED_COOKIE = "skillnader_shared"
SHARE_PARAM = "upload"
COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookies at 400 days
MAX_SHARED = 10  # share tokens remembered per browser
CACHE_SIZE = 32  # overlays kept in memory (each holds a copy of the indicator table)
SHARED_TTL_S = 60.0  # overlays with shared uploads are rechecked (a share may be revoked)
DEFAULT_AREA = list(AREAS)[-1]
_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# --- the request's session and share tokens --------------------------------------------------


def _request():
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return None
    return request if has_request_context() else None


def session_id() -> str | None:
    """The request's session id: its cookie, or the one the hooks made for this request."""
    req = _request()
    if req is None:
        return None
    from flask import g

    sid = getattr(g, "skillnader_new_session", None) or req.cookies.get(COOKIE)
    return sid if isinstance(sid, str) and _SESSION_RE.match(sid) else None


def _tokens_in(text: str | None) -> list[str]:
    return [t for t in (text or "").split(".") if _TOKEN_RE.match(t)]


def share_tokens() -> tuple[str, ...]:
    """Share tokens the request carries: its query, its Referer's query, the cookie."""
    req = _request()
    if req is None:
        return ()
    found = [req.args.get(SHARE_PARAM, "")]
    if req.referrer:
        found += parse_qs(urlsplit(req.referrer).query).get(SHARE_PARAM, [])
    found += _tokens_in(req.cookies.get(SHARED_COOKIE))
    return tuple(dict.fromkeys(t for t in found if _TOKEN_RE.match(t)))[:MAX_SHARED]


def install(server: Any) -> None:
    """Register the cookie hooks on the Flask server (idempotent)."""
    if getattr(server, "_skillnader_session_hooks", False):
        return
    server._skillnader_session_hooks = True

    @server.before_request
    def _ensure_session() -> None:
        from flask import g, request

        sid = request.cookies.get(COOKIE)
        if not (isinstance(sid, str) and _SESSION_RE.match(sid)):
            g.skillnader_new_session = upload_store.new_session_id()

    @server.after_request
    def _set_cookies(response):
        from flask import g, request

        secure = request.is_secure
        new = getattr(g, "skillnader_new_session", None)
        if new:
            response.set_cookie(COOKIE, new, max_age=COOKIE_MAX_AGE, httponly=True,
                                samesite="Lax", secure=secure, path="/")
        token = request.args.get(SHARE_PARAM, "")
        if request.method == "GET" and _TOKEN_RE.match(token):
            kept = _tokens_in(request.cookies.get(SHARED_COOKIE))
            if token not in kept:
                try:
                    valid = upload_store.find_shared(token) is not None
                except upload_store.UploadStoreError:
                    log.exception("upload store unavailable")
                    valid = False
                if valid:
                    kept = [token, *kept][:MAX_SHARED]
                    response.set_cookie(SHARED_COOKIE, ".".join(kept), max_age=COOKIE_MAX_AGE,
                                        httponly=True, samesite="Lax", secure=secure, path="/")
        return response


# --- overlays ----------------------------------------------------------------------------------


def indicator_id(upload_id: str) -> str:
    return f"upload_{upload_id}"


UPLOAD_PUBLISHER = {"sv": "Egen uppladdning", "en": "Own upload"}


def upload_source(stored: upload_store.StoredUpload) -> Source:
    """The pseudo-source citing an upload: 'Egen uppladdning: <filename>, <date>' (the
    publisher in the page's language comes from `publisher`)."""
    name = stored.filename or stored.meta.title
    return Source(
        id=f"upload_{stored.upload_id}", title=f"{name}, {stored.created_at.date().isoformat()}",
        publisher=UPLOAD_PUBLISHER["sv"], licence="", root="raw", files=(),
        note=stored.meta.source,
    )


def publisher(src: Source, lang: str) -> str:
    """A source's publisher for a citation in `lang`: an upload's pseudo-source says 'Own
    upload' in English; every other source keeps its registered publisher."""
    if src.id.startswith("upload_") and src.publisher == UPLOAD_PUBLISHER["sv"]:
        return UPLOAD_PUBLISHER.get(lang, UPLOAD_PUBLISHER["sv"])
    return src.publisher


class _OverlayRegistry:
    """The built registry plus the uploads' pseudo-sources (lookups only)."""

    def __init__(self, base: Any, extra: dict[str, Source]) -> None:
        self._base = base
        self.sources = {**base.sources, **extra}

    def __getitem__(self, source_id: str) -> Source:
        if source_id in self.sources:
            return self.sources[source_id]
        return self._base[source_id]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def upload_indicator(stored: upload_store.StoredUpload) -> Indicator:
    ind = as_indicator(stored.meta, stored.division, stored.upload_id)
    area = stored.meta.area if stored.meta.area in AREAS else DEFAULT_AREA
    return ind.model_copy(update={"area": area,
                                  "sources": (UPLOAD_SOURCE_ID, f"upload_{stored.upload_id}")})


def build_overlay(base: Any, uploads: list[upload_store.StoredUpload]) -> Any:
    """A Store like `base` with the uploads added (catalog, indicator values, sources)."""
    if not uploads:
        return base
    catalog = dict(base.catalog)
    frames, sources = [], {}
    for up in uploads:
        ind = upload_indicator(up)
        if ind.id in catalog:
            continue
        catalog[ind.id] = ind
        sources[f"upload_{up.upload_id}"] = upload_source(up)
        frames.append(as_indicator_values(up.table, ind.id))
    if not frames:
        return base
    extra = pd.concat(frames, ignore_index=True)
    extra = extra.astype({c: base.indicators[c].dtype for c in extra.columns
                          if c in base.indicators.columns})
    store = replace(base, indicators=pd.concat([base.indicators, extra], ignore_index=True),
                    catalog=catalog)
    # share what does not change instead of recomputing it
    store.__dict__["_geojson"] = base._geojson
    store.__dict__["registry"] = _OverlayRegistry(base.registry, sources)
    by_key = dict(base._by_key)
    for key, grp in extra.groupby(["indicator_id", "division", "sex"]):
        by_key[key] = grp.reset_index(drop=True)
    store.__dict__["_by_key"] = by_key
    store.__dict__["uploads"] = {indicator_id(u.upload_id): u for u in uploads}
    return store


_CACHE: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
_LOCK = threading.Lock()


def _evict(store: Any) -> None:
    try:  # the trends page memoises per store id; drop it with the overlay
        from pages import trends_logic

        trends_logic._AVAILABILITY.pop(id(store), None)
    except Exception:  # pragma: no cover
        pass


def overlay_for(base: Any, sid: str | None, tokens: tuple[str, ...] = ()) -> Any:
    """The overlay for a session and share tokens (cached); `base` when there are no uploads."""
    db = upload_store.default_store()
    own = db.list_for_session(sid) if sid else []
    if not own and not tokens:
        return base
    key = (id(base), str(db.path), sid, tuple(s.upload_id for s in own), tokens)
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and (not tokens or now - hit[0] < SHARED_TTL_S):
            _CACHE.move_to_end(key)
            return hit[1]
    uploads = [u for s in own if (u := db.get(s.upload_id, session_id=sid)) is not None]
    have = {u.upload_id for u in uploads}
    for token in tokens:
        u = db.find_shared(token)
        if u is not None and u.upload_id not in have:
            uploads.append(u)
            have.add(u.upload_id)
    store = build_overlay(base, uploads)
    with _LOCK:
        _CACHE[key] = (now, store)
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _evict(_CACHE.popitem(last=False)[1][1])
    return store


def store_for_request(base: Any) -> Any:
    """`base`, or the request's overlay (computed once per request). Never raises: an
    unavailable upload database shows the built data only."""
    req = _request()
    if req is None:
        return base
    from flask import g

    cached = getattr(g, "skillnader_store", None)
    if cached is not None and cached[0] is base:
        return cached[1]
    try:
        store = overlay_for(base, session_id(), share_tokens())
    except Exception:
        log.exception("uploads not available for this request")
        store = base
    g.skillnader_store = (base, store)
    return store


def clear_cache() -> None:
    with _LOCK:
        for _t, store in _CACHE.values():
            _evict(store)
        _CACHE.clear()
