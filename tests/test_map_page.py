"""Map page: state parsing (hostile links included), figure builders, the recolour Patch, the
geometry route. Runs against the real build (data/build) without a browser."""

from __future__ import annotations

import json

import pytest
from plotly.io.json import to_json_plotly

import app as dash_app
from indicators.store import get_store
from pages import map as map_page
from pages import map_figures as mf
from pages.figures import colour_scale
from pages.state import (
    BASEMAPS,
    DEFAULT_DIVISION,
    DEFAULT_INDICATOR,
    default_indicator,
    map_years,
    mappable,
    parse_map_state,
)


@pytest.fixture(scope="module")
def store():
    return get_store()


def as_json(obj) -> str:
    return to_json_plotly(obj.to_plotly_json() if hasattr(obj, "to_plotly_json") else obj)


# --- state --------------------------------------------------------------------------------


def test_default_view_is_well_covered_with_a_trend(store):
    state = parse_map_state(store, {})
    assert (state.indicator, state.division) == (DEFAULT_INDICATOR, DEFAULT_DIVISION)
    assert state.problems == []
    years = map_years(store, state.indicator, state.division)
    assert state.year == years[-1] and len(years) >= 2
    v = store.values(state.indicator, state.division)
    v = v[(v["year"] == state.year) & v["mappable"]]
    assert len(v) == store.unit_count(state.division)  # all 11 districts coloured
    vr = store.verdicts
    vr = vr[(vr["indicator_id"] == state.indicator) & (vr["division"] == state.division)
            & (vr["sex"] == "total")]
    assert vr["verdict"].iloc[0] != "too few years"


def test_valid_link_round_trips(store):
    ind = "mean_income"
    year = map_years(store, ind, "sdo14")[3]
    params = {"lang": "en", "area": "work", "indicator": ind, "year": str(year),
              "division": "sdo14", "fixed": "1", "district": "bromma",
              "basemap": "open-street-map"}
    state = parse_map_state(store, params)
    assert state.problems == []
    assert (state.lang, state.indicator, state.year, state.division) == ("en", ind, year, "sdo14")
    assert state.fixed_bins and state.district == "bromma" and state.basemap == "open-street-map"
    assert state.params() == params
    assert parse_map_state(store, state.params()) == state


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        ({"indicator": "<script>alert(1)</script>"}, ["indicator"]),
        ({"indicator": "turnout_riksdag", "year": "1850"}, ["year"]),
        ({"indicator": "turnout_riksdag", "year": "2022<b>"}, ["year"]),
        ({"indicator": "turnout_riksdag", "year": "²⁰²²"}, ["year"]),
        ({"indicator": "turnout_riksdag", "year": "9" * 5000}, ["year"]),
        ({"division": "atlantis"}, ["division"]),
        ({"lang": "de"}, ["lang"]),
        ({"area": "weather"}, ["area"]),
        ({"fixed": "yes"}, ["fixed"]),
        ({"district": "\"><img src=x onerror=alert(1)>"}, ["district"]),
        ({"basemap": "https://evil.example/style.json"}, ["basemap"]),
        ({"indicator": ["turnout_riksdag", "mean_income"]}, ["indicator"]),
        ({"indicator": {"a": 1}, "year": 2022.5}, ["indicator", "year"]),
    ],
)
def test_hostile_params_fall_back_and_are_named(store, params, problems):
    state = parse_map_state(store, params)
    assert state.problems == problems
    assert state.indicator in mappable(store)
    assert state.year in map_years(store, state.indicator, state.division)
    assert state.basemap in BASEMAPS
    assert "<" not in state.query()


def test_area_alone_picks_a_good_indicator_of_that_area(store):
    for area in ("democracy", "work", "upbringing", "housing"):
        state = parse_map_state(store, {"area": area})
        assert state.area == area and state.problems == []
        assert state.indicator == default_indicator(store, area)
    assert parse_map_state(store, {"area": "work"}).indicator == "wage_income_mean"


