"""Compare page builders (pages/compare_profile.py) with small known inputs, and its URL parsing.

pages/compare.py itself registers a Dash page, so it is exercised by the browser tests only.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plotly.colors import hex_to_rgb

from geo.names import DIVISION_CODES
from indicators.catalog import Aggregation, Indicator, Text
from pages import figures
from pages.compare_profile import (
    MAX_DISTRICTS,
    area_figure,
    area_table,
    build_profile,
    change_text,
    chart_rows,
    index_colours,
    map_districts,
    notice_texts,
    parse_compare_state,
    select_rows,
    short_publisher,
    verdict,
)

# --------------------------------------------------------------------------------------------
# URL parsing


def test_default_view_is_two_contrasting_districts():
    s = parse_compare_state({})
    assert (s.division, s.districts, s.lang, s.problems) == ("sdo11", ("jarva", "bromma"), "sv",
                                                            [])


def test_shared_link_restores_exactly():
    s = parse_compare_state({"districts": "farsta,bromma,jarva", "division": "sdo11",
                             "lang": "en"})
    assert s.districts == ("farsta", "bromma", "jarva")
    assert s.lang == "en" and s.problems == []
    assert s.query() == {"districts": "farsta,bromma,jarva", "division": "sdo11", "lang": "en"}


def test_names_and_codes_both_resolve_and_duplicates_collapse():
    s = parse_compare_state({"districts": "Hässelby-Vällingby, bromma,BROMMA,Järva"})
    assert s.districts == ("hasselby_vallingby", "bromma", "jarva")
    assert s.problems == []


def test_other_divisions():
    s = parse_compare_state({"districts": "rinkeby_kista,alvsjo", "division": "sdo14"})
    assert s.districts == ("rinkeby_kista", "alvsjo")
    s = parse_compare_state({"division": "sdo13"})
    assert s.districts == ("rinkeby_kista", "bromma")


def test_unknown_district_is_dropped_with_a_notice():
    s = parse_compare_state({"districts": "atlantis,bromma"})
    assert s.districts == ("bromma",)
    assert s.problems == ["cmp_notice_districts"]


def test_district_of_another_division_is_unknown_there():
    s = parse_compare_state({"districts": "jarva", "division": "sdo14"})
    assert s.districts == ("rinkeby_kista", "bromma")  # the division's default
    assert s.problems == ["cmp_notice_districts", "cmp_notice_default"]


def test_more_than_four_keeps_the_first_four():
    s = parse_compare_state({"districts": ",".join(DIVISION_CODES["sdo11"])})
    assert s.districts == DIVISION_CODES["sdo11"][:MAX_DISTRICTS]
    assert s.problems == ["cmp_notice_too_many"]


def test_script_in_parameters_falls_back_and_is_never_echoed():
    hostile = "<script>alert(1)</script>"
    s = parse_compare_state({"districts": hostile, "division": hostile, "lang": hostile})
    assert (s.division, s.districts, s.lang) == ("sdo11", ("jarva", "bromma"), "sv")
    assert set(s.problems) == {"cmp_notice_lang", "cmp_notice_division",
                               "cmp_notice_districts", "cmp_notice_default"}
    text = " ".join(notice_texts(s))
    assert "<" not in text and "script" not in text and "alert" not in text


def test_repeated_and_overlong_parameters():
    s = parse_compare_state({"districts": ["jarva", "bromma,farsta"], "lang": ["en", "sv"]})
    assert s.districts == ("jarva", "bromma", "farsta") and s.lang == "en"
    s = parse_compare_state({"districts": "bromma," * 500})
    assert s.districts == ("jarva", "bromma") and "cmp_notice_districts" in s.problems


def test_empty_districts_is_the_default_without_a_notice():
    s = parse_compare_state({"districts": ""})
    assert s.districts == ("jarva", "bromma") and s.problems == []


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["districts", "division", "lang", "x"]),
                       st.one_of(st.text(max_size=60), st.lists(st.text(max_size=20),
                                                                 max_size=3))))
def test_any_query_parses_without_error_or_echo(params):
    s = parse_compare_state(params)
    assert s.division in ("sdo11", "sdo13", "sdo14")
    assert 1 <= len(s.districts) <= MAX_DISTRICTS
    assert set(s.districts) <= set(DIVISION_CODES[s.division])
    for line in notice_texts(s):
        for value in params.values():
            for v in (value if isinstance(value, list) else [value]):
                if len(v) > 3 and v.strip():
                    assert v not in line


def test_map_districts_between_divisions():
    assert map_districts(["jarva", "bromma"], "sdo13") == ["rinkeby_kista", "spanga_tensta",
                                                           "bromma"]
    assert map_districts(["rinkeby_kista", "spanga_tensta"], "sdo11") == ["jarva"]
    assert map_districts(["hagersten_alvsjo"], "sdo14") == ["alvsjo", "hagersten_liljeholmen"]
    assert map_districts(["norra_innerstaden", "jarva", "bromma"], "sdo14") == [
        "norrmalm", "ostermalm", "rinkeby_kista", "spanga_tensta"]


# --------------------------------------------------------------------------------------------
# Profile from a small known table


def _ind(id_, direction="higher_is_better", *, kind="ratio", source_division="regso",
         mappable=True, note=None, sexes=("total",), unit="procent", area="work"):
    agg = (Aggregation(kind=kind, variable="n") if kind == "sum"
           else Aggregation(kind="ratio", numerator="a", denominator="b"))
    return Indicator(
        id=id_, title=Text(sv=f"Titel {id_}", en=f"Title {id_}"), unit=Text(sv=unit, en=unit),
        short_unit="%" if unit == "procent" else "", decimals=1, direction=direction,
        definition=Text(sv="d", en="d"), sources=("src",), source_division=source_division,
        aggregation=agg, sexes=sexes, mappable=mappable,
        reliability_note=Text(sv=note, en=note) if note else None, area=area,
    )


CATALOG = {
    "a": _ind("a"),
    "low": _ind("low", "lower_is_better", area="health", source_division="school"),
    "neu": _ind("neu", "neutral", area="housing"),
    "cnt": _ind("cnt", "neutral", kind="sum", unit="personer", area="democracy"),
    "fem": _ind("fem", area="health", sexes=("female",), mappable=False,
                note="Sekundärkälla."),
    "none": _ind("none", area="upbringing"),
}


def _rows(ind, div, code, year, value, coverage=1.0, sex="total"):
    return {"indicator_id": ind, "division": div, "district_code": code, "district_name": code,
            "year": year, "sex": sex, "value": value, "numerator": np.nan,
            "denominator": np.nan, "coverage": coverage, "mappable": True,
            "source_division": "regso", "source_ids": "src"}


def _table() -> pd.DataFrame:
    r = [
        # a: jarva missing in 2020 (must be 'no data', never zero); bromma all years
        _rows("a", "sdo11", "jarva", 2010, 50.0), _rows("a", "sdo11", "jarva", 2015, 55.0),
        _rows("a", "sdo11", "bromma", 2010, 60.0), _rows("a", "sdo11", "bromma", 2015, 65.0),
        _rows("a", "sdo11", "bromma", 2020, 70.0, coverage=0.8),
        _rows("a", "city", "city", 2010, 55.0), _rows("a", "city", "city", 2020, 66.0),
        _rows("a", "sdo13", "bromma", 2015, 99.0),  # another division: ignored
        # low (lower is better): jarva worse, bromma better than the city
        _rows("low", "sdo11", "jarva", 2021, 20.0), _rows("low", "sdo11", "bromma", 2021, 5.0),
        _rows("low", "city", "city", 2021, 10.0),
        _rows("neu", "sdo11", "jarva", 2023, 30.0), _rows("neu", "sdo11", "bromma", 2023, 15.0),
        _rows("neu", "city", "city", 2023, 20.0),
        _rows("cnt", "sdo11", "jarva", 2024, 95000.0), _rows("cnt", "city", "city", 2024, 1e6),
        _rows("fem", "sdo11", "jarva", 2020, 40.0, sex="female"),
    ]
    return pd.DataFrame(r)


@pytest.fixture(scope="module")
def profile():
    return build_profile(_table(), CATALOG, "sdo11")


def _row(rows, ind):
    return next(r for area in rows.values() for r in area if r.indicator_id == ind)


def test_profile_groups_by_area_in_catalog_order(profile):
    assert [s.indicator_id for s in profile.series["health"]] == ["low", "fem"]
    assert profile.without_data["upbringing"] == ["none"]
    assert profile.series["health"][1].sex == "female"  # no total: the sex that exists


def test_latest_year_first_year_and_missing_is_missing(profile):
    rows = select_rows(profile, CATALOG, ["jarva", "bromma"])
    a = _row(rows, "a")
    assert a.year == 2020 and a.city == 66.0
    jarva, bromma = a.cells["jarva"], a.cells["bromma"]
    assert jarva.value is None and jarva.index is None  # missing, not zero
    assert (jarva.seen_year, jarva.seen_value) == (2015, 55.0)
    assert bromma.value == 70.0 and bromma.index == pytest.approx(100 * 70 / 66)
    assert (bromma.first_year, bromma.first_value) == (2010, 60.0)
    assert bromma.incomplete
    assert (a.city_first_year, a.city_first_value) == (2010, 55.0)


def test_latest_year_depends_on_the_chosen_districts(profile):
    a = _row(select_rows(profile, CATALOG, ["jarva"]), "a")
    assert a.year == 2015
    assert a.city is None and not a.comparable  # no city row for 2015: said, not invented
    assert a.cells["jarva"].value == 55.0 and a.cells["jarva"].index is None


def test_counts_are_not_indexed(profile):
    cnt = _row(select_rows(profile, CATALOG, ["jarva"]), "cnt")
    assert cnt.city == 1e6 and not cnt.comparable and cnt.cells["jarva"].index is None


def test_verdicts_follow_direction():
    assert verdict(120, "higher_is_better") == "better"
    assert verdict(80, "higher_is_better") == "worse"
    assert verdict(120, "lower_is_better") == "worse"
    assert verdict(120, "neutral") == "neutral"
    assert verdict(100.2, "lower_is_better") == "same"
    assert verdict(None, "lower_is_better") == "none"


def test_index_colours_use_the_shared_scale():
    def rgb(c):
        return tuple(int(float(x)) for x in c[c.index("(") + 1:-1].split(","))

    assert rgb(index_colours(200, "higher_is_better")[0]) == hex_to_rgb(figures.BETTER)
    assert rgb(index_colours(200, "lower_is_better")[0]) == hex_to_rgb(figures.WORSE)
    assert rgb(index_colours(50, "higher_is_better")[0]) == hex_to_rgb(figures.WORSE)
    assert rgb(index_colours(100, "higher_is_better")[0]) == hex_to_rgb(figures.MID)
    assert index_colours(200, "neutral")[0] == index_colours(None, "higher_is_better")[0]


def test_change_text_shows_years_and_values():
    assert change_text(2010, 60.0, 2020, 70.0, CATALOG["a"], "sv") == (
        "2010 → 2020: 60,0 → 70,0 (+10,0)")
    assert change_text(2010, 60.0, 2020, 50.0, CATALOG["a"], "en") == (
        "2010 → 2020: 60.0 → 50.0 (-10.0)")
    assert change_text(2020, 49.43, 2023, 49.41, CATALOG["a"], "sv") == (
        "2020 → 2023: 49,4 → 49,4 (0,0)")  # never −0,0


def test_figure_one_trace_per_district_at_the_index(profile):
    rows = select_rows(profile, CATALOG, ["jarva", "bromma"])
    fig = area_figure(rows["health"], "health", ["jarva", "bromma"], CATALOG, "sdo11", "sv",
                      ["SCB"])
    go.Figure(fig)  # valid plotly
    traces = [t for t in fig["data"] if t["name"] in ("Järva", "Bromma")]
    assert [t["name"] for t in traces] == ["Järva", "Bromma"]
    assert traces[0]["x"] == [pytest.approx(200.0)] and traces[1]["x"] == [pytest.approx(50.0)]
    layout = fig["layout"]
    assert "Välbefinnande och hälsa" in layout["title"]["text"]
    assert "staden = 100" in layout["title"]["text"] and "11 stadsdelsområden" in (
        layout["title"]["text"])
    assert any("Källa: SCB" in a["text"] for a in layout["annotations"])
    # 'low' is lower-is-better: the better (purple) band is left of the city line
    bands = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert [b["fillcolor"] for b in bands] == [figures.BETTER, figures.WORSE]
    assert layout["yaxis"]["ticktext"] == ["Titel low (2021)"]  # 'fem' has no city value


def test_figure_marks_incomplete_values_and_skips_neutral_bands(profile):
    rows = select_rows(profile, CATALOG, ["bromma"])
    fig = area_figure(rows["work"], "work", ["bromma"], CATALOG, "sdo11", "en", ["SCB"])
    bromma = fig["data"][0]
    assert bromma["marker"]["symbol"] == ["circle-open"]  # coverage 0.8
    assert any(t["name"].startswith("Hollow") for t in fig["data"])
    neu = area_figure(rows["housing"], "housing", ["bromma"], CATALOG, "sdo11", "en", [])
    assert not [s for s in neu["layout"]["shapes"] if s["type"] == "rect"]


def test_figure_none_when_nothing_is_comparable(profile):
    rows = select_rows(profile, CATALOG, ["jarva"])
    assert area_figure(rows["democracy"], "democracy", ["jarva"], CATALOG, "sdo11", "sv",
                       []) is None  # only a count
    assert chart_rows(rows["democracy"]) == []


def _render(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json(),
                      ensure_ascii=False)


def test_table_says_missing_city_and_notes(profile):
    rows = select_rows(profile, CATALOG, ["jarva", "bromma"])
    html_a = _render(area_table(rows["work"], ["jarva", "bromma"], CATALOG, "sv"))
    assert "Uppgift saknas" in html_a
    assert "Senast 2015: 55,0 %" in html_a
    assert "70,0 %*" in html_a and "täckning 80 %" in html_a
    assert "Ofullständigt underlag" in html_a
    assert '"data-verdict": "better"' in html_a  # 70 vs 66, higher is better
    assert "2010 → 2020: 60,0 → 70,0 (+10,0)" in html_a
    html_h = _render(area_table(rows["health"], ["jarva", "bromma"], CATALOG, "sv"))
    assert "Avser skolor belägna i stadsdelen" in html_h  # school indicator
    assert "Sekundärkälla." in html_h and "Gles serie" in html_h
    assert "Stadsvärde saknas för 2020" in html_h
    assert "(kvinnor/flickor)" in html_h
    assert '"data-verdict": "worse"' in html_h  # jarva 20 vs 10, lower is better
    html_n = _render(area_table(rows["housing"], ["jarva", "bromma"], CATALOG, "en"))
    assert '"data-verdict": "neutral"' in html_n and "worse" not in html_n


def test_short_publisher():
    assert short_publisher("Valmyndigheten, riksdagsvalet 2010, slutligt") == "Valmyndigheten"
    assert short_publisher("Statistiska centralbyrån (SCB), RegSO 2025") == "SCB"
    assert short_publisher("Länsstyrelsen, x") == "Länsstyrelsen"


# --------------------------------------------------------------------------------------------
# The real build: a change of districts answers from the precomputed profile quickly


@pytest.mark.mirror
def test_real_store_selection_builds_every_area(built_store):
    store = built_store
    profile = build_profile(store.indicators, store.catalog, "sdo11")
    chosen = ["jarva", "bromma", "farsta", "norra_innerstaden"]
    rows = select_rows(profile, store.catalog, chosen)
    for area, area_rows in rows.items():
        area_figure(area_rows, area, chosen, store.catalog, "sdo11", "sv", ["SCB"])
        area_table(area_rows, chosen, store.catalog, "sv")
    assert sum(len(r) for r in rows.values()) > 20
