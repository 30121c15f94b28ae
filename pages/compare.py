"""Compare districts: a profile of one to four districts against the city, all five areas.

URL contract (the map page links here): /compare?districts=jarva,bromma&division=sdo11&lang=sv
The builders live in pages/compare_profile.py (pure, tested without a server); this module is
the page: layout, the one callback and the URL state (assets/skillnader.js syncQuery writes it;
back/forward come back as COMPARE_POP and set the controls).
"""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from indicators.catalog import AREAS
from indicators.store import get_store
from pages import ids
from pages.compare_profile import (
    DIVISIONS,
    DivisionProfile,
    area_figure,
    area_table,
    build_profile,
    chart_rows,
    district_options,
    map_districts,
    notice_texts,
    parse_compare_state,
    select_rows,
    source_names,
)
from pages.components import export_menu
from pages.i18n import DIVISION_LABELS, t
from pages.state import memo, only_changed, params_from_search, search_of

dash.register_page(__name__, path="/compare", name="Jämför stadsdelar",
                   title="Skillnader: jämför stadsdelar", order=2)


def profile_for(division: str) -> DivisionProfile:
    """Built once per division and store (the built one, or a session's overlay with uploads)."""
    store = get_store()
    return memo(store, ("compare_profile", division),
                lambda: build_profile(store.indicators, store.catalog, division))


# Per area the page has fixed components, updated in place by the callback (a graph whose
# figure changes is redrawn with Plotly.react instead of being mounted anew).
PARTS = ("figure", "graph_style", "chart_style", "nochart_style", "table", "sources", "missing")


def _pid(part: str, area: str) -> str:
    return f"compare-{part}-{area}"


GRAPH_ID = "compare-graph-{area}"
SHOWN, HIDDEN = {}, {"display": "none"}


def area_parts(division: str, districts: list[str], lang: str) -> dict[str, dict]:
    """Everything the page shows per area for a selection (the profile is cached per division;
    this only indexes it and formats: tens of milliseconds for four districts)."""
    store = get_store()
    catalog, reg = store.catalog, store.registry
    profile = profile_for(division)
    rows_by_area = select_rows(profile, catalog, districts) if districts else {}
    out = {}
    for area in AREAS:
        rows = rows_by_area.get(area, [])
        used = list(dict.fromkeys(r.indicator_id for r in rows))
        charted = list(dict.fromkeys(r.indicator_id for r in chart_rows(rows)))
        fig = area_figure(rows, area, districts, catalog, division, lang,
                          source_names(charted, catalog, reg, lang)) if rows else None
        missing = profile.without_data.get(area, [])
        out[area] = {
            "figure": fig or {"data": [], "layout": {"height": 100}},
            "graph_style": {"height": f"{fig['layout']['height'] if fig else 100}px"},
            "chart_style": SHOWN if fig else HIDDEN,
            "nochart_style": HIDDEN if fig or not districts else SHOWN,
            "table": area_table(rows, districts, catalog, lang) if rows else None,
            "sources": (f"{t('source', lang)}: "
                        + "; ".join(source_names(used, catalog, reg, lang, full=True)) + "."
                        if rows else ""),
            "missing": (t("cmp_no_data_division", lang,
                          names="; ".join(catalog[i].title.get(lang) for i in missing))
                        if missing else ""),
        }
    return out


def _section(area: str, parts: dict, lang: str) -> html.Section:
    fig = parts["figure"]
    return html.Section(
        [
            dmc.Title(AREAS[area][lang], order=3, mt="xl", mb="xs", id=f"cmp-{area}"),
            dmc.Paper([
                export_menu(GRAPH_ID.format(area=area), "profile", lang, {"area": area}),
                dcc.Graph(
                    id=GRAPH_ID.format(area=area), figure=fig, style=parts["graph_style"],
                    config={"displaylogo": False, "responsive": True,
                            "toImageButtonOptions": {"format": "png", "scale": 2,
                                                     "filename": f"skillnader_{area}"}},
                )],
                id=_pid("chart", area), style=parts["chart_style"], p="xs", withBorder=True,
                mb="sm",
            ),
            dmc.Text(t("cmp_no_chart", lang), id=_pid("nochart", area), size="sm", c="dimmed",
                     mb="xs", style=parts["nochart_style"]),
            html.Div(parts["table"], id=_pid("table", area)),
            dmc.Text(parts["sources"], id=_pid("sources", area), size="xs", c="dimmed", mt=4),
            dmc.Text(parts["missing"], id=_pid("missing", area), size="xs", c="dimmed",
                     mt="xs"),
        ],
        **{"data-area": area, "aria-labelledby": f"cmp-{area}"},
    )


def _outputs() -> list[Output]:
    out = []
    for area in AREAS:
        out += [
            Output(GRAPH_ID.format(area=area), "figure"),
            Output(GRAPH_ID.format(area=area), "style"),
            Output(_pid("chart", area), "style"),
            Output(_pid("nochart", area), "style"),
            Output(_pid("table", area), "children"),
            Output(_pid("sources", area), "children"),
            Output(_pid("missing", area), "children"),
        ]
    return out


