"""One chart of a page, rebuilt from query parameters: for downloads (/export) and embeds (/embed).

`build_view(store, chart, params)` validates the parameters with the pages' own parsers and
draws the chart with the pages' own figure builders, so a download or an embed shows exactly
what the page shows. It also returns the table of the data behind the chart and its `ChartMeta`.

Charts: map, ranking (map page), trend, gap (trends page), profile (compare page, one area).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from indicators.catalog import AREAS
from indicators.store import Store
from pages import compare_profile as cp
from pages import map_figures as mf
from pages import trends_logic as tl
from pages.export import ChartMeta, chart_meta, chart_sources, chart_table
from pages.i18n import DIVISION_LABELS, add_strings, t
from pages.state import memo, parse_map_state

CHARTS = ("map", "ranking", "trend", "gap", "profile")
# every query parameter a chart reads; others (preset, v, present, ...) are not its state
CHART_PARAMS = {
    "map": ("lang", "area", "indicator", "year", "division", "fixed", "district", "basemap"),
    "trend": ("lang", "area", "indicator", "division", "sex", "measure", "districts"),
    "profile": ("lang", "division", "districts", "area"),
}
CHART_PARAMS["ranking"] = CHART_PARAMS["map"]
CHART_PARAMS["gap"] = CHART_PARAMS["trend"]

add_strings({
    "cv_profile_unit": {"sv": "Index (staden = 100)", "en": "Index (city = 100)"},
    "cv_profile_title": {"sv": "{area}: {names} jämfört med staden",
                         "en": "{area}: {names} compared with the city"},
})


class BadChartRequest(ValueError):
    """Parameters that name no valid chart; `params` names the offending parameters."""

    def __init__(self, message: str, params: list[str] | None = None):
        super().__init__(message)
        self.params = params or []


@dataclass
class ChartView:
    chart: str
    figure: go.Figure | dict
    table: pd.DataFrame
    meta: ChartMeta
    lang: str
    source: str  # the source line shown under the chart
    query: dict[str, str]  # the canonical parameters of this view
    problems: list[str] = field(default_factory=list)  # parameters that were invalid


def first_values(args: Any) -> dict[str, object]:
    """A werkzeug MultiDict (or dict) as the pages' params: one value a key, a list when the key
    was repeated (the parsers treat lists as invalid where one value is expected)."""
    if hasattr(args, "lists"):
        return {k: (v[0] if len(v) == 1 else list(v)) for k, v in args.lists()}
    return dict(args)


def build_view(store: Store, chart: str, params: dict[str, object]) -> ChartView:
    if chart not in CHARTS:
        raise BadChartRequest(f"unknown chart {chart!r}; one of {', '.join(CHARTS)}", ["chart"])
    params = {k: v for k, v in params.items() if k in CHART_PARAMS[chart]}
    if chart in ("map", "ranking"):
        return _map_view(store, chart, params)
    if chart in ("trend", "gap"):
        return _trend_view(store, chart, params)
    return _profile_view(store, params)


# ------------------------------------------------------------------------------------- map


def _map_view(store: Store, chart: str, params: dict[str, object]) -> ChartView:
    state = parse_map_state(store, params)
    data = mf.map_data(store, state.indicator, state.division, state.year, state.lang,
                       state.fixed_bins)
    fig = (mf.export_map_figure(data, store) if chart == "map"
           else mf.ranking_figure(data, store))
    ind = store.catalog[state.indicator]
    table = chart_table(store, state.indicator, state.division, state.year)
    meta = chart_meta(store, state.indicator, state.division, state.year, state.lang)
    return ChartView(chart, fig, table, meta, state.lang, mf.source_short(store, ind, state.lang),
                     state.params(), list(state.problems))


# ------------------------------------------------------------------------------------- trends


def _trend_view(store: Store, chart: str, params: dict[str, object]) -> ChartView:
    state = tl.parse_trends_state(store, params)
    lang = state.lang
    ind = store.catalog[state.indicator]
    series = tl.district_series(store, state.indicator, state.division, state.sex)
    years = sorted(int(y) for y in series["year"].unique())
    src = tl.chart_source(store, ind, lang)
    query = dict(p.split("=", 1) for p in state.query().lstrip("?").split("&"))
    if chart == "trend":
        city = tl.city_series(store, state.indicator, state.sex, years)
        fig = tl.lines_figure(series, city, ind, state.division, state.sex, state.districts,
                              lang, footer=[src, *tl.chart_notes(ind, lang)])
        table = chart_table(store, state.indicator, state.division, years or None, state.sex)
        if len(city):
            c = chart_table(store, state.indicator, "city", years or None, state.sex)
            table = pd.concat([table, c], ignore_index=True)
        meta = chart_meta(store, state.indicator, state.division, years or [0], lang,
                          state.sex)
    else:
        ineq = tl.inequality_series(store, state.indicator, state.division, state.sex,
                                    state.measure)
        row = tl.verdict_row(store, state.indicator, state.division, state.sex)
        fig = tl.inequality_figure(ineq, state.measure, ind, state.division, state.sex, lang,
                                   verdict=tl.verdict_short(row, lang),
                                   footer=[src, *tl.gap_notes(ineq, lang)])
        label = tl.measure_label(state.measure, lang)
        table = ineq[["year", "value", "n_districts"]].assign(
            year=ineq["year"].astype(int), measure=state.measure, sex=state.sex)
        meta = chart_meta(store, state.indicator, state.division, years or [0], lang, state.sex)
        unit = {"range": meta.unit, "ratio": t("trends_times", lang)}.get(state.measure, label)
        meta = meta.model_copy(update={"title": f"{meta.title}: {label.lower()}", "unit": unit,
                                       "decimals": tl.measure_decimals(state.measure, ind)})
    return ChartView(chart, fig, table, meta, lang, src, query, list(state.problems))


# ------------------------------------------------------------------------------------- profile


def _profile_view(store: Store, params: dict[str, object]) -> ChartView:
    area = params.pop("area", None)
    state = cp.parse_compare_state(params)
    problems = list(state.problems)
    lang, division, districts = state.lang, state.division, list(state.districts)
    profile = memo(store, ("cv_profile", division),
                   lambda: cp.build_profile(store.indicators, store.catalog, division))
    rows_by_area = cp.select_rows(profile, store.catalog, districts)
    if area is not None and area not in AREAS:
        problems.append("area")
        area = None
    if area is None:
        area = next((a for a in AREAS if cp.chart_rows(rows_by_area.get(a, []))), next(iter(AREAS)))
    rows = rows_by_area.get(area, [])
    charted = list(dict.fromkeys(r.indicator_id for r in cp.chart_rows(rows)))
    fig = cp.area_figure(rows, area, districts, store.catalog, division, lang,
                         cp.source_names(charted, store.catalog, store.registry, lang))
    if fig is None:
        raise BadChartRequest(f"no comparable data for area {area!r} on {division}", ["area"])
    names = cp.join_names(districts, lang)
    recs = []
    for r in cp.chart_rows(rows):
        ind = store.catalog[r.indicator_id]
        for code, cell in r.cells.items():
            recs.append({"indicator_id": r.indicator_id, "indicator": ind.title.get(lang),
                         "sex": r.sex, "division": division, "district_code": code,
                         "district_name": cp.DISTRICT_NAMES.get(code, code), "year": r.year,
                         "value": cell.value, "city_value": r.city, "index": cell.index,
                         "coverage": cell.coverage, "indicator_unit": ind.unit.get(lang)})
    table = pd.DataFrame(recs)
    years = sorted({r.year for r in cp.chart_rows(rows)}) or [0]
    sources = [s for i in charted for s in chart_sources(store, store.catalog[i], years)]
    meta = ChartMeta(
        title=t("cv_profile_title", lang, area=AREAS[area][lang], names=names),
        unit=t("cv_profile_unit", lang), years=tuple(years), division=division,
        division_label=DIVISION_LABELS.get(division, {}).get(lang, division),
        sources=tuple(dict.fromkeys(sources)), data_version=store.data_version or "unknown",
        lang=lang, decimals=0,
    )
    source = f"{t('source', lang)}: " + "; ".join(
        cp.source_names(charted, store.catalog, store.registry, lang)) + "."
    query = {**state.query(), "area": area}
    return ChartView("profile", fig, table, meta, lang, source, query, problems)
