"""Trends page logic (pages/trends_logic.py): URL state incl. hostile values, data shaping,
figures and sentences, on a small synthetic store with known gaps, plus smoke tests on the
real build. pages/trends.py registers a Dash page, so it is exercised by the browser tests."""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.build import MAP_DIVISIONS
from indicators.catalog import Aggregation, Indicator, Text
from indicators.store import Store
from pages import trends_logic as tl
from pages.i18n import t

# --------------------------------------------------------------------------------------------
# A small store: three districts on sdo11, four on sdo14, known gaps and verdicts

DISTRICTS = {"sdo11": {"aa": "Alfa", "bb": "Beta", "cc": "Gamma"},
             "sdo14": {"aa": "Alfa", "bb": "Beta", "cc": "Gamma", "dd": "Delta"}}


def _ind(id_: str, area: str = "work", **kw) -> Indicator:
    base = dict(
        id=id_, title=Text(sv=f"Titel {id_}", en=f"Title {id_}"),
        unit=Text(sv="procent", en="percent"), short_unit="%", decimals=1,
        direction="higher_is_better", definition=Text(sv="d", en="d"),
        sources=("scb_basomrade_series_2000_2014",), source_division="basomrade",
        aggregation=Aggregation(kind="weighted_mean", variable="x", weight="population"),
        sexes=("total", "female"), area=area,
    )
    return Indicator(**(base | kw))


CATALOG = {
    "emp": _ind("emp", aggregation=Aggregation(kind="weighted_mean", variable="x",
                                               weight="population", approximate=True)),
    "school": _ind("school", area="upbringing", source_division="school",
                   sexes=("total",)),
    "shaky": _ind("shaky", area="democracy", sexes=("total",),
                  reliability_note=Text(sv="Sekundärkälla. Mer text.",
                                        en="Secondary source. More text.")),
    "single": _ind("single", sexes=("total",)),  # one year only: no trend to show
}


def _rows(ind, division, sex, table):
    """table: {district: {year: value or (value, mappable)}}"""
    out = []
    for code, by_year in table.items():
        for year, v in by_year.items():
            value, mappable = v if isinstance(v, tuple) else (v, True)
            out.append(dict(indicator_id=ind, division=division, district_code=code,
                            district_name=DISTRICTS.get(division, {}).get(code, "Stockholm"),
                            year=year, sex=sex, value=value, numerator=np.nan,
                            denominator=np.nan, coverage=1.0 if mappable else 0.5,
                            mappable=mappable, source_division="basomrade", source_ids="x"))
    return out


