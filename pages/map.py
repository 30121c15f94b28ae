"""Map page (start page): one indicator, one year, one district division.

Area -> indicator -> year -> division; the whole view lives in the query string (pages/state.py
parses it; the one URL helper in assets/skillnader.js writes it, and back/forward come back as
MAP_POP, which sets the controls). Speed: the district
geometry is served once per division from /geo/<division>.geojson (cached by the browser) and
named by URL in the figure; changing indicator, year or colour option sends a Patch of values
and texts only (pages/map_figures.py). Highlighting between map and ranking runs in the
browser (assets/map.js), so hovering costs no server round trip.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from urllib.parse import urlencode

import dash
import dash_mantine_components as dmc
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)
from flask import Response, request

from indicators.build import MAP_DIVISIONS
from indicators.catalog import AREAS
from indicators.store import base_store, get_store
from pages import ids
from pages import map_figures as mf
from pages.components import chart_card, data_table
from pages.hardening import cache_is_shared, memoize
from pages.i18n import DIVISION_LABELS, add_strings, t
from pages.state import (
    BASEMAPS,
    default_indicator,
    map_years,
    mappable,
    only_changed,
    params_from_search,
    parse_map_state,
    search_of,
    usable_divisions,
)

dash.register_page(__name__, path="/", name="Karta", title="Skillnader: karta", order=0)

# Divisions the compare page profiles (its URL contract: /compare?districts=..&division=..).
COMPARE_DIVISIONS = ("sdo11", "sdo13", "sdo14")
MAP_HEIGHT = "64vh"

add_strings({
    "map_fixed": {"sv": "Fast färgskala", "en": "Fixed colours"},
    "map_fixed_help": {
        "sv": "Samma färgskala alla år: färgerna betyder samma värden oavsett år, så att "
              "förändring över tid syns.",
        "en": "The same colour scale in every year: colours mean the same values whatever the "
              "year, so change over time shows.",
    },
    "map_settings": {"sv": "Kartinställningar", "en": "Map settings"},
    "map_basemap": {"sv": "Bakgrundskarta", "en": "Background map"},
    "map_basemap_none": {"sv": "Ingen (fungerar utan nät)", "en": "None (works offline)"},
    "map_basemap_positron": {"sv": "Ljus karta (kräver internet)",
                             "en": "Light map (needs internet)"},
    "map_basemap_osm": {"sv": "OpenStreetMap (kräver internet)",
                        "en": "OpenStreetMap (needs internet)"},
    "map_no_indicators": {"sv": "inga kartbara uppgifter än", "en": "nothing to map yet"},
    "map_notice_title": {"sv": "Länken kunde inte visas som den var",
                         "en": "The link could not be shown as it was"},
    "map_param_lang": {"sv": "språk", "en": "language"},
    "map_param_fixed": {"sv": "färgskala", "en": "colour scale"},
    "map_param_district": {"sv": "valt område", "en": "selected area"},
    "map_param_basemap": {"sv": "bakgrundskarta", "en": "background map"},
    "map_table_label": {"sv": "Visa kartans data som tabell",
                        "en": "Show the map's data as a table"},
    "map_rank_table_label": {"sv": "Visa rangordningen som tabell",
                             "en": "Show the ranking as a table"},
    "map_col_rank": {"sv": "Rang", "en": "Rank"},
    "map_col_diff": {"sv": "Skillnad mot staden", "en": "Difference from the city"},
    "map_col_coverage": {"sv": "Täckning (%)", "en": "Coverage (%)"},
    "map_sources_full": {"sv": "Källor", "en": "Sources"},
    "map_more_sources": {"sv": "Mer om källor och metod", "en": "More on sources and method"},
    "map_pick_hint": {
        "sv": "Klicka på ett område i kartan eller i rangordningen för att markera det och "
              "öppna dess profil.",
        "en": "Click an area on the map or in the ranking to highlight it and open its profile.",
    },
    "map_selected": {"sv": "Valt område", "en": "Selected area"},
    "map_profile_link": {"sv": "Profil för {name} i Jämför stadsdelar",
                         "en": "Profile of {name} in Compare districts"},
    "map_profile_none": {
        "sv": "Profiler finns för stadsdelsområden (11, 13 eller 14 områden), inte för den här "
              "indelningen.",
        "en": "Profiles exist for districts (11, 13 or 14), not for this division.",
    },
    "map_clear": {"sv": "Avmarkera", "en": "Clear"},
    "map_district_nodata": {"sv": "uppgift saknas {year}", "en": "no data for {year}"},
})


# --- geometry, once per division ----------------------------------------------------------


@lru_cache(maxsize=len(MAP_DIVISIONS))
def _geo_bytes(division: str) -> tuple[bytes, bytes]:
    raw = json.dumps(get_store().geojson(division), separators=(",", ":")).encode()
    return raw, gzip.compress(raw, 6)


def _serve_geo(division: str) -> Response:
    if division not in MAP_DIVISIONS:
        return Response("unknown division", status=404, mimetype="text/plain")
    raw, gz = _geo_bytes(division)
    version = str(get_store().info.get("data_version", ""))
    use_gz = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(gz if use_gz else raw, mimetype="application/geo+json")
    if use_gz:
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.set_etag(f"{division}-{version}")
    # The URL carries the build's data version: a new build is a new URL.
    resp.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                     if request.args.get("v") == version else "no-cache")
    return resp.make_conditional(request)


def _register_geo_route() -> None:
    server = dash.get_app().server
    if "skillnader_geo" not in server.view_functions:
        server.add_url_rule("/geo/<division>.geojson", "skillnader_geo", _serve_geo)


_register_geo_route()


def geo_url(division: str) -> str:
    version = get_store().info.get("data_version", "")
    return dash.get_relative_path(f"/geo/{division}.geojson") + "?" + urlencode({"v": version})


# --- options --------------------------------------------------------------------------------


def _area_options(lang: str) -> list[dict]:
    store = get_store()
    present = {store.catalog[i].area for i in mappable(store)}
    return [
        {"value": a, "label": AREAS[a][lang]} if a in present else
        {"value": a, "label": f"{AREAS[a][lang]} ({t('map_no_indicators', lang)})",
         "disabled": True}
        for a in AREAS
    ]


def _indicator_options(area: str, lang: str) -> list[dict]:
    store = get_store()
    return [
        {"value": i, "label": store.catalog[i].title.get(lang)}
        for i in mappable(store)
        if store.catalog[i].area == area
    ]


def _division_options(indicator: str, lang: str) -> list[dict]:
    return [{"value": d, "label": DIVISION_LABELS[d][lang]}
            for d in usable_divisions(get_store(), indicator)]


def _year_options(indicator: str, division: str) -> list[dict]:
    return [{"value": str(y), "label": str(y)} for y in map_years(get_store(), indicator, division)]


# --- views ----------------------------------------------------------------------------------


@memoize
def _shared_view(indicator: str, division: str, year: int, lang: str,
                 fixed: bool) -> mf.MapData:
    """Through the shared cache (Redis): computed once for all workers and instances, keyed by
    the arguments and the data version. MapData is a plain dataclass: it pickles."""
    return mf.map_data(base_store(), indicator, division, year, lang, fixed)


@lru_cache(maxsize=256)
def _base_view(indicator: str, division: str, year: int, lang: str, fixed: bool) -> mf.MapData:
    # the built data never changes within a process: keep the view here, in front of Redis
    if cache_is_shared():
        return _shared_view(indicator, division, year, lang, fixed)
    return mf.map_data(base_store(), indicator, division, year, lang, fixed)


def view(indicator: str, division: str, year: int, lang: str, fixed: bool) -> mf.MapData:
    """One view's data. Built-in indicators are cached (per process, and shared between
    processes when Redis is configured); an upload (`upload_*`, only in its session's overlay
    store) is computed from the request's store every time and never cached, so no session
    can be served another session's view."""
    if indicator in base_store().catalog:
        return _base_view(indicator, division, year, lang, bool(fixed))
    return mf.map_data(get_store(), indicator, division, year, lang, fixed)


