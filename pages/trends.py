"""Trends page: how each district developed, and whether the differences between them grew.

All state lives in the query string (lang, area, indicator, division, sex, measure, districts):
the server sends the canonical query of each drawn view and the URL helper (assets/skillnader.js
syncQuery) writes it, so a view can be shared; back/forward come back as TRENDS_POP.
Logic: pages/trends_logic.py.
"""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from indicators.catalog import AREAS
from indicators.store import get_store
from pages import ids
from pages import trends_logic as tl
from pages.components import chart_card, data_table
from pages.i18n import DIVISION_LABELS, t
from pages.state import only_changed, params_from_search, search_of

dash.register_page(__name__, path="/trends", name="Skillnader över tid",
                   title="Skillnader: över tid")


# ----------------------------------------------------------------------------- options


def _area_options(lang: str) -> list[dict]:
    store = get_store()
    present = {store.catalog[i].area for i in tl.trend_indicators(store)}
    return [{"value": a, "label": AREAS[a][lang]} for a in AREAS if a in present]


def _indicator_options(area: str, lang: str) -> list[dict]:
    store = get_store()
    out = []
    for i in tl.trend_indicators(store):
        ind = store.catalog[i]
        if ind.area != area:
            continue
        divs = tl.trend_divisions(store, i)
        span = tl.year_span(tl.trend_years(store, i, divs[0])) if divs else ""
        out.append({"value": i, "label": f"{ind.title.get(lang)} ({span})" if span
                    else ind.title.get(lang)})
    return out


def _division_options(indicator: str, lang: str) -> list[dict]:
    store = get_store()
    return [{"value": d, "label": DIVISION_LABELS[d][lang]}
            for d in tl.trend_divisions(store, indicator)]


def _sex_options(indicator: str, division: str, lang: str) -> list[dict]:
    have = tl.trend_sexes(get_store(), indicator, division)
    return [{"value": s, "label": tl.sex_label(s, lang), "disabled": s not in have}
            for s in tl.SEXES]


def _district_options(division: str) -> list[dict]:
    names = tl.district_names(get_store(), division)
    return [{"value": c, "label": n} for c, n in sorted(names.items(), key=lambda kv: kv[1])]


def _measure_options(lang: str) -> list[dict]:
    return [{"value": m, "label": tl.measure_label(m, lang)} for m in tl.MEASURES]


# ----------------------------------------------------------------------------- layout


