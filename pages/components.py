"""Building blocks every page shares: the chart card (title, figure, source line, table view)
and the data table. One implementation each, so every chart explains itself the same way."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
import pandas as pd
from dash import MATCH, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from pages.i18n import add_strings, fmt_number, t

add_strings({
    "show_table": {"sv": "Visa data som tabell", "en": "Show data as a table"},
    "district": {"sv": "Område", "en": "Area"},
    "value": {"sv": "Värde", "en": "Value"},
    "coverage": {"sv": "Täckning", "en": "Coverage"},
    "xp_menu": {"sv": "Ladda ner / dela", "en": "Download / share"},
    "xp_png": {"sv": "PNG 16:9 (bild för presentation)", "en": "PNG 16:9 (slide image)"},
    "xp_square": {"sv": "PNG kvadratisk", "en": "PNG square"},
    "xp_svg": {"sv": "SVG (skalbar bild)", "en": "SVG (scalable image)"},
    "xp_csv": {"sv": "CSV (data)", "en": "CSV (data)"},
    "xp_xlsx": {"sv": "Excel (data)", "en": "Excel (data)"},
    "xp_pptx": {"sv": "PowerPoint-bild", "en": "PowerPoint slide"},
    "xp_share": {"sv": "Dela", "en": "Share"},
    "xp_share_title": {"sv": "Dela diagrammet", "en": "Share the chart"},
    "xp_pin": {"sv": "Lås dataversionen (länken visar alltid samma siffror)",
               "en": "Pin the data version (the link always shows the same numbers)"},
    "xp_page_link": {"sv": "Länk till sidan", "en": "Link to the page"},
    "xp_embed_link": {"sv": "Länk för inbäddning", "en": "Embed link"},
    "xp_iframe": {"sv": "Kod för inbäddning (iframe)", "en": "Embed code (iframe)"},
})

# Chart -> the embed route that shows it (the ranking is embedded as its map).
EMBED_OF = {"map": "map", "ranking": "map", "trend": "trend", "gap": "gap",
            "profile": "profile"}
EXPORT_ITEMS = ("png", "square", "svg", "csv", "xlsx", "pptx")
# the page parameters a chart's links carry (anything else in the address is left out)
LINK_PARAMS = ("lang", "area", "indicator", "year", "division", "fixed", "district", "sex",
               "measure", "districts")


def _xid(kind: str, graph_id: str) -> dict:
    return {"type": f"xp-{kind}", "index": graph_id}


def export_menu(graph_id: str, chart: str, lang: str = "sv",
                extra: dict[str, str] | None = None) -> html.Div:
    """Download/share menu of one chart: PNG 16:9 and square, SVG, CSV, XLSX, PowerPoint (links
    to /export/<chart>.<fmt> with the page's current query) and a Share dialog (page link, embed
    link, iframe code, optionally pinned to the data version). assets/share.js fills the links
    from the address bar when the menu opens, so they always match what is on screen."""
    from indicators.store import get_store

    cfg = {
        "chart": chart, "export": dash.get_relative_path("/export/"),
        "embed": dash.get_relative_path(f"/embed/{EMBED_OF[chart]}"),
        "version": get_store().data_version, "extra": extra or {}, "params": LINK_PARAMS,
        "title": t("exp_app", lang),  # the iframe's accessible name
    }
    items = [dmc.MenuItem(t(f"xp_{k}", lang), id=_xid(k, graph_id), href="#", refresh=True)
             for k in EXPORT_ITEMS]
    return html.Div([
        dcc.Store(id=_xid("cfg", graph_id), data=cfg),
        dmc.Menu([
            dmc.MenuTarget(dmc.Button(t("xp_menu", lang), id=_xid("btn", graph_id),
                                      size="compact-xs", variant="light")),
            dmc.MenuDropdown([*items, dmc.MenuDivider(),
                              dmc.MenuItem(t("xp_share", lang) + " …",
                                           id=_xid("share", graph_id))]),
        ], position="bottom-end", shadow="md", keepMounted=True),
        dmc.Modal(
            dmc.Stack([
                dmc.Checkbox(id=_xid("pin", graph_id), label=t("xp_pin", lang), checked=False),
                dmc.TextInput(id=_xid("page", graph_id), label=t("xp_page_link", lang),
                              readOnly=True),
                dmc.TextInput(id=_xid("embed", graph_id), label=t("xp_embed_link", lang),
                              readOnly=True),
                dmc.Textarea(id=_xid("iframe", graph_id), label=t("xp_iframe", lang),
                             readOnly=True, autosize=True, minRows=3),
            ], gap="sm"),
            id=_xid("modal", graph_id), title=t("xp_share_title", lang), size="lg",
        ),
    ], className="export-menu", style={"display": "flex", "justifyContent": "flex-end"})


clientside_callback(
    ClientsideFunction(namespace="skillnaderShare", function_name="links"),
    *(Output(_xid(k, MATCH), "href") for k in EXPORT_ITEMS),
    Output(_xid("modal", MATCH), "opened"),
    Output(_xid("page", MATCH), "value"),
    Output(_xid("embed", MATCH), "value"),
    Output(_xid("iframe", MATCH), "value"),
    Input(_xid("btn", MATCH), "n_clicks"),
    Input(_xid("share", MATCH), "n_clicks"),
    Input(_xid("pin", MATCH), "checked"),
    State(_xid("cfg", MATCH), "data"),
)


def chart_card(graph_id: str, table_id: str, source_id: str, height: str = "60vh",
               chart: str | None = None, lang: str = "sv",
               extra: dict[str, str] | None = None) -> dmc.Paper:
    """A figure with its source line and a collapsible table of exactly the data behind it;
    with `chart` (map, ranking, trend, gap, profile) also the download/share menu."""
    return dmc.Paper(
        [
            *([export_menu(graph_id, chart, lang, extra)] if chart else []),
            dcc.Graph(id=graph_id, style={"height": height},
                      config={"displaylogo": False, "responsive": True}),
            dmc.Text(id=source_id, size="xs", c="dimmed", mt=4),
            dmc.Accordion(
                [dmc.AccordionItem(
                    [dmc.AccordionControl(html.Span(id=f"{table_id}-label")),
                     dmc.AccordionPanel(html.Div(id=table_id))],
                    value="table",
                )],
                id=f"{table_id}-accordion",  # value "table" when open: build the table lazily
                variant="contained", mt="xs",
            ),
        ],
        p="xs", withBorder=True,
    )


def data_table(df: pd.DataFrame, columns: dict[str, str], decimals: dict[str, int],
               lang: str, max_rows: int = 500) -> dmc.Table:
    """A plain, accessible table (<table> with a header row); numbers formatted per language.

    columns: dataframe column -> header text; decimals: column -> decimals for numbers.
    """
    head = dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in columns.values()]))
    rows = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in columns:
            v = r[c]
            if c in decimals:
                v = fmt_number(None if pd.isna(v) else float(v), decimals[c], lang)
            cells.append(dmc.TableTd(str(v)))
        rows.append(dmc.TableTr(cells))
    return dmc.Table([head, dmc.TableTbody(rows)], striped=True, highlightOnHover=True,
                     withTableBorder=True, fz="sm")


__all__ = ["chart_card", "data_table", "export_menu", "t"]