view.cache_clear = _base_view.cache_clear  # type: ignore[attr-defined]


def _state(indicator, year, division, lang, fixed=False, district=None):
    """Callback inputs through the same validation as a URL (never raises)."""
    return parse_map_state(get_store(), {
        "indicator": indicator, "year": None if year is None else str(year),
        "division": division, "lang": lang, "fixed": "1" if fixed else None,
        "district": district,
    })


def meta_for(division: str, lang: str) -> dict:
    return {"division": division, "lang": lang, "bbox": mf.division_bbox(get_store(), division)}


def notice(problems: list[str], lang: str):
    if not problems:
        return html.Div(id=ids.NOTICE)
    labels = {"area": t("area", lang).lower(), "indicator": t("indicator", lang).lower(),
              "year": t("year", lang).lower(), "division": t("division", lang).lower()}
    what = ", ".join(labels.get(p) or t(f"map_param_{p}", lang) for p in problems)
    return dmc.Alert(t("notice_fallback", lang, what=what), title=t("map_notice_title", lang),
                     color="yellow", id=ids.NOTICE, withCloseButton=True, mb="sm")


def gap_panel(data: mf.MapData, lang: str) -> list:
    """The gap in plain words: highest and lowest, their ratio, the trend verdict (bold when
    the gap widened or narrowed), then the measure and caveats in small print."""
    store = get_store()
    ind = store.catalog[data.indicator]
    facts = mf.gap_summary(store, data)
    sentences = facts["sentences"]
    strong = facts["verdict"] in ("widening", "narrowing")
    words: list = [html.B(t("map_gap_title", lang) + ": ")]
    for i, sentence in enumerate(sentences):
        last = i == len(sentences) - 1
        words.append(html.B(sentence) if last and strong else sentence)
        words.append(" ")
    out = [dmc.Text(words, size="sm")]
    small = ([facts["measure"]] if facts["measure"] else []) + mf.caveats(ind, lang)
    if small:
        out.append(dmc.Text(" ".join(small), size="xs", c="dimmed", mt=4))
    return out