def test_hostile_link_renders_a_notice_without_echo():
    with dash_app.server.test_request_context("/"):
        page = map_page.layout(indicator="<script>alert(1)</script>", year="1850",
                               division="xx", lang="en")
    text = as_json(page)
    assert "<script" not in text and "alert(1)" not in text
    assert "The link had unknown or invalid choices (indicator, division, year)" in text


# --- figures ------------------------------------------------------------------------------


def test_map_figure_names_geometry_by_url_and_greys_missing_units(store):
    data = mf.map_data(store, "merit_value", "sdo11", 2023, "sv")
    fig = mf.map_figure(data, store, "/geo/sdo11.geojson?v=x")
    missing, shown = fig.data
    assert missing.geojson == shown.geojson == "/geo/sdo11.geojson?v=x"
    assert "coordinates" not in fig.to_json()
    assert len(missing.locations) == 3 and set(missing.locations).isdisjoint(data.codes)
    assert all(c == "#bdbdbd" for _, c in missing.colorscale)
    z = dict(zip(shown.locations, shown.z, strict=True))
    assert all(z[c] is None for c in missing.locations)  # never a zero on the colour scale
    assert sum(v is not None for v in shown.z) == 8
    assert [list(x) for x in shown.colorscale] == colour_scale("higher_is_better")
    assert shown.zmin == min(data.values) and shown.zmax == max(data.values)
    legend = next(a.text for a in fig.layout.annotations if a.name == "missing")
    assert "Uppgift saknas eller för låg täckning (3 av 11 områden)" in legend
    source = next(a.text for a in fig.layout.annotations if a.name == "source")
    assert "Skolverket" in source and "skolor belägna i stadsdelen" in source


def test_titles_units_and_hover_per_language(store):
    sv = mf.map_data(store, "turnout_riksdag", "sdo11", 2022, "sv")
    en = mf.map_data(store, "turnout_riksdag", "sdo11", 2022, "en")
    assert "Valdeltagande" in sv.title and "2022" in sv.title
    assert "procent av röstberättigade" in sv.subtitle and "11 stadsdelsområden" in sv.subtitle
    assert "11 districts" in en.subtitle
    assert "%{z:,.1f} %" in sv.hovertemplate and "Rang %{customdata[0]} av 11" in sv.hovertemplate
    assert "procentenheter" in sv.hovertemplate and "percentage points" in en.hovertemplate
    assert mf.separators("sv") == ",\u202f" and mf.separators("en") == ".,"
    bars = mf.ranking_figure(sv, store)
    assert "61,8 %" in bars.data[0].text and "61.8 %" in mf.ranking_figure(en, store).data[0].text
    assert "Järva" in bars.data[0].hovertext[0]  # lowest first: plotly draws it at the bottom


def test_rank_follows_direction(store):
    data = mf.map_data(store, "social_assistance_share", "sdo11", 2017, "sv")  # lower is better
    best = data.codes[data.ranks.index(1)]
    assert data.values[data.codes.index(best)] == min(data.values)
    assert [list(x) for x in mf.trace_props(data, store.catalog[data.indicator])[1]
            ["colorscale"]] == colour_scale("lower_is_better")


def test_fixed_colours_span_all_years(store):
    years = map_years(store, "employment_rate_20_64", "sdo11")
    datas = [mf.map_data(store, "employment_rate_20_64", "sdo11", y, "sv", fixed=True)
             for y in years]
    lo = min(min(d.values) for d in datas)
    hi = max(max(d.values) for d in datas)
    assert all((d.zmin, d.zmax) == (lo, hi) for d in datas)
    one = mf.map_data(store, "employment_rate_20_64", "sdo11", years[0], "sv")
    assert (one.zmin, one.zmax) != (lo, hi)
    assert "Färgskalan är densamma för alla år" in datas[0].annotations[1]["text"]


def test_long_ranking_shows_the_ends_and_a_selected_middle(store):
    data = mf.map_data(store, "wage_income_mean", "regso", 2023, "sv")
    rows = mf.ranking_rows(data)
    assert len(rows) == 2 * mf.TOP_BOTTOM
    middle = sorted(zip(data.values, data.codes, strict=True))[60][1]
    assert middle in set(mf.ranking_rows(data, selected=middle)["code"])
    fig = mf.ranking_figure(data, store)
    assert "15 högsta och 15 lägsta av 127" in fig.layout.title.subtitle.text


