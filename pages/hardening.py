"""Serving hardening for the Dash app's Flask server (no page: nothing is registered here).

`harden(app)` is called once by app.py after the Dash app exists. It adds
  * security headers on every response: a Content-Security-Policy the app satisfies (Dash's
    inline renderer script by hash, no 'unsafe-eval', no inline event handlers), nosniff,
    Referrer-Policy, Permissions-Policy, and framing: /embed/* may be framed by any site
    (or by $SKILLNADER_EMBED_ANCESTORS, space separated), every other page only by itself;
  * a request size limit (MAX_CONTENT_LENGTH, $SKILLNADER_MAX_UPLOAD_MB, default 6 MB);
  * gzip/brotli compression (flask-compress) of HTML, JSON, JS and CSS responses;
  * the shared Flask-Caching `cache` (SimpleCache in process; Redis when
    $SKILLNADER_REDIS_URL is set), used through `memoize` below;
  * an error handler: an unexpected exception is logged with its traceback and answered with
    a short friendly page (sv/en) or, for Dash's JSON endpoints, a short JSON error; never a
    traceback. $SKILLNADER_DEBUG=1 turns Dash debug mode on (see debug_enabled()).
"""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import os
from collections.abc import Callable

from dash.exceptions import UnsupportedRelativePath
from flask import Flask, Response, has_app_context, request
from flask_caching import Cache
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

ENV_DEBUG = "SKILLNADER_DEBUG"
ENV_REDIS = "SKILLNADER_REDIS_URL"
ENV_MAX_MB = "SKILLNADER_MAX_UPLOAD_MB"
ENV_EMBED_ANCESTORS = "SKILLNADER_EMBED_ANCESTORS"
ENV_CACHE_TIMEOUT = "SKILLNADER_CACHE_TIMEOUT"
EMBED_PREFIX = "/embed"

cache = Cache()


def debug_enabled() -> bool:
    return os.environ.get(ENV_DEBUG, "").strip() == "1"


def cache_config() -> dict:
    timeout = int(os.environ.get(ENV_CACHE_TIMEOUT, "3600"))
    url = os.environ.get(ENV_REDIS, "").strip()
    if url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                "CACHE_KEY_PREFIX": "skillnader:", "CACHE_DEFAULT_TIMEOUT": timeout,
                # a Redis that is down costs each request at most this, then it computes
                "CACHE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000,
            "CACHE_DEFAULT_TIMEOUT": timeout}


def _data_version() -> str:
    from indicators.store import get_store

    return str(get_store().info.get("data_version", ""))


def cache_is_shared() -> bool:
    """True when `cache` is shared between processes (Redis). Results a process already keeps
    in its own memory (an lru_cache) gain nothing from a second in-process copy in
    SimpleCache, so such callers use `memoize` only when this is true."""
    if not has_app_context():
        return False
    try:
        backend = cache.cache  # this app's backend (KeyError/AttributeError: not initialised)
    except Exception:
        return False
    from flask_caching.backends import NullCache, SimpleCache

    return not isinstance(backend, SimpleCache | NullCache)


def memoize(func: Callable) -> Callable:
    """Memoize a pure builder in the shared cache, keyed by its arguments and the data version
    (a new build never serves old results). Falls back to a plain call when the cache is
    unavailable (not initialised, or Redis down): caching must never break a page."""
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not has_app_context():  # a unit test or a script: no cache
            return func(*args, **kwargs)
        raw = repr((name, _data_version(), args, sorted(kwargs.items())))
        key = "memo:" + hashlib.sha256(raw.encode()).hexdigest()
        try:
            hit = cache.get(key)
        except Exception:  # backend down: compute
            log.warning("cache get failed for %s", name, exc_info=True)
            hit = None
        if hit is not None:
            return hit
        value = func(*args, **kwargs)
        try:
            cache.set(key, value)
        except Exception:
            log.warning("cache set failed for %s", name, exc_info=True)
        return value

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper


# --- security headers ---------------------------------------------------------------------


def content_security_policy(script_hashes: list[str], frame_ancestors: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        # Plotly and Mantine set inline styles (style attributes and <style> elements)
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        # MapLibre (map traces) starts its web worker from a blob: URL
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


def _is_embed(path: str) -> bool:
    return path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/")


def add_security_headers(app, server: Flask) -> None:
    hashes: list[str] = []

    def script_hashes() -> list[str]:
        # computed on first use: by then every page (and its inline clientside callbacks)
        # is registered
        if not hashes:
            hashes.extend(app.csp_hashes())
        return hashes

    embed_ancestors = os.environ.get(ENV_EMBED_ANCESTORS, "").strip() or "*"

    @server.after_request
    def _headers(resp: Response) -> Response:
        embed = _is_embed(request.path)
        ancestors = embed_ancestors if embed else "'self'"
        h = resp.headers
        h.setdefault("Content-Security-Policy",
                     content_security_policy(script_hashes(), ancestors))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not embed:
            h.setdefault("X-Frame-Options", "SAMEORIGIN")  # for browsers without CSP 3
        return resp


# --- errors -------------------------------------------------------------------------------

_ERROR_TEXT = {
    "sv": ("Något gick fel", "Sidan kunde inte visas just nu. Försök igen om en stund, eller "
           "gå tillbaka till startsidan.", "Till startsidan"),
    "en": ("Something went wrong", "The page could not be shown right now. Try again in a "
           "moment, or go back to the start page.", "To the start page"),
}


def _error_lang() -> str:
    lang = request.args.get("lang")
    if lang in _ERROR_TEXT:
        return lang
    best = request.accept_languages.best_match(["sv", "en"])
    return best or "sv"


def friendly_error_page(lang: str, status: int = 500) -> Response:
    title, text, home = _ERROR_TEXT[lang]
    other = "en" if lang == "sv" else "sv"
    o_title, o_text, _ = _ERROR_TEXT[other]
    body = (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} – Skillnader</title></head>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        f"<p><a href='/?lang={lang}'>{html.escape(home)}</a></p>"
        f"<hr><p lang='{other}' style='color:#555'><strong>{html.escape(o_title)}.</strong> "
        f"{html.escape(o_text)}</p></body></html>"
    )
    return Response(body, status=status, mimetype="text/html")


def add_error_handler(server: Flask) -> None:
    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc  # 404, 405, 413 ... keep their own status and page
        if isinstance(exc, UnsupportedRelativePath):  # a forged URL outside the app
            return {"error": "bad path"}, 400
        log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
        if request.path.startswith("/_dash-") or request.is_json:
            lang = _error_lang()
            return {"error": _ERROR_TEXT[lang][0]}, 500
        return friendly_error_page(_error_lang())


# --- compression --------------------------------------------------------------------------


def add_compression(server: Flask) -> None:
    from flask_compress import Compress

    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    server.config.setdefault("COMPRESS_BR_LEVEL", 4)  # fast enough per request
    server.config.setdefault("COMPRESS_LEVEL", 6)
    server.config.setdefault("COMPRESS_MIN_SIZE", 500)
    server.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
        "application/json", "application/geo+json", "image/svg+xml",
    ])
    Compress(server)


def harden(app) -> None:
    """Apply all of the above to a dash.Dash app (idempotent per server)."""
    server: Flask = app.server
    if server.extensions.get("skillnader_hardened"):
        return
    server.extensions["skillnader_hardened"] = True
    server.config["MAX_CONTENT_LENGTH"] = int(float(os.environ.get(ENV_MAX_MB, "6")) * 2**20)
    server.debug = debug_enabled()
    server.config["PROPAGATE_EXCEPTIONS"] = debug_enabled()
    add_security_headers(app, server)
    add_error_handler(server)
    add_compression(server)
    cache.init_app(server, config=cache_config())
