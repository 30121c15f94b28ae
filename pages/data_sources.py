"""Data and sources page (/data): the indicator catalog, every registered source, and the methods.

Page state lives in the URL (lang, tab, q, area, division, mappable, indicator), written by the
one URL helper (assets/skillnader.js syncQuery: the first write canonicalises the opened link,
a user's change pushes), which also hands back/forward to the page (DATA_POP), so a view can be
shared and history steps through views. Content builders live in pages/data_logic.py.
"""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from indicators.build import MAP_DIVISIONS
from indicators.catalog import AREAS
from indicators.store import get_store
from pages import ids
from pages.data_logic import (
    NO_DISTRICTS,
    TABS,
    DataState,
    division_name,
    indicator_detail,
    indicator_list,
    methods_panel,
    parse_data_state,
    sources_panel,
    state_from_search,
)
from pages.i18n import t
from pages.state import only_changed

dash.register_page(__name__, path="/data", name="Data och källor",
                   title="Skillnader: data och källor")


# --- layout and callbacks ---------------------------------------------------------------------


def _area_options(lang: str) -> list[dict]:
    return [{"value": a, "label": AREAS[a][lang]} for a in AREAS]


def _division_options(lang: str) -> list[dict]:
    opts = [{"value": d, "label": division_name(d, lang)} for d in MAP_DIVISIONS]
    return [*opts, {"value": NO_DISTRICTS, "label": t("data_no_districts", lang)}]


def layout(**params: object) -> html.Div:
    store = get_store()
    state = parse_data_state(store.catalog, params)
    lang = state.lang
    notice = (
        dmc.Alert(t("notice_fallback", lang, what=", ".join(state.problems)), color="yellow",
                  id=ids.NOTICE, withCloseButton=True, mb="sm")
        if state.problems else html.Div(id=ids.NOTICE)
    )
    items, count = indicator_list(store, state)
    filters = dmc.Stack([
        dmc.TextInput(id=ids.DATA_SEARCH, label=t("data_search", lang), value=state.q,
                      placeholder=t("data_search_ph", lang), debounce=300),
        dmc.SimpleGrid([
            dmc.Select(id=ids.DATA_AREA, label=t("area", lang), data=_area_options(lang),
                       value=state.area, clearable=True,
                       placeholder=t("data_all_areas", lang)),
            dmc.Select(id=ids.DATA_DIVISION, label=t("data_has_division", lang),
                       data=_division_options(lang), value=state.division, clearable=True,
                       placeholder=t("data_all_divisions", lang)),
        ], cols=2, spacing="xs"),
        dmc.Switch(id=ids.DATA_MAPPABLE, label=t("data_only_mappable", lang),
                   checked=state.mappable),
        dmc.Text(count, id=ids.DATA_COUNT, size="sm", c="dimmed", **{"aria-live": "polite"}),
    ], gap="xs")
    catalog = dmc.Grid([
        dmc.GridCol([
            filters,
            dmc.ScrollAreaAutosize(
                html.Nav(items, id=ids.DATA_LIST,
                         **{"aria-label": t("data_tab_indicators", lang)}),
                mah={"base": "45vh", "md": "max(18rem, calc(100vh - 27rem))"}, mt="xs", type="auto",
            ),
        ], span={"base": 12, "md": 5, "xl": 4}, className="data-sticky"),
        dmc.GridCol(
            dmc.Paper(indicator_detail(store, state.indicator, lang), id=ids.DATA_DETAIL,
                      p="md", withBorder=True),
            span={"base": 12, "md": 7, "xl": 8},
        ),
    ], gutter="md")
    return html.Div([
        dcc.Store(id=ids.DATA_LANG, data=lang),
        dcc.Store(id=ids.DATA_QUERY, data=_url_data(state)),
        dcc.Store(id=ids.DATA_POP),
        dcc.Store(id=ids.DATA_SINK),
        dcc.Store(id=ids.DATA_SELECTED, data=state.indicator),
        notice,
        dmc.Title(t("data_title", lang), order=2),
        dmc.Text(t("data_intro", lang), maw=900, mb="sm"),
        dmc.Tabs([
            dmc.TabsList([dmc.TabsTab(t(f"data_tab_{k}", lang), value=k) for k in TABS]),
            dmc.TabsPanel(catalog, value="indicators", pt="md"),
            dmc.TabsPanel(sources_panel(store, lang), value="sources", pt="md"),
            dmc.TabsPanel(methods_panel(lang), value="methods", pt="md"),
        ], id=ids.DATA_TABS, value=state.tab, keepMounted=True),
    ], id=ids.DATA_PAGE)


def _controls_state(lang, tab, q, area, division, mappable, selected) -> DataState:
    """The state the controls show, validated like a URL (controls can be tampered with too)."""
    store = get_store()
    return parse_data_state(store.catalog, {
        "lang": lang, "tab": tab, "q": q or None, "area": area, "division": division,
        "mappable": "1" if mappable else None, "indicator": selected,
    })


def _url_data(state: DataState) -> dict:
    return {"query": state.query(), "root": ids.DATA_PAGE, "sink": ids.DATA_POP}


