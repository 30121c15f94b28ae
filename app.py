"""Skillnader: the Dash app. `uv run skillnader serve` or `gunicorn app:server`.

The built data (data/build) is loaded once per process; if no complete build exists the first
start builds it from the registered sources, later starts only load it.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import dash
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

from indicators.store import get_store
from pages import export_routes, ids
from pages.hardening import debug_enabled, harden
from pages.i18n import add_strings, t

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
get_store()  # load (or build once) before serving, not inside the first request

app = dash.Dash(
    __name__,
    use_pages=True,
    pages_folder="pages",
    title="Skillnader",
    suppress_callback_exceptions=True,
    serve_locally=True,
)
server = app.server
harden(app)  # security headers, size limit, compression, cache, friendly errors
export_routes.register(server)  # GET /export/<chart>.<fmt>: chart downloads


# path -> UI string key of the nav label; the pages register themselves in pages/
NAV = {"/": "nav_map", "/trends": "nav_trends", "/compare": "nav_compare", "/data": "nav_data",
       "/upload": "nav_upload"}  # nav_upload: pages/upload.py
add_strings({
    "nav_map": {"sv": "Karta", "en": "Map"},
    "nav_trends": {"sv": "Skillnader över tid", "en": "Differences over time"},
    "nav_compare": {"sv": "Jämför stadsdelar", "en": "Compare districts"},
    "nav_data": {"sv": "Data och källor", "en": "Data and sources"},
})


def _header() -> dmc.Group:
    return dmc.Group(
        [
            html.Div(
                [
                    dmc.Title(html.Span(id="app-title"), order=3),
                    dmc.Text(id="app-subtitle", size="sm", c="dimmed"),
                ]
            ),
            html.Nav(
                dmc.Group([dmc.Anchor(id=f"nav-{i}", href=p, fw=600)
                           for i, p in enumerate(NAV)], gap="lg"),
                **{"aria-label": "Huvudmeny / Main menu"},
            ),
            dmc.SegmentedControl(
                id=ids.LANG_SWITCH,
                data=[{"value": "sv", "label": "Svenska"}, {"value": "en", "label": "English"}],
                value="sv",
                size="xs",
            ),
        ],
        justify="space-between",
        p="md",
        id="app-header",
    )


app.layout = dmc.MantineProvider(
    [
        dcc.Location(id=ids.URL),
        dcc.Store(id="lang-sink"),
        _header(),
        dmc.Container(dash.page_container, fluid=True, px="md", pb="xl", id="app-shell"),
    ]
)


@app.callback(
    Output("app-title", "children"),
    Output("app-subtitle", "children"),
    Output(ids.LANG_SWITCH, "value"),
    *(Output(f"nav-{i}", "children") for i in range(len(NAV))),
    *(Output(f"nav-{i}", "href") for i in range(len(NAV))),
    Input(ids.URL, "search"),
)
def _header_language(search: str | None):
    lang = parse_qs((search or "").lstrip("?")).get("lang", ["sv"])[0]
    lang = "en" if lang == "en" else "sv"
    labels = [t(key, lang) for key in NAV.values()]
    hrefs = [f"{path}?lang={lang}" for path in NAV]
    return (t("app_title", lang), t("app_subtitle", lang), lang, *labels, *hrefs)


clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="switchLang"),
    Output("lang-sink", "data"),
    Input(ids.LANG_SWITCH, "value"),
    prevent_initial_call=True,
)

# /embed/*: no header; ?present=1: presentation mode (assets/present.css, assets/share.js)
clientside_callback(
    ClientsideFunction(namespace="skillnaderShare", function_name="shell"),
    Output("app-header", "style"),
    Output("app-shell", "className"),
    Input(ids.URL, "pathname"),
    Input(ids.URL, "search"),
)

if __name__ == "__main__":
    app.run(debug=debug_enabled())