def layout(**params: object) -> html.Div:
    store = get_store()
    state = tl.parse_trends_state(store, params)
    lang = state.lang
    notice = (
        dmc.Alert(tl.notice_text(state.problems, lang), color="yellow",
                  id=ids.NOTICE, withCloseButton=True, mb="sm")
        if state.problems else html.Div(id=ids.NOTICE)
    )
    controls = dmc.SimpleGrid(
        cols={"base": 1, "sm": 2, "lg": 4},
        children=[
            dmc.Select(id=ids.TRENDS_AREA, label=t("area", lang), data=_area_options(lang),
                       value=state.area, allowDeselect=False),
            dmc.Select(id=ids.TRENDS_INDICATOR, label=t("indicator", lang),
                       data=_indicator_options(state.area, lang), value=state.indicator,
                       allowDeselect=False, searchable=True),
            dmc.Select(id=ids.TRENDS_DIVISION, label=t("division", lang),
                       data=_division_options(state.indicator, lang), value=state.division,
                       allowDeselect=False),
            dmc.Stack([
                dmc.Text(t("trends_sex", lang), size="sm", fw=500),
                dmc.SegmentedControl(id=ids.TRENDS_SEX,
                                     data=_sex_options(state.indicator, state.division, lang),
                                     value=state.sex, fullWidth=True),
            ], gap=2),
        ],
    )
    districts = dmc.MultiSelect(
        id=ids.TRENDS_DISTRICTS, label=t("trends_districts", lang),
        description=t("trends_districts_help", lang),
        placeholder=t("trends_districts_placeholder", lang),
        data=_district_options(state.division), value=list(state.districts),
        maxValues=tl.MAX_SELECTED, clearable=True, searchable=True, mt="md", mb="sm",
    )
    measure = dmc.Select(
        id=ids.TRENDS_MEASURE, label=t("trends_measure", lang), data=_measure_options(lang),
        value=state.measure, allowDeselect=False, maw=460,
    )
    return html.Div(
        [
            dcc.Store(id=ids.TRENDS_LANG, data=lang),
            dcc.Store(id=ids.TRENDS_QUERY),
            dcc.Store(id=ids.TRENDS_WIDTH),
            dcc.Store(id=ids.TRENDS_URL_MODE),
            dcc.Store(id=ids.TRENDS_POP),
            dcc.Store(id=ids.TRENDS_LEGEND_SINK, data={
                "graph": ids.TRENDS_LINES, "select": ids.TRENDS_DISTRICTS,
                "max": tl.MAX_SELECTED}),
            notice,
            dmc.Title(t("trends_heading", lang), order=2, mb=4),
            dmc.Text(t("trends_intro", lang), size="sm", c="dimmed", mb="md"),
            controls,
            html.Div(id=ids.TRENDS_NOTES, style={"marginTop": "12px"}),
            districts,
            chart_card(ids.TRENDS_LINES, ids.TRENDS_LINES_TABLE, ids.TRENDS_LINES_SOURCE,
                       height="600px", chart="trend", lang=lang),
            dmc.Title(t("trends_ineq_heading", lang), order=3, mt="xl", mb="xs"),
            dmc.Grid(
                [
                    dmc.GridCol([
                        measure,
                        dmc.Text(id=ids.TRENDS_MEASURE_HELP, size="xs", c="dimmed", mt=4),
                    ], span={"base": 12, "md": 5}),
                    dmc.GridCol(html.Div(id=ids.TRENDS_VERDICT), span={"base": 12, "md": 7}),
                ],
                mb="sm",
            ),
            chart_card(ids.TRENDS_INEQ, ids.TRENDS_INEQ_TABLE, ids.TRENDS_INEQ_SOURCE,
                       height="430px", chart="gap", lang=lang),
        ]
    )


# ----------------------------------------------------------------------------- callbacks


@callback(
    Output(ids.TRENDS_INDICATOR, "data"),
    Output(ids.TRENDS_INDICATOR, "value"),
    Input(ids.TRENDS_AREA, "value"),
    State(ids.TRENDS_INDICATOR, "value"),
    State(ids.TRENDS_LANG, "data"),
    prevent_initial_call=True,
)
def _on_area(area: str, indicator: str, lang: str):
    options = _indicator_options(area, lang)
    values = [o["value"] for o in options]
    if not values:
        return dash.no_update, dash.no_update
    return options, indicator if indicator in values else values[0]


@callback(
    Output(ids.TRENDS_DIVISION, "data"),
    Output(ids.TRENDS_DIVISION, "value"),
    Output(ids.TRENDS_SEX, "data"),
    Output(ids.TRENDS_SEX, "value"),
    Output(ids.TRENDS_DISTRICTS, "data"),
    Output(ids.TRENDS_DISTRICTS, "value"),
    Input(ids.TRENDS_INDICATOR, "value"),
    Input(ids.TRENDS_DIVISION, "value"),
    State(ids.TRENDS_SEX, "value"),
    State(ids.TRENDS_DISTRICTS, "value"),
    State(ids.TRENDS_LANG, "data"),
    prevent_initial_call=True,
)
def _on_indicator(indicator: str, division: str, sex: str, districts: list | None, lang: str):
    store = get_store()
    state = tl.parse_trends_state(store, {
        "indicator": indicator, "division": division, "sex": sex, "lang": lang,
        "districts": [c for c in (districts or []) if isinstance(c, str)],
    })
    kept = list(state.districts)
    if districts and not kept:  # none of the highlighted districts exists in this division
        kept = list(tl.default_districts(store, state.indicator, state.division, state.sex))
    lang = state.lang if hasattr(state, "lang") else ("en" if lang == "en" else "sv")
    return (
        _division_options(state.indicator, lang), state.division,
        _sex_options(state.indicator, state.division, lang), state.sex,
        _district_options(state.division), kept,
    )