def _store(tmp_path: Path) -> Store:
    rows = []
    emp = {"aa": {2000: 80.0, 2001: 81.0, 2002: 82.0, 2003: 83.0},
           "bb": {2000: 70.0, 2001: 69.0, 2002: (55.0, False), 2003: 67.0},
           "cc": {2000: 75.0, 2001: 75.5}}
    rows += _rows("emp", "sdo11", "total", emp)
    rows += _rows("emp", "sdo11", "female", {"aa": {2000: 79.0, 2001: 80.0},
                                             "bb": {2000: 68.0, 2001: 66.0}})
    rows += _rows("emp", "sdo14", "total", emp | {"dd": {2000: 60.0, 2001: 61.0}})
    rows += _rows("emp", "city", "total", {"stockholm": {1999: 74.0, 2000: 75.0, 2001: 75.2,
                                                         2002: 75.9, 2003: 76.0, 2004: 77.0}})
    rows += _rows("school", "sdo11", "total", {"aa": {2021: 230.0, 2022: 232.0},
                                               "bb": {2021: 220.0, 2022: 210.0},
                                               "cc": {2022: 240.0}})
    rows += _rows("shaky", "sdo11", "total", {"aa": {2010: 1.0, 2014: 2.0},
                                              "bb": {2010: 3.0, 2014: 0.0}})
    rows += _rows("single", "sdo11", "total", {"aa": {2020: 1.0}, "bb": {2020: 2.0}})
    indicators = pd.DataFrame(rows)
    ineq = []
    for year, cv, rng in ((2000, 0.05, 10.0), (2001, 0.06, 12.0), (2003, 0.09, 16.0)):
        ineq += [("emp", "sdo11", year, "total", "cv", cv, 3),
                 ("emp", "sdo11", year, "total", "range", rng, 3),
                 ("emp", "sdo11", year, "total", "ratio", 1.2, 3),
                 ("emp", "sdo11", year, "total", "theil", 0.001, 3)]
    ineq += [("shaky", "sdo11", 2010, "total", "ratio", 3.0, 2),
             ("shaky", "sdo11", 2014, "total", "ratio", np.nan, 2)]
    inequality = pd.DataFrame(ineq, columns=["indicator_id", "division", "year", "sex",
                                             "measure", "value", "n_districts"])
    verdicts = pd.DataFrame([
        dict(indicator_id="emp", division="sdo11", sex="total", first_year=2000,
             last_year=2003, first_cv=0.05, last_cv=0.09, n_years=3, verdict="widening"),
        dict(indicator_id="school", division="sdo11", sex="total", first_year=2022,
             last_year=2022, first_cv=0.05, last_cv=0.05, n_years=1, verdict="too few years"),
    ])
    geo = tmp_path / "geo"
    geo.mkdir()
    for d in MAP_DIVISIONS:
        feats = [{"type": "Feature", "id": c, "properties": {"name": n}, "geometry": None}
                 for c, n in DISTRICTS.get(d, {}).items()]
        (geo / f"{d}.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                      "features": feats}))
    return Store(build_dir=tmp_path, indicators=indicators, inequality=inequality,
                 verdicts=verdicts, crosswalk_report=pd.DataFrame(),
                 reconciliation=pd.DataFrame(), info={}, catalog=CATALOG)


@pytest.fixture
def store(tmp_path) -> Store:
    return _store(tmp_path)


# --------------------------------------------------------------------------------------------
# availability


def test_offered_indicators_divisions_and_sexes(store):
    assert tl.trend_indicators(store) == ["emp", "school", "shaky"]  # not the one-year series
    assert tl.trend_divisions(store, "emp") == ["sdo11", "sdo14"]
    assert tl.trend_sexes(store, "emp", "sdo11") == ["total", "female"]
    assert tl.trend_sexes(store, "emp", "sdo14") == ["total"]
    assert tl.trend_years(store, "emp", "sdo11") == [2000, 2001, 2002, 2003]
    assert "regso" not in tl.TREND_DIVISIONS and "basomrade" not in tl.TREND_DIVISIONS


# --------------------------------------------------------------------------------------------
# URL state


def test_default_view(store):
    s = tl.parse_trends_state(store, {})
    assert (s.lang, s.indicator, s.area, s.division, s.sex, s.measure) == (
        "sv", "emp", "work", "sdo11", "total", "cv")
    assert s.districts == ("aa", "bb")  # highest and lowest in the last year
    assert s.problems == []


def test_query_round_trip(store):
    s = tl.parse_trends_state(store, {"indicator": "emp", "division": "sdo11", "sex": "female",
                                      "measure": "theil", "districts": "bb,aa", "lang": "en"})
    assert s.problems == []
    params = {k: v[0] for k, v in parse_qs(s.query()[1:], keep_blank_values=True).items()}
    assert tl.parse_trends_state(store, params) == s


def test_empty_selection_is_kept_and_round_trips(store):
    s = tl.parse_trends_state(store, {"districts": ""})
    assert s.districts == () and s.problems == []
    assert s.query().endswith("&districts=")
    params = {k: v[0] for k, v in parse_qs(s.query()[1:], keep_blank_values=True).items()}
    assert tl.parse_trends_state(store, params).districts == ()


HOSTILE = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "x" * 5000, "emp\x00", "../../etc/passwd", "%3Cscript%3E", "ünïcødé 🙂", " emp",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_values_fall_back_and_are_only_named(store, bad):
    params = {k: bad for k in ("lang", "area", "indicator", "division", "sex", "measure",
                               "districts")}
    s = tl.parse_trends_state(store, params)
    assert (s.lang, s.indicator, s.division, s.sex, s.measure) == (
        "sv", "emp", "sdo11", "total", "cv")
    assert s.districts == ("aa", "bb")
    assert {"lang", "indicator", "division", "sex", "measure", "districts"} <= set(s.problems)
    notice = tl.notice_text(s.problems, s.lang)
    assert "indikator" in notice and "markerade områden" in notice
    for text in (notice, s.query()):
        assert bad not in text and "<" not in text


def test_unoffered_values_fall_back_with_notice(store):
    s = tl.parse_trends_state(store, {"indicator": "single", "division": "regso"})
    assert s.indicator == "emp" and set(s.problems) == {"indicator", "division"}
    s = tl.parse_trends_state(store, {"indicator": "emp", "division": "sdo14", "sex": "female"})
    assert (s.division, s.sex, s.problems) == ("sdo14", "total", ["sex"])  # no women on sdo14
    s = tl.parse_trends_state(store, {"indicator": "nope", "area": "upbringing"})
    assert s.indicator == "school" and s.problems == ["indicator"]  # the area's first


def test_repeated_and_non_string_params(store):
    s = tl.parse_trends_state(store, {"indicator": ["emp", "school"], "measure": 3,
                                      "districts": ["aa", "cc"]})
    assert s.indicator == "emp" and s.measure == "cv"
    assert set(s.problems) == {"indicator", "measure"}
    assert s.districts == ("aa", "cc")  # a multi-select's list value is fine


def test_districts_unknown_duplicates_and_too_many(store, monkeypatch):
    s = tl.parse_trends_state(store, {"districts": "cc,zz,cc,aa"})
    assert s.districts == ("cc", "aa") and s.problems == ["districts"]
    s = tl.parse_trends_state(store, {"districts": "zz,yy"})
    assert s.districts == ("aa", "bb") and s.problems == ["districts"]  # default, not empty
    s = tl.parse_trends_state(store, {"division": "sdo14", "districts": "dd, aa"})
    assert s.districts == ("dd", "aa") and s.problems == []
    monkeypatch.setattr(tl, "MAX_SELECTED", 2)
    s = tl.parse_trends_state(store, {"districts": "cc,bb,aa"})
    assert s.districts == ("cc", "bb") and s.problems == ["districts"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(
    st.sampled_from(["lang", "area", "indicator", "division", "sex", "measure", "districts",
                     "year", "other"]),
    st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=3), st.none(),
              st.integers()),
))
def test_parsing_never_raises_and_is_always_valid(store, params):
    s = tl.parse_trends_state(store, params)
    assert s.indicator in tl.trend_indicators(store)
    assert s.division in tl.trend_divisions(store, s.indicator)
    assert s.sex in tl.trend_sexes(store, s.indicator, s.division)
    assert s.measure in tl.MEASURES and s.lang in ("sv", "en")
    assert set(s.districts) <= set(tl.district_names(store, s.division))
    assert len(s.districts) <= tl.MAX_SELECTED


