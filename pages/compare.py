"""Compare districts: a profile of one to four districts against the city, all five areas.

URL contract (the map page links here): /compare?districts=jarva,bromma&division=sdo11&lang=sv
The builders live in pages/compare_profile.py (pure, tested without a server); this module is
the page: layout, the one callback and the URL sync.
"""

from __future__ import annotations

from functools import cache

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
from pages.i18n import DIVISION_LABELS, t

dash.register_page(__name__, path="/compare", name="Jämför stadsdelar",
                   title="Skillnader: jämför stadsdelar", order=2)


@cache
def profile_for(division: str) -> DivisionProfile:
    """Built once per division and process from the in-memory store."""
    store = get_store()
    return build_profile(store.indicators, store.catalog, division)


def render_content(division: str, districts: list[str], lang: str) -> list:
    """All five area sections for a selection (the expensive part is cached per division)."""
    if not districts:
        return [dmc.Alert(t("cmp_pick_one", lang), color="blue", mt="md")]
    store = get_store()
    catalog = store.catalog
    profile = profile_for(division)
    rows_by_area = select_rows(profile, catalog, districts)
    sections = []
    reg = store.registry
    for area in AREAS:
        rows = rows_by_area.get(area, [])
        used = list(dict.fromkeys(r.indicator_id for r in rows))
        charted = list(dict.fromkeys(r.indicator_id for r in chart_rows(rows)))
        fig = area_figure(rows, area, districts, catalog, division, lang,
                          source_names(charted, catalog, reg, lang))
        table_sources = source_names(used, catalog, reg, lang, full=True)
        if fig is not None:
            chart = dmc.Paper(
                dcc.Graph(
                        figure=fig, id=f"compare-graph-{area}",
                        config={"displaylogo": False, "responsive": True,
                                "toImageButtonOptions": {
                                    "format": "png", "scale": 2,
                                    "filename": f"skillnader_{area}_{'_'.join(districts)}"}},
                        style={"height": f"{fig['layout']['height']}px"},
                    ),
                p="xs", withBorder=True, mb="sm",
            )
        else:
            chart = dmc.Text(t("cmp_no_chart", lang), size="sm", c="dimmed", mb="xs")
        missing = profile.without_data.get(area, [])
        sections.append(html.Section(
            [
                dmc.Title(AREAS[area][lang], order=3, mt="xl", mb="xs", id=f"cmp-{area}"),
                chart,
                area_table(rows, districts, catalog, lang) if rows
                else dmc.Text(t("no_data", lang), size="sm", c="dimmed"),
                dmc.Text(f"{t('source', lang)}: " + "; ".join(table_sources) + ".",
                         size="xs", c="dimmed", mt=4) if rows else None,
                dmc.Text(t("cmp_no_data_division", lang,
                           names="; ".join(catalog[i].title.get(lang) for i in missing)),
                         size="xs", c="dimmed", mt="xs") if missing else None,
            ],
            **{"data-area": area, "aria-labelledby": f"cmp-{area}"},
        ))
    return sections


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
            dcc.Store(id=ids.COMPARE_QUERY, data={"query": state.query(), "replace": True}),
            dcc.Store(id=ids.COMPARE_URL_SINK),
            dmc.Title(t("cmp_title", lang), order=2, mb=4),
            dmc.Text(t("cmp_intro", lang), size="sm", c="dimmed", mb="sm"),
            notice,
            controls,
            _legend(lang),
            jump,
            html.Div(render_content(state.division, list(state.districts), lang),
                     id=ids.COMPARE_CONTENT),
        ]
    )


@callback(
    Output(ids.COMPARE_DISTRICTS, "data"),
    Output(ids.COMPARE_DISTRICTS, "value"),
    Output(ids.COMPARE_CONTENT, "children"),
    Output(ids.COMPARE_QUERY, "data"),
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
    content = render_content(division, mapped, lang)
    query = {"query": {"districts": ",".join(mapped), "division": division, "lang": lang},
             "replace": False}
    if not mapped:
        query = dash.no_update  # an empty selection is not a view worth a history entry
    value = mapped if mapped != chosen else dash.no_update
    return district_options(division), value, content, query


clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="setQuery"),
    Output(ids.COMPARE_URL_SINK, "data"),
    Input(ids.COMPARE_QUERY, "data"),
)


def _warm() -> None:
    """Precompute every division's profile and the source registry at start-up, so no user
    request pays for it (about 150 ms in all)."""
    for division in DIVISIONS:
        profile_for(division)
    _ = get_store().registry


_warm()