@callback(
    Output(ids.TRENDS_LINES, "figure"),
    Output(ids.TRENDS_LINES_TABLE, "children"),
    Output(ids.TRENDS_LINES_SOURCE, "children"),
    Output(f"{ids.TRENDS_LINES_TABLE}-label", "children"),
    Output(ids.TRENDS_INEQ, "figure"),
    Output(ids.TRENDS_INEQ_TABLE, "children"),
    Output(ids.TRENDS_INEQ_SOURCE, "children"),
    Output(f"{ids.TRENDS_INEQ_TABLE}-label", "children"),
    Output(ids.TRENDS_VERDICT, "children"),
    Output(ids.TRENDS_NOTES, "children"),
    Output(ids.TRENDS_MEASURE_HELP, "children"),
    Output(ids.TRENDS_QUERY, "data"),
    Output(ids.TRENDS_LINES, "style"),
    Input(ids.TRENDS_INDICATOR, "value"),
    Input(ids.TRENDS_DIVISION, "value"),
    Input(ids.TRENDS_SEX, "value"),
    Input(ids.TRENDS_DISTRICTS, "value"),
    Input(ids.TRENDS_MEASURE, "value"),
    Input(ids.TRENDS_WIDTH, "data"),
    State(ids.TRENDS_LANG, "data"),
)
def _draw(indicator, division, sex, districts, measure, width, lang):
    store = get_store()
    state = tl.parse_trends_state(store, {
        "indicator": indicator, "division": division, "sex": sex, "measure": measure,
        "lang": lang,
        "districts": [c for c in (districts or []) if isinstance(c, str)],
    })
    width = int(width) if isinstance(width, int | float) and 200 <= width <= 10000 else None
    narrow = width is not None and width < tl.NARROW
    return (*draw(state, width), {"height": "760px" if narrow else "600px"})


def draw(state: tl.TrendsState, width: int | None = None) -> tuple:
    """Everything the page shows for one validated state; `width` is the browser window's."""
    store = get_store()
    lang = state.lang
    ind = store.catalog[state.indicator]
    series = tl.district_series(store, state.indicator, state.division, state.sex)
    years = sorted(int(y) for y in series["year"].unique())
    city = tl.city_series(store, state.indicator, state.sex, years)
    chart_source = tl.chart_source(store, ind, lang)
    lines = tl.lines_figure(series, city, ind, state.division, state.sex, state.districts,
                            lang, footer=[chart_source, *tl.chart_notes(ind, lang)],
                            width=width)
    lines_df = tl.lines_table_frame(series, city, lang)
    year_cols = [c for c in lines_df.columns if c != "district_name"]
    lines_table = dmc.TableScrollContainer(
        data_table(lines_df, {"district_name": t("district", lang)} | {c: c for c in year_cols},
                   dict.fromkeys(year_cols, ind.decimals), lang),
        minWidth=max(600, 140 + 72 * len(year_cols)),
    )

    ineq = tl.inequality_series(store, state.indicator, state.division, state.sex,
                                state.measure)
    row = tl.verdict_row(store, state.indicator, state.division, state.sex)
    gaps = tl.gap_notes(ineq, lang)
    ineq_fig = tl.inequality_figure(
        ineq, state.measure, ind, state.division, state.sex, lang,
        verdict=tl.verdict_short(row, lang), footer=[chart_source, *gaps], width=width,
    )
    d = tl.measure_decimals(state.measure, ind)
    ineq_table = data_table(
        tl.inequality_table_frame(ineq),
        {"year": t("trends_year", lang), "value": tl.measure_label(state.measure, lang),
         "n_districts": t("trends_n_districts", lang)},
        {"value": d}, lang,
    )
    source = tl.source_text(store, ind, lang) + " " + t("trends_source_note", lang)
    return (
        lines, lines_table, source, t("trends_lines_table", lang),
        ineq_fig, ineq_table, source, t("trends_ineq_table", lang),
        _verdict_block(row, state.measure, gaps, lang),
        _notes_block(tl.data_notes(ind, state.division, years, lang), lang),
        t(f"trends_measure_{state.measure}_help", lang),
        {"query": state.query(), "root": ids.TRENDS_INDICATOR, "sink": ids.TRENDS_POP},
    )