# --------------------------------------------------------------------------------------------
# data shaping


def test_district_series_has_gaps_never_zeros(store):
    s = tl.district_series(store, "emp", "sdo11", "total")
    assert len(s) == 3 * 4  # full grid: every district x every year with any value
    b = s[s["district_code"] == "bb"].set_index("year")["value"]
    assert math.isnan(b[2002])  # not mappable (coverage too low): a gap, not 55 and not 0
    c = s[s["district_code"] == "cc"].set_index("year")["value"]
    assert math.isnan(c[2002]) and math.isnan(c[2003])
    assert (s["value"].dropna() != 0).all()


def test_city_series_within_the_district_years(store):
    c = tl.city_series(store, "emp", "total", [2000, 2001, 2002, 2003])
    assert list(c["year"]) == [2000, 2001, 2002, 2003]
    assert tl.city_series(store, "emp", "female", [2000, 2001]).empty


def test_inequality_series_marks_unmeasured_years(store):
    q = tl.inequality_series(store, "emp", "sdo11", "total", "cv")
    assert list(q["year"]) == [2000, 2001, 2002, 2003]
    assert list(q["measured"]) == [True, True, False, True]
    assert math.isnan(q.loc[2, "value"]) and q.loc[2, "n_districts"] == 1  # only aa in 2002
    assert q.loc[3, "value"] == pytest.approx(0.09)
    notes = tl.gap_notes(q, "sv")
    assert len(notes) == 1 and "2002" in notes[0] and "två tredjedelar" in notes[0]


def test_undefined_measure_is_explained(store):
    q = tl.inequality_series(store, "shaky", "sdo11", "total", "ratio")
    notes = tl.gap_notes(q, "en")
    assert len(notes) == 1 and "2014" in notes[0] and "zero" in notes[0]


# --------------------------------------------------------------------------------------------
# figures


def _lines(store, selected=("aa",), lang="sv", sex="total"):
    series = tl.district_series(store, "emp", "sdo11", sex)
    city = tl.city_series(store, "emp", sex, tl.trend_years(store, "emp", "sdo11", sex))
    return tl.lines_figure(series, city, CATALOG["emp"], "sdo11", sex, selected, lang,
                           footer=["Källa: X", "Approximation"])


