"""Map page (start page): one indicator, one year, one district division."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from indicators.catalog import AREAS
from indicators.store import get_store
from pages import figures, ids
from pages.i18n import DIVISION_LABELS, fmt_number, t
from pages.state import parse_map_state

dash.register_page(__name__, path="/", name="Karta", title="Skillnader: karta")


def _area_options(lang: str) -> list[dict]:
    store = get_store()
    present = {store.catalog[i].area for i in store.mappable_indicators()}
    return [{"value": a, "label": AREAS[a][lang]} for a in AREAS if a in present]


def _indicator_options(area: str, lang: str) -> list[dict]:
    store = get_store()
    return [
        {"value": i, "label": store.catalog[i].title.get(lang)}
        for i in store.mappable_indicators()
        if store.catalog[i].area == area
    ]


def _division_options(indicator: str, lang: str) -> list[dict]:
    store = get_store()
    return [
        {"value": d, "label": DIVISION_LABELS[d][lang]}
        for d in store.divisions(indicator)
        if store.years(indicator, d)
    ]


def _year_options(indicator: str, division: str) -> list[dict]:
    return [{"value": str(y), "label": str(y)} for y in get_store().years(indicator, division)]


def layout(**params: object) -> html.Div:
    store = get_store()
    state = parse_map_state(store, params)
    lang = state.lang
    notice = (
        dmc.Alert(t("notice_fallback", lang, what=", ".join(state.problems)), color="yellow",
                  id=ids.NOTICE, withCloseButton=True, mb="sm")
        if state.problems else html.Div(id=ids.NOTICE)
    )
    controls = dmc.SimpleGrid(
        cols={"base": 1, "sm": 2, "lg": 4},
        children=[
            dmc.Select(id=ids.MAP_AREA, label=t("area", lang), data=_area_options(lang),
                       value=state.area, allowDeselect=False),
            dmc.Select(id=ids.MAP_INDICATOR, label=t("indicator", lang),
                       data=_indicator_options(state.area, lang), value=state.indicator,
                       allowDeselect=False, searchable=True),
            dmc.Select(id=ids.MAP_YEAR, label=t("year", lang),
                       data=_year_options(state.indicator, state.division),
                       value=str(state.year), allowDeselect=False),
            dmc.Select(id=ids.MAP_DIVISION, label=t("division", lang),
                       data=_division_options(state.indicator, lang), value=state.division,
                       allowDeselect=False),
        ],
    )
    return html.Div(
        [
            dcc.Store(id="map-lang", data=lang),
            dcc.Store(id="map-url-sync"),
            notice,
            controls,
            dmc.Grid(
                [
                    dmc.GridCol(
                        dcc.Graph(id=ids.MAP_GRAPH, style={"height": "62vh"},
                                  config={"displaylogo": False}),
                        span={"base": 12, "md": 7},
                    ),
                    dmc.GridCol(
                        [
                            dmc.Paper(id=ids.MAP_GAP_TEXT, p="sm", withBorder=True, mb="sm"),
                            dcc.Graph(id=ids.MAP_RANKING, config={"displaylogo": False}),
                        ],
                        span={"base": 12, "md": 5},
                    ),
                ],
                mt="md",
            ),
            dmc.Text(id=ids.MAP_SOURCE, size="xs", c="dimmed", mt="xs"),
        ]
    )


@callback(
    Output(ids.MAP_INDICATOR, "data"),
    Output(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_AREA, "value"),
    State(ids.MAP_INDICATOR, "value"),
    State("map-lang", "data"),
    prevent_initial_call=True,
)
def _on_area(area: str, indicator: str, lang: str):
    options = _indicator_options(area, lang)
    values = [o["value"] for o in options]
    return options, indicator if indicator in values else (values[0] if values else None)


@callback(
    Output(ids.MAP_DIVISION, "data"),
    Output(ids.MAP_DIVISION, "value"),
    Output(ids.MAP_YEAR, "data"),
    Output(ids.MAP_YEAR, "value"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    State(ids.MAP_YEAR, "value"),
    State("map-lang", "data"),
    prevent_initial_call=True,
)
def _on_indicator(indicator: str, division: str, year: str, lang: str):
    divisions = _division_options(indicator, lang)
    codes = [d["value"] for d in divisions]
    if division not in codes:
        division = "sdo11" if "sdo11" in codes else codes[0]
    years = _year_options(indicator, division)
    values = [y["value"] for y in years]
    return divisions, division, years, year if year in values else values[-1]


@callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_RANKING, "figure"),
    Output(ids.MAP_GAP_TEXT, "children"),
    Output(ids.MAP_SOURCE, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    State("map-lang", "data"),
)
def _draw(indicator: str, year: str, division: str, lang: str):
    store = get_store()
    state = parse_map_state(
        store, {"indicator": indicator, "year": year, "division": division, "lang": lang}
    )
    ind = store.catalog[state.indicator]
    values = store.values(state.indicator, state.division)
    values = values[values["year"] == state.year]
    geo = store.geojson(state.division)
    codes = [f["id"] for f in geo["features"]]
    names = {f["id"]: f["properties"].get("name", f["id"]) for f in geo["features"]}
    city = store.city_value(state.indicator, state.year)
    fig = figures.choropleth(geo, values, codes, names, ind, state.year, state.division, lang, city)
    bars = figures.ranking_bars(values, ind, city, lang)
    return fig, bars, gap_sentence(state.indicator, state.division, state.year, lang), (
        source_text(state.indicator, lang)
    )


def gap_sentence(indicator: str, division: str, year: int, lang: str) -> list:
    store = get_store()
    ind = store.catalog[indicator]
    v = store.values(indicator, division)
    v = v[(v["year"] == year) & v["mappable"]]
    if len(v) < 2:
        return [dmc.Text(t("no_data", lang))]
    hi, lo = v.loc[v["value"].idxmax()], v.loc[v["value"].idxmin()]
    unit = ind.short_unit
    d = ind.decimals
    if lang == "en":
        text = (f"Highest: {hi['district_name']} ({fmt_number(hi['value'], d, lang)} {unit}); "
                f"lowest: {lo['district_name']} ({fmt_number(lo['value'], d, lang)} {unit}).")
    else:
        text = (f"Högst: {hi['district_name']} ({fmt_number(hi['value'], d, lang)} {unit}); "
                f"lägst: {lo['district_name']} ({fmt_number(lo['value'], d, lang)} {unit}).")
    out = [dmc.Text(text, size="sm")]
    if lo["value"] > 0:
        ratio = hi["value"] / lo["value"]
        out.append(dmc.Text(
            ("Max/min ratio: " if lang == "en" else "Kvot högst/lägst: ")
            + fmt_number(ratio, 2, lang), size="sm"))
    verdicts = store.verdicts
    vr = verdicts[(verdicts["indicator_id"] == indicator) & (verdicts["division"] == division)
                  & (verdicts["sex"] == "total")]
    if len(vr):
        r = vr.iloc[0]
        words = {
            "widening": ("Skillnaderna har ökat", "The gap has widened"),
            "narrowing": ("Skillnaderna har minskat", "The gap has narrowed"),
            "no clear change": ("Ingen tydlig förändring av skillnaderna",
                                "No clear change in the gap"),
            "too few years": ("För få år för att bedöma utvecklingen",
                              "Too few years to judge the trend"),
        }[r["verdict"]]
        span = f" {r['first_year']}–{r['last_year']}" if r["n_years"] > 1 else ""
        out.append(dmc.Text(words[1 if lang == "en" else 0] + span
                            + (" (befolkningsviktad variationskoefficient)." if lang == "sv"
                               else " (population-weighted coefficient of variation)."),
                            size="sm", fw=600))
    return out


def source_text(indicator: str, lang: str) -> str:
    store = get_store()
    ind = store.catalog[indicator]
    reg = store.registry
    cites = "; ".join(
        f"{reg[s].publisher.split(',')[0]}: {reg[s].title}" for s in ind.sources if s in reg.sources
    )
    notes = []
    if ind.source_division == "school":
        notes.append(t("schools_note", lang))
    if ind.aggregation.approximate:
        notes.append(t("approx_note", lang))
    notes.append(t("missing_note", lang))
    return f"{t('source', lang)}: {cites}. " + " ".join(notes)


clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="syncUrl"),
    Output("map-url-sync", "data"),
    Input(ids.MAP_AREA, "value"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    State("map-lang", "data"),
)