def _verdict_block(row: dict | None, measure: str, gaps: list[str], lang: str) -> dmc.Paper:
    headline, detail, rule = tl.verdict_sentences(row, lang)
    colour = {"widening": "orange", "narrowing": "violet"}.get(
        row["verdict"] if row else "", "gray")
    parts = [dmc.Text(headline, fw=700, size="md")]
    if detail:
        parts.append(dmc.Text(detail, size="sm"))
    parts += [dmc.Text(g, size="sm", c="dimmed") for g in gaps]
    parts.append(dmc.Text(rule, size="xs", c="dimmed"))
    if measure != "cv":
        parts.append(dmc.Text(t("trends_verdict_on_cv", lang), size="xs", c="dimmed"))
    return dmc.Paper(dmc.Stack(parts, gap=4), p="sm", withBorder=True,
                     style={"borderLeft": f"4px solid var(--mantine-color-{colour}-6)"},
                     **{"aria-live": "polite"})


def _notes_block(notes: list[str], lang: str) -> dmc.Alert:
    return dmc.Alert(
        html.Ul([html.Li(n) for n in notes], style={"margin": 0, "paddingLeft": "1.1em"}),
        title=t("trends_notes_title", lang), color="blue", variant="light", p="xs",
    )


clientside_callback(  # the window width once per page render, before the first drawing
    "function (lang) { return window.innerWidth; }",
    Output(ids.TRENDS_WIDTH, "data"),
    Input(ids.TRENDS_LANG, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="syncQuery"),
    Output(ids.TRENDS_URL_MODE, "data"),
    Input(ids.TRENDS_QUERY, "data"),
    State(ids.TRENDS_URL_MODE, "data"),
)


@callback(
    Output(ids.TRENDS_AREA, "value"),
    Output(ids.TRENDS_INDICATOR, "value", allow_duplicate=True),
    Output(ids.TRENDS_DIVISION, "value", allow_duplicate=True),
    Output(ids.TRENDS_SEX, "value", allow_duplicate=True),
    Output(ids.TRENDS_DISTRICTS, "value", allow_duplicate=True),
    Output(ids.TRENDS_MEASURE, "value"),
    Input(ids.TRENDS_POP, "data"),
    State(ids.TRENDS_AREA, "value"),
    State(ids.TRENDS_INDICATOR, "value"),
    State(ids.TRENDS_DIVISION, "value"),
    State(ids.TRENDS_SEX, "value"),
    State(ids.TRENDS_DISTRICTS, "value"),
    State(ids.TRENDS_MEASURE, "value"),
    prevent_initial_call=True,
)
def _from_url(pop, *current):
    """Back/forward: set the controls that differ from the URL; the page follows them."""
    s = tl.parse_trends_state(get_store(), params_from_search(search_of(pop)))
    new = (s.area, s.indicator, s.division, s.sex, list(s.districts), s.measure)
    return only_changed(new, current)

clientside_callback(
    ClientsideFunction(namespace="trends", function_name="bindLegend"),
    Output(ids.TRENDS_LEGEND_SINK, "data"),
    Input(ids.TRENDS_LINES, "figure"),
    State(ids.TRENDS_DISTRICTS, "value"),
    State(ids.TRENDS_LEGEND_SINK, "data"),
)