def test_gap_summary_in_plain_words(store):
    sv = mf.gap_summary(store, mf.map_data(store, "turnout_riksdag", "sdo11", 2022, "sv"))
    text = " ".join(sv["sentences"])
    assert "Bromma det högsta värdet (85,1 %)" in text and "Järva det lägsta (61,8 %)" in text
    assert "1,38 gånger" in text and "har ökat från 2010 till 2022" in text
    assert sv["verdict"] == "widening" and "variationskoefficient" in sv["measure"]
    en = mf.gap_summary(store, mf.map_data(store, "turnout_riksdag", "sdo11", 2022, "en"))
    assert "1.38 times" in " ".join(en["sentences"]) and "widened from 2010 to 2022" in \
        " ".join(en["sentences"])
    few = mf.gap_summary(store, mf.map_data(store, "turnout_kommun", "sdo11", 2022, "sv"))
    assert few["verdict"] == "too few years" and few["measure"] is None


def test_approximation_and_counts_say_so(store):
    approx = mf.map_data(store, "employment_rate_20_64", "sdo11", 2014, "en")
    assert "Approximation" in approx.annotations[0]["text"]
    count = mf.map_data(store, "population", "sdo11", 2024, "sv")
    assert "A count" not in count.annotations[0]["text"]
    assert "Antal, inte andel" in count.annotations[0]["text"]
    assert all(c[1] is None for c in count.custom)  # no "difference from the city total"


def test_fit_view_shows_the_whole_city(store):
    bbox = mf.division_bbox(store, "sdo11")
    v = mf.fit_view(bbox, 760, 520)
    w, s, e, n = bbox
    assert w < v["center"]["lon"] < e and s < v["center"]["lat"] < n
    assert 9.3 < v["zoom"] < 10.5  # the city fills the map (plotly's default 9.1 left margins)


# --- callbacks ----------------------------------------------------------------------------


def test_recolour_is_a_small_patch_without_geometry(store):
    meta = {"division": "sdo11", "lang": "sv"}
    with dash_app.server.test_request_context("/"):
        fig, new_meta, version = map_page.update_map(
            "employment_rate_20_64", "2005", "sdo11", False, "white-bg", meta, 3, "sv")
    text = as_json(fig)
    assert '"__dash_patch_update"' in text
    assert "coordinates" not in text and "geojson" not in text and "locations\": [\"" not in text
    assert len(text) < 4000
    assert version == 4 and new_meta is dash_app.dash.no_update
    ops = json.loads(text)["operations"]
    paths = {tuple(op["location"]) for op in ops}
    assert ("data", 1) in paths and ("layout", "title", "text") in paths


def test_recolour_of_the_finest_division_stays_small(store):
    meta = {"division": "basomrade", "lang": "sv"}
    with dash_app.server.test_request_context("/"):
        fig, _, _ = map_page.update_map(
            "employment_rate_20_64", "2010", "basomrade", True, "white-bg", meta, 0, "sv")
    assert len(as_json(fig)) < 16_000  # 419 units; the geometry alone is 250 KB


def test_new_division_sends_full_figure_with_geometry_url(store):
    with dash_app.server.test_request_context("/"):
        fig, meta, _ = map_page.update_map(
            "wage_income_mean", "2023", "regso", False, "white-bg",
            {"division": "sdo11", "lang": "sv"}, 0, "sv")
    assert meta["division"] == "regso" and len(meta["bbox"]) == 4
    assert fig.data[1].geojson.startswith("/geo/regso.geojson?v=")
    assert len(fig.data[1].locations) == 127