@callback(
    Output(ids.DATA_QUERY, "data"),
    Output(ids.DATA_SELECTED, "data"),
    Input(ids.DATA_SEARCH, "value"),
    Input(ids.DATA_AREA, "value"),
    Input(ids.DATA_DIVISION, "value"),
    Input(ids.DATA_MAPPABLE, "checked"),
    Input(ids.DATA_TABS, "value"),
    Input({"type": ids.DATA_ITEM, "index": ALL}, "n_clicks"),
    State(ids.DATA_SELECTED, "data"),
    State(ids.DATA_LANG, "data"),
    prevent_initial_call=True,
)
def _to_url(q, area, division, mappable, tab, _clicks, selected, lang):
    """A control or a click in the list: the canonical query goes to the URL helper, which
    pushes it when it differs from the address bar (the controls echoing a view restored
    from history write nothing)."""
    trig = ctx.triggered_id
    chosen = selected
    if isinstance(trig, dict) and trig.get("type") == ids.DATA_ITEM:
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            return no_update, no_update  # a list re-render, not a click
        chosen = trig.get("index")
    state = _controls_state(lang, tab, q, area, division, mappable, chosen)
    sel_out = state.indicator if state.indicator != selected else no_update
    return _url_data(state), sel_out


@callback(
    Output(ids.DATA_SEARCH, "value"),
    Output(ids.DATA_AREA, "value"),
    Output(ids.DATA_DIVISION, "value"),
    Output(ids.DATA_MAPPABLE, "checked"),
    Output(ids.DATA_TABS, "value"),
    Output(ids.DATA_SELECTED, "data", allow_duplicate=True),
    Input(ids.DATA_POP, "data"),
    State(ids.DATA_SEARCH, "value"),
    State(ids.DATA_AREA, "value"),
    State(ids.DATA_DIVISION, "value"),
    State(ids.DATA_MAPPABLE, "checked"),
    State(ids.DATA_TABS, "value"),
    State(ids.DATA_SELECTED, "data"),
    State(ids.DATA_LANG, "data"),
    prevent_initial_call=True,
)
def _from_url(pop, q, area, division, mappable, tab, selected, lang):
    """Back/forward (DATA_POP, set by the URL helper on popstate): set the controls that
    differ from the URL; the rest of the page follows them."""
    search = pop.get("search") if isinstance(pop, dict) else None
    s = state_from_search(get_store().catalog, search if isinstance(search, str) else "")
    current = _controls_state(lang, tab, q, area, division, mappable, selected)
    new = (s.q, s.area, s.division, s.mappable, s.tab, s.indicator)
    old = (current.q, current.area, current.division, current.mappable, current.tab,
           current.indicator)
    return only_changed(new, old)


clientside_callback(
    ClientsideFunction(namespace="skillnader", function_name="syncQuery"),
    Output(ids.DATA_SINK, "data"),
    Input(ids.DATA_QUERY, "data"),
    State(ids.DATA_SINK, "data"),
)


@callback(
    Output(ids.DATA_LIST, "children"),
    Output(ids.DATA_COUNT, "children"),
    Input(ids.DATA_SEARCH, "value"),
    Input(ids.DATA_AREA, "value"),
    Input(ids.DATA_DIVISION, "value"),
    Input(ids.DATA_MAPPABLE, "checked"),
    Input(ids.DATA_SELECTED, "data"),
    State(ids.DATA_LANG, "data"),
    prevent_initial_call=True,
)
def _list(q, area, division, mappable, selected, lang):
    state = _controls_state(lang, None, q, area, division, mappable, selected)
    return indicator_list(get_store(), state)


@callback(
    Output(ids.DATA_DETAIL, "children"),
    Input(ids.DATA_SELECTED, "data"),
    State(ids.DATA_LANG, "data"),
    prevent_initial_call=True,
)
def _detail(selected, lang):
    state = _controls_state(lang, None, None, None, None, False, selected)
    return indicator_detail(get_store(), state.indicator, state.lang)


# After a choice (or on opening a link to one): keep the chosen entry visible inside the list's
# own scroll area, and on a narrow screen, where the detail sits below the list, bring the
# detail into view.
clientside_callback(
    """
    function (selected) {
        if (!selected) return window.dash_clientside.no_update;
        setTimeout(function () {
            const item = document.querySelector('#data-list [aria-current="true"]');
            const vp = item && item.closest('.mantine-ScrollArea-viewport');
            if (vp) {
                const r = item.getBoundingClientRect(), v = vp.getBoundingClientRect();
                if (r.top < v.top || r.bottom > v.bottom) {
                    vp.scrollTop += r.top - v.top - vp.clientHeight / 3;
                }
            }
            const el = document.getElementById('data-detail');
            if (el && window.innerWidth < 992
                    && el.getBoundingClientRect().top > window.innerHeight * 0.5) {
                el.scrollIntoView({behavior: 'smooth', block: 'start'});
            }
        }, 150);
        return window.dash_clientside.no_update;
    }
    """,
    Output(ids.DATA_DETAIL, "className"),
    Input(ids.DATA_SELECTED, "data"),
)
