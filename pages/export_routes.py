"""Downloads of one chart and exactly the data behind it: GET /export/<chart>.<fmt>.

chart: map, ranking, trend, gap, profile; fmt: png, svg, csv, xlsx, pptx. Query parameters
are the pages' own (lang, indicator, year, division, sex, measure, districts, area) plus
preset=slide|square (images), scale=<0.5-3> (PNG) and v=<data version> (pinned numbers).

Errors are never 500: an unknown chart/format/preset/version or an invalid parameter is a
4xx with a JSON body naming the problem; a renderer timeout or crash is a 503 (the renderer
restarts itself on the next image and the app keeps serving).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from urllib.parse import quote

from flask import Flask, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from indicators.store import UnknownVersionError, base_store, get_store
from pages import export
from pages.chart_views import CHARTS, BadChartRequest, build_view, first_values
from pages.hardening import cache_is_shared, memoize
from pages.i18n import t

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "csv", "xlsx", "pptx")
MIMETYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
KNOWN_PARAMS = {"lang", "area", "indicator", "year", "division", "fixed", "district", "basemap",
                "sex", "measure", "districts", "preset", "scale", "v", "present"}
MAX_QUERY_CHARS = 4000
SCALE_RANGE = (0.5, 3.0)
CACHE_ITEMS = 64  # rendered files kept per process (images take 0.2-2 s to render)

_cache: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
_cache_lock = threading.Lock()


def _error(status: int, message: str, params: list[str] | None = None) -> Response:
    body = {"error": message, "status": status}
    if params:
        body["params"] = params
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _scale(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadChartRequest("scale must be a number", ["scale"]) from None
    if not SCALE_RANGE[0] <= value <= SCALE_RANGE[1]:  # also rejects nan and inf
        raise BadChartRequest(
            f"scale must be between {SCALE_RANGE[0]} and {SCALE_RANGE[1]}", ["scale"])
    return value


def _render(chart: str, fmt: str, args: MultiDict) -> tuple[bytes, str]:
    """(file bytes, file name); raises BadChartRequest, UnknownVersionError, RenderError."""
    unknown = sorted(k for k in args if k not in KNOWN_PARAMS)
    if unknown:
        raise BadChartRequest("unknown parameter(s): " + ", ".join(unknown)[:200], unknown[:10])
    for key, values in args.lists():
        if len(values) > 1 and key != "districts":
            raise BadChartRequest(f"parameter {key!r} given more than once", [key])
    preset = args.get("preset", "slide")
    if preset not in export.PRESETS:
        raise BadChartRequest(f"preset must be one of {', '.join(export.PRESETS)}", ["preset"])
    scale = _scale(args.get("scale"))
    store = get_store().pinned(args.get("v"))
    params = first_values(args)
    view = build_view(store, chart, params)
    if view.problems:
        raise BadChartRequest("invalid value(s) for: " + ", ".join(view.problems),
                              view.problems)
    meta = view.meta
    if fmt == "csv":
        return export.to_csv(view.table, meta), f"{chart}_" + export.filename(meta, "csv")
    if fmt == "xlsx":
        return export.to_xlsx(view.table, meta), f"{chart}_" + export.filename(meta, "xlsx")
    fig = _without_source_notes(view.figure)
    if chart == "profile":  # its legend sits in the page's title row: put it above the plot
        fig.update_layout(legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0,
                                  "yanchor": "bottom", "yref": "paper"})
    if fmt in ("png", "svg") and scale is not None:
        from pages import renderer

        p = export.PRESETS[preset]
        pf = export.presentation_figure(fig, preset, meta)
        data = renderer.get_renderer().render(pf, fmt, p.width, p.height,
                                              scale if fmt == "png" else 1)
    else:
        data = export.to_image(fig, "png" if fmt == "pptx" else fmt, preset, meta)
    if fmt == "pptx":
        return export.to_pptx(data, meta), f"{chart}_" + export.filename(meta, "pptx")
    suffix = "" if preset == "slide" else f"_{preset}"
    return data, f"{chart}_" + export.filename(meta, fmt).replace(f".{fmt}", f"{suffix}.{fmt}")


def _without_source_notes(fig):
    """The figure without the page's own source annotation: the exported image carries the
    full footnote (source, licence, division, data version) instead, in the same place."""
    import plotly.graph_objects as go

    spec = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
    layout = dict(spec.get("layout") or {})
    prefixes = tuple(f"{t('source', lang)}" for lang in ("sv", "en"))
    kept = []
    for ann in layout.get("annotations") or []:
        lines = str(ann.get("text", "")).split("<br>")
        if not lines[0].strip().removeprefix("<i>").startswith(prefixes):
            kept.append(ann)
            continue
        # drop the source sentence (which may wrap over lines); keep caveats after it
        end = next((i for i, line in enumerate(lines)
                    if line.rstrip().removesuffix("</i>").endswith(".")), len(lines) - 1)
        rest = lines[end + 1:]
        if rest:
            kept.append({**ann, "text": "<br>".join(rest)})
    layout["annotations"] = kept
    spec["layout"] = layout
    return go.Figure(spec)


@memoize
def _render_shared(chart: str, fmt: str, items: tuple) -> tuple[bytes, str]:
    """_render through the shared cache (Redis): one render for all workers and instances,
    keyed by chart, format, the full normalised query (`items`, sorted) and the data version.
    Errors are raised, never cached."""
    return _render(chart, fmt, MultiDict(list(items)))


def _render_cached(chart: str, fmt: str) -> tuple[bytes, str]:
    """Rendered files are cached only for the built data: a request whose store carries
    uploads (its session's or a share link's) may name `upload_*` indicators, or see them in
    a profile, so its files are rendered for it alone and never cached (another session must
    not get them by asking for the same URL)."""
    items = tuple(sorted(request.args.items(multi=True)))
    if get_store() is not base_store():
        return _render(chart, fmt, request.args)
    key = (chart, fmt, get_store().data_version, items)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    if cache_is_shared():
        value = _render_shared(chart, fmt, items)
    else:
        value = _render(chart, fmt, request.args)
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_ITEMS:
            _cache.popitem(last=False)
    return value


def serve_export(chart: str, fmt: str) -> Response:
    if chart not in CHARTS:
        return _error(404, f"unknown chart {chart[:40]!r}; one of {', '.join(CHARTS)}",
                      ["chart"])
    if fmt not in FORMATS:
        return _error(404, f"unknown format {fmt[:20]!r}; one of {', '.join(FORMATS)}", ["fmt"])
    if len(request.query_string) > MAX_QUERY_CHARS:
        return _error(414, f"query string longer than {MAX_QUERY_CHARS} characters")
    from pages.renderer import ImageSizeError, RenderError

    try:
        data, name = _render_cached(chart, fmt)
    except BadChartRequest as exc:
        return _error(400, str(exc), exc.params)
    except UnknownVersionError as exc:
        return _error(404, f"{exc}. Remove v= to get the current data "
                           f"(version {get_store().data_version}).", ["v"])
    except ImageSizeError as exc:
        return _error(400, str(exc), ["scale"])
    except RenderError as exc:
        log.warning("export %s.%s: %s", chart, fmt, exc)
        resp = _error(503, f"the image could not be rendered right now ({exc}); try again")
        resp.headers["Retry-After"] = "5"
        return resp
    except Exception:
        log.exception("export %s.%s failed", chart, fmt)
        return _error(500, "the export failed unexpectedly")
    resp = Response(data, mimetype=MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
    pinned = "v" in request.args
    resp.headers["Cache-Control"] = ("public, max-age=31536000, immutable" if pinned
                                     else "public, max-age=300")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def register(server: Flask) -> None:
    """Add the route to the Flask server (idempotent)."""
    if "skillnader_export" not in server.view_functions:
        server.add_url_rule("/export/<chart>.<fmt>", "skillnader_export", serve_export,
                            methods=["GET"])