def _legend(lang: str) -> dmc.Paper:
    return dmc.Paper(
        [
            dmc.Text(t("cmp_how_index", lang), size="sm"),
            dmc.Text(t("cmp_legend_colour", lang), size="sm"),
            dmc.Text(t("cmp_incomplete", lang) + " " + t("cmp_hollow", lang) + ".", size="sm"),
        ],
        p="sm", withBorder=True, mt="sm", bg="gray.0",
    )


def layout(**params: object) -> html.Div:
    state = parse_compare_state(params)
    lang = state.lang
    parts = area_parts(state.division, list(state.districts), lang)
    notices = notice_texts(state)
    notice = (
        dmc.Alert([dmc.Text(n, size="sm") for n in notices], color="yellow", id=ids.NOTICE,
                  withCloseButton=True, mb="sm")
        if notices else html.Div(id=ids.NOTICE)
    )
    controls = dmc.Grid(
        [
            dmc.GridCol(dmc.MultiSelect(
                id=ids.COMPARE_DISTRICTS, label=t("cmp_districts_label", lang),
                placeholder=t("cmp_districts_placeholder", lang),
                nothingFoundMessage=t("cmp_nothing_found", lang),
                data=district_options(state.division), value=list(state.districts),
                maxValues=4, searchable=True, clearable=True, hidePickedOptions=True,
            ), span={"base": 12, "md": 8}),
            dmc.GridCol(dmc.Select(
                id=ids.COMPARE_DIVISION, label=t("division", lang),
                data=[{"value": d, "label": DIVISION_LABELS[d][lang]} for d in DIVISIONS],
                value=state.division, allowDeselect=False,
            ), span={"base": 12, "md": 4}),
        ],
    )
    jump = dmc.Group(
        [dmc.Text(t("cmp_jump", lang), size="sm", c="dimmed")]
        + [dmc.Anchor(AREAS[a][lang], href=f"#cmp-{a}", size="sm") for a in AREAS],
        gap="md", mt="sm",
    )
    return html.Div(
        [
            dcc.Store(id=ids.COMPARE_LANG, data=lang),
            # the first write replaces: a hand-written or invalid link becomes the canonical one
            dcc.Store(id=ids.COMPARE_QUERY, data=_url_data(state.query())),
            dcc.Store(id=ids.COMPARE_URL_SINK),
            dcc.Store(id=ids.COMPARE_POP),
            dmc.Title(t("cmp_title", lang), order=2, mb=4),
            dmc.Text(t("cmp_intro", lang), size="sm", c="dimmed", mb="sm"),
            notice,
            controls,
            _legend(lang),
            jump,
            dmc.Alert(t("cmp_pick_one", lang), id=ids.COMPARE_EMPTY, color="blue", mt="md",
                      style=HIDDEN),
            html.Div([_section(a, p, lang) for a, p in parts.items()],
                     id=ids.COMPARE_CONTENT),
        ]
    )


def _url_data(query: dict[str, str]) -> dict:
    return {"query": query, "root": ids.COMPARE_DIVISION, "sink": ids.COMPARE_POP}


@callback(
    Output(ids.COMPARE_DISTRICTS, "data"),
    Output(ids.COMPARE_DISTRICTS, "value"),
    Output(ids.COMPARE_QUERY, "data"),
    Output(ids.COMPARE_EMPTY, "style"),
    *_outputs(),
    Input(ids.COMPARE_DISTRICTS, "value"),
    Input(ids.COMPARE_DIVISION, "value"),
    State(ids.COMPARE_LANG, "data"),
    prevent_initial_call=True,
)
def _update(districts: list[str] | None, division: str | None, lang: str | None):
    """One callback for both controls: a division change carries the selection over."""
    lang = "en" if lang == "en" else "sv"
    division = division if division in DIVISIONS else DIVISIONS[0]
    chosen = [d for d in (districts or []) if isinstance(d, str)]
    mapped = map_districts(chosen, division)
    if chosen and not mapped:  # nothing carries over: the division's default pair
        mapped = list(parse_compare_state({"division": division}).districts)
    parts = area_parts(division, mapped, lang)
    query = _url_data({"districts": ",".join(mapped), "division": division, "lang": lang})
    if not mapped:
        query = dash.no_update  # an empty selection is not a view worth a history entry
    value = mapped if mapped != chosen else dash.no_update
    flat = [parts[a][p] for a in AREAS for p in PARTS]
    return (district_options(division), value, query, SHOWN if not mapped else HIDDEN, *flat)


@callback(
    Output(ids.COMPARE_DISTRICTS, "value", allow_duplicate=True),
    Output(ids.COMPARE_DIVISION, "value"),
    Input(ids.COMPARE_POP, "data"),
    State(ids.COMPARE_DISTRICTS, "value"),
    State(ids.COMPARE_DIVISION, "value"),
    prevent_initial_call=True,
)
def _from_url(pop, districts, division):
    """Back/forward: the controls from the URL (the callback above follows them)."""
    state = parse_compare_state(params_from_search(search_of(pop)))
    return only_changed((list(state.districts), state.division), (districts, division))


clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="syncQuery"),
    Output(ids.COMPARE_URL_SINK, "data"),
    Input(ids.COMPARE_QUERY, "data"),
    State(ids.COMPARE_URL_SINK, "data"),
)


def _warm() -> None:
    """Precompute every division's profile and the source registry at start-up, so no user
    request pays for it (about 150 ms in all)."""
    for division in DIVISIONS:
        profile_for(division)
    _ = get_store().registry


_warm()