def test_lines_figure_highlights_selected_and_greys_the_rest(store):
    fig = _lines(store, selected=("bb", "aa"))
    by_name = {tr.name: tr for tr in fig.data if tr.showlegend is not False}
    assert set(by_name) == {"Alfa", "Beta", "Gamma", t("trends_city_line", "sv")}
    assert by_name["Beta"].line.color == tl.PALETTE[0]  # colours follow selection order
    assert by_name["Alfa"].line.color == tl.PALETTE[1]
    assert by_name["Gamma"].line.color == tl.GREYED  # greyed, not hidden
    assert by_name["Gamma"].visible is None
    assert by_name["Beta"].meta == "bb"  # the legend click handler reads the code here
    city = by_name[t("trends_city_line", "sv")]
    assert city.line.dash == "dash" and not city.meta
    # highlighted lines are drawn over the grey ones
    names = [tr.name for tr in fig.data]
    assert names.index("Gamma") < names.index("Beta")
    assert fig.layout.legend.itemdoubleclick is False


def test_lines_figure_draws_gaps_as_gaps(store):
    fig = _lines(store, selected=("bb",))
    beta = next(tr for tr in fig.data if tr.name == "Beta" and tr.showlegend is not False)
    ys = list(beta.y)
    assert math.isnan(ys[2]) and 0 not in ys and beta.connectgaps is False
    # a dotted bridge (no legend, no hover) joins the values around the gap
    bridge = next(tr for tr in fig.data if tr.name is None and tr.meta == "bb")
    assert bridge.line.dash == "dot" and list(bridge.x) == [2000, 2001, 2003]
    assert bridge.hoverinfo == "skip"


def test_lines_figure_explains_itself(store):
    fig = _lines(store)
    title = fig.layout.title.text
    for part in ("Titel emp", "2000–2003", "procent", "11 stadsdelsområden"):
        assert part in title
    footer = " ".join(a.text for a in fig.layout.annotations)
    assert "Källa: X" in footer and "Approximation" in footer
    assert fig.layout.separators == ",\u202f"
    en = _lines(store, lang="en", sex="female")
    assert "Title emp, women" in en.layout.title.text and en.layout.separators == ".,"


def test_nothing_selected_draws_all_lines_alike(store):
    fig = _lines(store, selected=())
    colours = {tr.line.color for tr in fig.data if tr.name in ("Alfa", "Beta", "Gamma")}
    assert colours == {tl.UNSELECTED}


def test_lines_table_is_exactly_the_chart(store):
    series = tl.district_series(store, "emp", "sdo11", "total")
    city = tl.city_series(store, "emp", "total", [2000, 2001, 2002, 2003])
    table = tl.lines_table_frame(series, city, "sv")
    assert list(table.columns) == ["district_name", "2000", "2001", "2002", "2003"]
    # ordered like the legend: by each line's last value, highest first; the city last
    assert list(table["district_name"]) == ["Alfa", "Gamma", "Beta", "Hela staden"]
    fig = tl.lines_figure(series, city, CATALOG["emp"], "sdo11", "total", (), "sv")
    for tr in fig.data:
        row = table[table["district_name"] == tr.name].iloc[0]
        drawn = dict(zip(tr.x, tr.y, strict=True))
        for y in (2000, 2001, 2002, 2003):
            a, b = row[str(y)], drawn.get(y, np.nan)
            assert (math.isnan(a) and math.isnan(b)) or a == b


def test_inequality_figure(store):
    q = tl.inequality_series(store, "emp", "sdo11", "total", "range")
    fig = tl.inequality_figure(q, "range", CATALOG["emp"], "sdo11", "total", "en",
                               verdict="the differences have widened (2000–2003)")
    main = fig.data[-1]
    assert list(main.x) == [2000, 2001, 2002, 2003] and math.isnan(main.y[2])
    assert main.y[3] == 16.0 and main.connectgaps is False
    assert fig.data[0].line.dash == "dot"  # bridge over 2002
    assert "Range (highest − lowest)" in fig.layout.title.text
    assert "Verdict: the differences have widened" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "percent"
    table = tl.inequality_table_frame(q)
    assert list(table["year"]) == ["2000", "2001", "2002", "2003"]


# --------------------------------------------------------------------------------------------
# sentences and notes