def test_patch_applied_equals_a_fresh_figure(store):
    """A patched 2010 figure carries the same values and texts as one built for 2010."""
    old = mf.map_figure(mf.map_data(store, "turnout_riksdag", "sdo11", 2022, "sv"), store, "u")
    new = mf.map_data(store, "turnout_riksdag", "sdo11", 2010, "sv")
    fresh = mf.map_figure(new, store, "u").to_plotly_json()
    patched = json.loads(to_json_plotly(old))
    for op in json.loads(as_json(mf.map_patch(new, store)))["operations"]:
        *path, last = op["location"]
        target = patched
        for key in path:
            target = target[key]
        if op["operation"] == "Merge":
            target[last].update(op["params"]["value"])
        else:
            assert op["operation"] == "Assign"
            target[last] = op["params"]["value"]
    fresh = json.loads(to_json_plotly(fresh))
    for i in (0, 1):
        for key in ("locations", "z", "customdata", "hovertemplate", "zmin", "zmax"):
            assert patched["data"][i].get(key) == fresh["data"][i].get(key), (i, key)
    assert patched["layout"]["title"] == fresh["layout"]["title"]
    assert patched["layout"]["annotations"] == fresh["layout"]["annotations"]


def test_callback_over_http_returns_a_patch():
    client = dash_app.server.test_client()
    client.get("/")
    body = {
        "output": "..map-graph.figure...map-meta.data...map-version.data..",
        "outputs": [{"id": "map-graph", "property": "figure"},
                    {"id": "map-meta", "property": "data"},
                    {"id": "map-version", "property": "data"}],
        "inputs": [{"id": "map-indicator", "property": "value", "value": "turnout_riksdag"},
                   {"id": "map-year", "property": "value", "value": "2010"},
                   {"id": "map-division", "property": "value", "value": "sdo11"},
                   {"id": "map-fixed", "property": "checked", "value": False}],
        "state": [{"id": "map-basemap", "property": "value", "value": "white-bg"},
                  {"id": "map-meta", "property": "data",
                   "value": {"division": "sdo11", "lang": "sv"}},
                  {"id": "map-version", "property": "data", "value": 0},
                  {"id": "map-lang", "property": "data", "value": "sv"}],
        "changedPropIds": ["map-year.value"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200
    assert b"__dash_patch_update" in resp.data and len(resp.data) < 4000


def test_callbacks_survive_garbage_inputs():
    with dash_app.server.test_request_context("/"):
        fig, meta, _ = map_page.update_map("<x>", None, "nope", None, "evil", None, "v", "xx")
        assert meta["division"] == DEFAULT_DIVISION and "<x>" not in fig.to_json()
        assert map_page.on_area("nope", None, "sv") == (dash_app.dash.no_update,) * 2
        side = map_page.update_side(None, "abc", None, None, None, "sv")
        assert side[0].data[0].type == "bar"
        panel = map_page.update_district({"code": "<b>", "division": "sdo11"},
                                         DEFAULT_INDICATOR, "2022", "sdo11", "sv")
        assert "<b>" not in as_json(panel[0])


def test_district_panel_links_to_compare_profile():
    with dash_app.server.test_request_context("/"):
        text, href, label, style, _ = map_page.update_district(
            {"code": "jarva", "division": "sdo11"}, DEFAULT_INDICATOR, "2022", "sdo11", "en")
        assert href == "/compare?districts=jarva&division=sdo11&lang=en"
        assert "Järva" in label and style == {}
        assert "61.8 % · rank 11 of 11 (1 = best)" in as_json(text)
        _, href, _, style, _ = map_page.update_district(
            {"code": "0180R001", "division": "regso"}, "wage_income_mean", "2023", "regso", "sv")
        assert href == "" and style == {"display": "none"}


def test_geometry_route_serves_each_division_once_cacheably(store):
    client = dash_app.server.test_client()
    version = store.info["data_version"]
    resp = client.get(f"/geo/sdo11.geojson?v={version}")
    assert resp.status_code == 200
    assert "immutable" in resp.headers["Cache-Control"]
    assert len(json.loads(resp.data)["features"]) == 11
    gz = client.get(f"/geo/sdo11.geojson?v={version}", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and len(gz.data) < len(resp.data)
    again = client.get(f"/geo/sdo11.geojson?v={version}",
                       headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
    odd = client.get("/geo/..%2Fsecret.geojson")  # not the route: Dash's page shell at most
    assert odd.mimetype != "application/geo+json"
    assert client.get("/geo/atlantis.geojson").status_code == 404
