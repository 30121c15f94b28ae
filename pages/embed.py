"""Embeds: /embed/map, /embed/trend, /embed/gap, /embed/profile show one chart for an <iframe>.

Minimal chrome (title, chart, source line; app.py hides its header on /embed/*), sized to the
frame (100vw x 100vh, assets/present.css). All state comes from the query string, with the
same parameters as the full pages (pages/chart_views.py validates and draws with the pages' own
builders); v=<data version> shows a pinned build's numbers. An unknown version or an invalid
value shows a short notice and the nearest valid view, never an error page.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

import dash
from dash import dcc, html

from indicators.store import UnknownVersionError, get_store
from pages.chart_views import BadChartRequest, build_view
from pages.i18n import add_strings, t

EMBEDS = {"map": "/", "trend": "/trends", "gap": "/trends", "profile": "/compare"}

add_strings({
    "embed_version_unknown": {
        "sv": "Den låsta dataversionen finns inte längre; visar aktuella data.",
        "en": "The pinned data version is no longer kept; showing the current data.",
    },
    "embed_invalid": {
        "sv": "Länken innehöll ogiltiga val ({what}); visar närmaste giltiga vy.",
        "en": "The link had invalid choices ({what}); showing the nearest valid view.",
    },
    "embed_open_full": {"sv": "Öppna i Skillnader", "en": "Open in Skillnader"},
    "embed_no_chart": {"sv": "Det finns inget diagram för de här valen.",
                       "en": "There is no chart for these choices."},
    "embed_version": {"sv": "dataversion", "en": "data version"},
})


def _figure_for_frame(fig) -> dict:
    """The page's figure, sized by its container instead of fixed pixels; the title is shown
    above it as text (one title, readable at any frame size)."""
    spec = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
    lay = dict(spec.get("layout") or {})
    for key in ("height", "width"):
        lay.pop(key, None)
    lay["autosize"] = True
    lay["title"] = {"text": ""}
    margin = dict(lay.get("margin") or {})
    margin["t"] = 8
    lay["margin"] = margin
    spec["layout"] = lay
    return spec


def _sourced(text: str, lang: str) -> str:
    text = text.strip().rstrip(".") + "."
    prefix = t("source", lang)
    return text if text.startswith(prefix) else f"{prefix}: {text}"


def embed_layout(chart: str, **params: object) -> html.Div:
    store = get_store()
    notices: list[str] = []
    version = params.pop("v", None)
    lang = params.get("lang") if params.get("lang") in ("sv", "en") else "sv"
    try:
        data = store.pinned(version if isinstance(version, str) else None)
        if version is not None and not isinstance(version, str):
            raise UnknownVersionError("repeated v")
    except UnknownVersionError:
        data = store
        notices.append(t("embed_version_unknown", lang))
    try:
        view = build_view(data, chart, dict(params))
    except BadChartRequest:
        return html.Div(html.P(t("embed_no_chart", lang)), className="embed-root")
    lang = view.lang
    if view.problems:
        notices.append(t("embed_invalid", lang, what=", ".join(view.problems)))
    meta = view.meta
    query = dict(view.query)
    if data is not store:
        query["v"] = data.data_version
    full = dash.get_relative_path(EMBEDS[chart]) + "?" + urlencode(query)
    return html.Div(
        [
            *[html.Div(n, className="embed-notice", role="status") for n in notices],
            html.H1(f"{meta.title}, {meta.year_label}", className="embed-title"),
            dcc.Graph(
                figure=_figure_for_frame(view.figure), className="embed-graph",
                style={"height": "100%", "width": "100%"},
                config={"displaylogo": False, "responsive": True,
                        "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
            ),
            html.Div(
                [
                    f"{_sourced(view.source, lang)} {meta.division_label}. "
                    f"{t('embed_version', lang)} {meta.data_version}. ",
                    html.A(t("embed_open_full", lang), href=full, target="_blank",
                           rel="noopener"),
                ],
                className="embed-source",
            ),
        ],
        className="embed-root", **{"data-chart": chart, "data-version": meta.data_version},
    )


for _chart in EMBEDS:
    dash.register_page(
        f"{__name__}_{_chart}", path=f"/embed/{_chart}", name=f"Embed {_chart}",
        title=f"Skillnader: {_chart}", layout=partial(embed_layout, _chart),
    )