def test_verdict_sentences(store):
    row = tl.verdict_row(store, "emp", "sdo11", "total")
    head, detail, rule = tl.verdict_sentences(row, "sv")
    assert head == "Skillnaderna mellan områdena har ökat 2000–2003."
    assert "0,050" in detail and "0,090" in detail and "+80,0 %" in detail and "3 år" in detail
    assert "5 %" in rule and "minst hälften" in rule
    head, detail, _ = tl.verdict_sentences(tl.verdict_row(store, "school", "sdo11", "total"),
                                           "en")
    assert head.startswith("Too few years") and "2022" in head and detail is None
    head, detail, rule = tl.verdict_sentences(None, "en")
    assert "cannot be measured" in head and detail is None and "5 %" in rule
    for verdict, word in (("narrowing", "narrowed"), ("no clear change", "No clear change")):
        r = dict(row, verdict=verdict)
        assert word in tl.verdict_sentences(r, "en")[0]
        assert tl.verdict_short(r, "en")


def test_data_notes_schools_approximation_reliability(store):
    notes = tl.data_notes(CATALOG["school"], "sdo11", [2021, 2022], "sv")
    assert t("schools_note", "sv") in notes
    notes = tl.data_notes(CATALOG["emp"], "sdo11", [2000, 2003], "en")
    assert t("approx_note", "en") in notes
    assert any("not in use before 2023" in n for n in notes)  # sdo11 took effect 2023
    notes = tl.data_notes(CATALOG["shaky"], "sdo14", [2010, 2014], "en")
    assert any("Secondary source. More text." in n for n in notes)
    assert not any("recomputed" in n for n in notes)  # sdo14 was in use 2007-2020
    notes = tl.data_notes(CATALOG["shaky"], "sdo14", [2000, 2022], "sv")
    assert any("före 2007 och efter 2020" in n for n in notes)
    assert tl.chart_notes(CATALOG["shaky"], "en") == ["Reliability: Secondary source."]
    assert tl.chart_notes(CATALOG["school"], "en") == [t("schools_note", "en")]


# --------------------------------------------------------------------------------------------
# the real build: every offered view draws


@pytest.fixture(scope="module")
def real_store(built_store):
    return built_store


def test_real_default_view(real_store):
    s = tl.parse_trends_state(real_store, {})
    assert s.problems == [] and s.division == "sdo11"
    assert s.indicator in tl.DEFAULT_INDICATORS
    assert len(tl.trend_years(real_store, s.indicator, s.division)) >= 10
    assert len(s.districts) == 2


def test_real_every_offered_view_draws(real_store):
    for ind_id in tl.trend_indicators(real_store):
        ind = real_store.catalog[ind_id]
        for div in tl.trend_divisions(real_store, ind_id):
            assert div in tl.TREND_DIVISIONS
            for sex in tl.trend_sexes(real_store, ind_id, div):
                series = tl.district_series(real_store, ind_id, div, sex)
                years = sorted(series["year"].unique())
                city = tl.city_series(real_store, ind_id, sex, years)
                tl.lines_figure(series, city, ind, div, sex, (), "sv")
                q = tl.inequality_series(real_store, ind_id, div, sex, "cv")
                tl.inequality_figure(q, "cv", ind, div, sex, "en")
                # every measured year is exactly the inequality table's value
                ref = real_store.inequality
                ref = ref[(ref["indicator_id"] == ind_id) & (ref["division"] == div)
                          & (ref["sex"] == sex) & (ref["measure"] == "cv")]
                assert q["measured"].sum() == len(ref)


def test_narrow_screens_stack_the_legend_and_wrap_text(store):
    series = tl.district_series(store, "emp", "sdo11", "total")
    city = tl.city_series(store, "emp", "total", [2000, 2001, 2002, 2003])
    wide = tl.lines_figure(series, city, CATALOG["emp"], "sdo11", "total", (), "sv",
                           footer=["Källa: " + "lång text " * 40])
    narrow = tl.lines_figure(series, city, CATALOG["emp"], "sdo11", "total", (), "sv",
                             footer=["Källa: " + "lång text " * 40], width=390)
    assert wide.layout.legend.orientation is None and narrow.layout.legend.orientation == "h"
    assert narrow.layout.margin.t > wide.layout.margin.t
    longest = max(len(line) for line in narrow.layout.annotations[0].text.split("<br>"))
    assert longest < 60
    q = tl.inequality_series(store, "emp", "sdo11", "total", "cv")
    fig = tl.inequality_figure(q, "cv", CATALOG["emp"], "sdo11", "total", "sv", width=390)
    assert fig.layout.title.text.count("<br>") >= 2