def source_block(indicator: str, lang: str) -> list:
    store = get_store()
    ind = store.catalog[indicator]
    return [
        f"{t('map_sources_full', lang)}: {mf.source_full(store, ind, lang)}. ",
        dmc.Anchor(t("map_more_sources", lang), href=f"/data?lang={lang}", size="xs"),
    ]


def table_for(data: mf.MapData, rows: str = "map") -> dmc.Table:
    """The data behind a chart: every unit of the map (missing ones say so) or the bars."""
    store = get_store()
    ind = store.catalog[data.indicator]
    lang = data.lang
    df = mf.view_frame(store, data.indicator, data.division, data.year)
    if rows == "ranking":
        keep = mf.ranking_rows(data)["code"]
        df = df[df["district_code"].isin(set(keep))]
    df = df.sort_values(["rank", "district_name"], na_position="last")
    # Coverage also for units left grey: it says why (too little of the unit covered).
    v = store.values(data.indicator, data.division)
    v = v[v["year"] == data.year]
    coverage = dict(zip(v["district_code"], v["coverage"] * 100, strict=True))
    df = df.assign(coverage=[coverage.get(c) for c in df["district_code"]])
    cols = {"district_name": t("district", lang),
            "value": f"{t('value', lang)} ({ind.unit.get(lang)})",
            "rank": t("map_col_rank", lang)}
    dec = {"value": ind.decimals, "coverage": 0}
    if df["diff"].notna().any():
        cols["diff"] = f"{t('map_col_diff', lang)} ({mf.diff_unit(ind, lang)})"
        df = df.assign(diff=["" if d != d else mf.signed(d, ind.decimals, lang)
                             for d in df["diff"]])
    cols["coverage"] = t("map_col_coverage", lang)
    df = df.assign(rank=[str(int(r)) if r == r else "" for r in df["rank"]])
    return data_table(df, cols, dec, lang, max_rows=1000)


def district_panel(selected: dict | None, data: mf.MapData) -> tuple:
    """(text, link href, link text, link style, clear style) for the selected district."""
    lang = data.lang
    hidden = {"display": "none"}
    if not selected or selected.get("division") != data.division:
        return dmc.Text(t("map_pick_hint", lang), size="sm", c="dimmed"), "", "", hidden, hidden
    code = selected.get("code")
    names = mf.district_names(get_store(), data.division)
    if code not in names:
        return dmc.Text(t("map_pick_hint", lang), size="sm", c="dimmed"), "", "", hidden, hidden
    ind = get_store().catalog[data.indicator]
    name = names[code]
    if code in data.codes:
        i = data.codes.index(code)
        rank = data.custom[data.all_codes.index(code)][0]
        key = "map_rank_neutral" if ind.direction == "neutral" else "map_rank_dir"
        rank_text = t(key, lang, r=rank, n=len(data.codes))
        rank_text = rank_text[0].lower() + rank_text[1:]
        detail = f"{mf.value_text(data.values[i], ind, lang)} · {rank_text}"
    else:
        detail = t("map_district_nodata", lang, year=data.year)
    text = dmc.Text([f"{t('map_selected', lang)}: ", html.B(name), f" – {detail}"], size="sm")
    if data.division not in COMPARE_DIVISIONS:
        return [text, dmc.Text(t("map_profile_none", lang), size="xs", c="dimmed")], "", "", \
            hidden, {}
    href = dash.get_relative_path("/compare") + "?" + urlencode(
        {"districts": code, "division": data.division, "lang": lang})
    return text, href, t("map_profile_link", lang, name=name) + " →", {}, {}


def _fill(component, props_by_id: dict[str, dict]) -> None:
    """Set props of components inside a shared building block (chart_card) by id, so the page
    opens fully drawn without a round of initial callbacks."""
    cid = getattr(component, "id", None)
    if isinstance(cid, str) and cid in props_by_id:
        for k, v in props_by_id[cid].items():
            setattr(component, k, v)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            _fill(child, props_by_id)


def layout(**params: object) -> html.Div:
    store = get_store()
    state = parse_map_state(store, params)
    lang = state.lang
    data = view(state.indicator, state.division, state.year, lang, state.fixed_bins)
    selected = {"code": state.district, "division": state.division} if state.district else None
    fig = mf.map_figure(data, store, geo_url(state.division), state.basemap)
    bars = mf.ranking_figure(data, store)
    text, href, link_text, link_style, clear_style = district_panel(selected, data)

    settings = dmc.Popover(
        [
            dmc.PopoverTarget(dmc.ActionIcon(
                "⚙", variant="default", size="lg",
                **{"aria-label": t("map_settings", lang)})),
            dmc.PopoverDropdown([
                dmc.Text(t("map_basemap", lang), size="sm", fw=600, mb=4),
                dmc.RadioGroup(
                    dmc.Stack([
                        dmc.Radio(label=t("map_basemap_none", lang), value=BASEMAPS[0]),
                        dmc.Radio(label=t("map_basemap_positron", lang), value=BASEMAPS[1]),
                        dmc.Radio(label=t("map_basemap_osm", lang), value=BASEMAPS[2]),
                    ], gap=6),
                    id=ids.MAP_BASEMAP, value=state.basemap, size="sm",
                ),
            ]),
        ],
        position="bottom-end", withArrow=True, shadow="md",
    )
    fixed_switch = dmc.Tooltip(
        dmc.Switch(id=ids.MAP_FIXED, label=t("map_fixed", lang), checked=state.fixed_bins,
                   size="sm"),
        label=t("map_fixed_help", lang), multiline=True, w=260, withArrow=True,
    )
    controls = dmc.Grid(
        [
            dmc.GridCol(dmc.Select(id=ids.MAP_AREA, label=t("area", lang),
                                   data=_area_options(lang), value=state.area,
                                   allowDeselect=False), span={"base": 12, "sm": 6, "lg": 2.6}),
            dmc.GridCol(dmc.Select(id=ids.MAP_INDICATOR, label=t("indicator", lang),
                                   data=_indicator_options(state.area, lang),
                                   value=state.indicator, allowDeselect=False, searchable=True,
                                   comboboxProps={"width": "max-content"}),
                        span={"base": 12, "sm": 6, "lg": 3.4}),
            dmc.GridCol(dmc.Select(id=ids.MAP_YEAR, label=t("year", lang),
                                   data=_year_options(state.indicator, state.division),
                                   value=str(state.year), allowDeselect=False),
                        span={"base": 5, "sm": 3, "lg": 1.4}),
            dmc.GridCol(dmc.Select(id=ids.MAP_DIVISION, label=t("division", lang),
                                   data=_division_options(state.indicator, lang),
                                   value=state.division, allowDeselect=False),
                        span={"base": 7, "sm": 5, "lg": 2.6}),
            dmc.GridCol(dmc.Group([fixed_switch, settings], justify="space-between",
                                  wrap="nowrap", pb=6),
                        span={"base": 12, "sm": 4, "lg": 2}),
        ],
        align="flex-end", gutter="sm",
    )
    map_card = chart_card(ids.MAP_GRAPH, ids.MAP_TABLE, ids.MAP_SOURCE, height=MAP_HEIGHT,
                          chart="map", lang=lang)
    rank_card = chart_card(ids.MAP_RANKING, ids.MAP_RANKING_TABLE, ids.MAP_RANKING_SOURCE,
                           height=MAP_HEIGHT, chart="ranking", lang=lang)
    src = source_block(state.indicator, lang)
    _fill(map_card, {ids.MAP_GRAPH: {"figure": fig, "clear_on_unhover": True},
                     ids.MAP_SOURCE: {"children": src},
                     f"{ids.MAP_TABLE}-label": {"children": t("map_table_label", lang)}})
    _fill(rank_card, {ids.MAP_RANKING: {"figure": bars, "clear_on_unhover": True},
                      ids.MAP_RANKING_SOURCE: {"children": src},
                      f"{ids.MAP_RANKING_TABLE}-label": {
                          "children": t("map_rank_table_label", lang)}})
    return html.Div(
        [
            dcc.Store(id=ids.MAP_LANG, data=lang),
            dcc.Store(id=ids.MAP_URL_SYNC),
            dcc.Store(id=ids.MAP_POP),
            dcc.Store(id=ids.MAP_META, data=meta_for(state.division, lang)),
            dcc.Store(id=ids.MAP_VERSION, data=0),
            dcc.Store(id=ids.MAP_RANK_VERSION, data=0),
            dcc.Store(id=ids.MAP_SELECTED, data=selected),
            dcc.Store(id=ids.MAP_HOVER),
            notice(state.problems, lang),
            controls,
            dmc.Grid(
                [
                    dmc.GridCol(dmc.Paper(gap_panel(data, lang), id=ids.MAP_GAP_TEXT, p="sm",
                                          withBorder=True, h="100%"),
                                span={"base": 12, "md": 8}),
                    dmc.GridCol(dmc.Paper(dmc.Stack([
                        html.Div(text, id=ids.MAP_DISTRICT),
                        dmc.Group([
                            dmc.Anchor(link_text, id=f"{ids.MAP_DISTRICT}-link", href=href,
                                       size="sm", fw=600, style=link_style),
                            dmc.Button(t("map_clear", lang), id=ids.MAP_CLEAR, size="compact-xs",
                                       variant="subtle", style=clear_style),
                        ], gap="sm"),
                    ], gap=4), p="sm", withBorder=True, h="100%"),
                        span={"base": 12, "md": 4}),
                ],
                mt="sm", gutter="sm",
            ),
            dmc.Grid(
                [
                    dmc.GridCol(map_card, span={"base": 12, "md": 7}),
                    dmc.GridCol(rank_card, span={"base": 12, "md": 5}),
                ],
                mt="sm", gutter="sm",
            ),
        ]
    )


# --- server callbacks -------------------------------------------------------------------------


@callback(
    Output(ids.MAP_INDICATOR, "data"),
    Output(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_AREA, "value"),
    State(ids.MAP_INDICATOR, "value"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def on_area(area: str, indicator: str, lang: str):
    store = get_store()
    if not isinstance(area, str) or area not in AREAS:
        return no_update, no_update
    lang = "en" if lang == "en" else "sv"
    options = _indicator_options(area, lang)
    values = [o["value"] for o in options]
    if not values:
        return no_update, no_update
    return options, indicator if indicator in values else default_indicator(store, area)


@callback(
    Output(ids.MAP_DIVISION, "data"),
    Output(ids.MAP_DIVISION, "value"),
    Output(ids.MAP_YEAR, "data"),
    Output(ids.MAP_YEAR, "value"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    State(ids.MAP_YEAR, "value"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def on_indicator(indicator: str, division: str, year: str, lang: str):
    state = _state(indicator, year, division, lang)
    if state.indicator != indicator:
        return no_update, no_update, no_update, no_update
    return (_division_options(state.indicator, lang), state.division,
            _year_options(state.indicator, state.division), str(state.year))


@callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_META, "data"),
    Output(ids.MAP_VERSION, "data"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    Input(ids.MAP_FIXED, "checked"),
    State(ids.MAP_BASEMAP, "value"),
    State(ids.MAP_META, "data"),
    State(ids.MAP_VERSION, "data"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def update_map(indicator, year, division, fixed, basemap, meta, version, lang):
    """Recolour with a Patch (values and texts only); the full figure only for a new division."""
    state = _state(indicator, year, division, lang, fixed)
    data = view(state.indicator, state.division, state.year, state.lang, state.fixed_bins)
    version = (version if isinstance(version, int) else 0) + 1
    if isinstance(meta, dict) and meta.get("division") == state.division \
            and meta.get("lang") == state.lang:
        return mf.map_patch(data, get_store()), no_update, version
    basemap = basemap if basemap in BASEMAPS else BASEMAPS[0]
    fig = mf.map_figure(data, get_store(), geo_url(state.division), basemap)
    return fig, meta_for(state.division, state.lang), version


@callback(
    Output(ids.MAP_GRAPH, "figure", allow_duplicate=True),
    Input(ids.MAP_BASEMAP, "value"),
    prevent_initial_call=True,
)
def update_basemap(basemap):
    basemap = basemap if basemap in BASEMAPS else BASEMAPS[0]
    p = dash.Patch()
    p["layout"]["map"]["style"] = basemap
    for i in (0, 1):
        p["data"][i]["marker"]["opacity"] = 1.0 if basemap == BASEMAPS[0] else 0.7
    return p


@callback(
    Output(ids.MAP_RANKING, "figure"),
    Output(ids.MAP_RANK_VERSION, "data"),
    Output(ids.MAP_GAP_TEXT, "children"),
    Output(ids.MAP_SOURCE, "children"),
    Output(ids.MAP_RANKING_SOURCE, "children"),
    Output(f"{ids.MAP_TABLE}-label", "children"),
    Output(f"{ids.MAP_RANKING_TABLE}-label", "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    Input(ids.MAP_FIXED, "checked"),
    State(ids.MAP_RANK_VERSION, "data"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def update_side(indicator, year, division, fixed, version, lang):
    """Ranking (a full figure: a few dozen bars), gap words, sources."""
    state = _state(indicator, year, division, lang, fixed)
    data = view(state.indicator, state.division, state.year, state.lang, state.fixed_bins)
    version = (version if isinstance(version, int) else 0) + 1
    src = source_block(state.indicator, state.lang)
    return (mf.ranking_figure(data, get_store()), version, gap_panel(data, state.lang), src, src,
            t("map_table_label", state.lang), t("map_rank_table_label", state.lang))


@callback(
    Output(ids.MAP_TABLE, "children"),
    Output(ids.MAP_RANKING_TABLE, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    Input(f"{ids.MAP_TABLE}-accordion", "value"),
    Input(f"{ids.MAP_RANKING_TABLE}-accordion", "value"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def update_tables(indicator, year, division, open_map, open_rank, lang):
    """Tables are built only while open (a long division's table is large)."""
    state = _state(indicator, year, division, lang)
    data = view(state.indicator, state.division, state.year, state.lang, False)
    return (table_for(data, "map") if open_map == "table" else None,
            table_for(data, "ranking") if open_rank == "table" else None)


@callback(
    Output(ids.MAP_DISTRICT, "children"),
    Output(f"{ids.MAP_DISTRICT}-link", "href"),
    Output(f"{ids.MAP_DISTRICT}-link", "children"),
    Output(f"{ids.MAP_DISTRICT}-link", "style"),
    Output(ids.MAP_CLEAR, "style"),
    Input(ids.MAP_SELECTED, "data"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    State(ids.MAP_LANG, "data"),
    prevent_initial_call=True,
)
def update_district(selected, indicator, year, division, lang):
    state = _state(indicator, year, division, lang)
    data = view(state.indicator, state.division, state.year, state.lang, False)
    return district_panel(selected if isinstance(selected, dict) else None, data)


# --- browser-side: URL, highlight, fit (assets/map.js) --------------------------------------

@callback(
    Output(ids.MAP_AREA, "value"),
    Output(ids.MAP_INDICATOR, "value", allow_duplicate=True),
    Output(ids.MAP_YEAR, "value", allow_duplicate=True),
    Output(ids.MAP_DIVISION, "value", allow_duplicate=True),
    Output(ids.MAP_FIXED, "checked"),
    Output(ids.MAP_BASEMAP, "value"),
    Output(ids.MAP_SELECTED, "data", allow_duplicate=True),
    Input(ids.MAP_POP, "data"),
    State(ids.MAP_AREA, "value"),
    State(ids.MAP_INDICATOR, "value"),
    State(ids.MAP_YEAR, "value"),
    State(ids.MAP_DIVISION, "value"),
    State(ids.MAP_FIXED, "checked"),
    State(ids.MAP_BASEMAP, "value"),
    State(ids.MAP_SELECTED, "data"),
    prevent_initial_call=True,
)
def from_url(pop, *current):
    """Back/forward: set the controls that differ from the URL; the page follows them."""
    s = parse_map_state(get_store(), params_from_search(search_of(pop)))
    selected = {"code": s.district, "division": s.division} if s.district else None
    new = (s.area, s.indicator, str(s.year), s.division, s.fixed_bins, s.basemap, selected)
    return only_changed(new, current)


clientside_callback(
    ClientsideFunction(namespace="skillnaderMap", function_name="urlQuery"),
    Output(ids.MAP_URL_SYNC, "data"),
    Input(ids.MAP_AREA, "value"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_YEAR, "value"),
    Input(ids.MAP_DIVISION, "value"),
    Input(ids.MAP_FIXED, "checked"),
    Input(ids.MAP_SELECTED, "data"),
    Input(ids.MAP_BASEMAP, "value"),
    State(ids.MAP_LANG, "data"),
    State(ids.MAP_URL_SYNC, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="skillnaderMap", function_name="pick"),
    Output(ids.MAP_SELECTED, "data"),
    Input(ids.MAP_GRAPH, "clickData"),
    Input(ids.MAP_RANKING, "clickData"),
    Input(ids.MAP_CLEAR, "n_clicks"),
    State(ids.MAP_SELECTED, "data"),
    State(ids.MAP_DIVISION, "value"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="skillnaderMap", function_name="hover"),
    Output(ids.MAP_HOVER, "data"),
    Input(ids.MAP_GRAPH, "hoverData"),
    Input(ids.MAP_RANKING, "hoverData"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="skillnaderMap", function_name="highlight"),
    Output(ids.MAP_GRAPH, "figure", allow_duplicate=True),
    Output(ids.MAP_RANKING, "figure", allow_duplicate=True),
    Input(ids.MAP_HOVER, "data"),
    Input(ids.MAP_SELECTED, "data"),
    Input(ids.MAP_VERSION, "data"),
    Input(ids.MAP_RANK_VERSION, "data"),
    State(ids.MAP_GRAPH, "figure"),
    State(ids.MAP_RANKING, "figure"),
    prevent_initial_call="initial_duplicate",
)

clientside_callback(
    ClientsideFunction(namespace="skillnaderMap", function_name="fit"),
    Output(ids.MAP_GRAPH, "figure", allow_duplicate=True),
    Input(ids.MAP_META, "data"),
    prevent_initial_call="initial_duplicate",
)

