"""The data and sources page without a browser: note builders with small inputs, URL parsing
(hostile input included), search and filters, and every catalog indicator's detail."""

from __future__ import annotations

import pandas as pd
import pytest
from dash import html

from pages import data_logic as dl
from pages.data_logic import (
    DataState,
    SplitStats,
    crosswalk_sentence,
    election_sentence,
    fmt_cov,
    fmt_pct,
    merges_text,
    parse_data_state,
    reconciliation_sentence,
    split_stats,
    state_from_search,
    year_ranges,
)

NB = "\u202f"  # thousands separator in Swedish numbers (pages.i18n.fmt_number)
CATALOG = {"turnout_riksdag": object(), "population": object()}


@pytest.fixture(scope="module")
def store():
    from indicators.store import get_store

    return get_store()


def walk(component):
    """Every component in a Dash tree (lists, children and component-valued props)."""
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from walk(c)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    yield component
    for name in getattr(component, "_prop_names", []):
        value = getattr(component, name, None)
        if isinstance(value, (list, tuple)) or hasattr(value, "to_plotly_json"):
            yield from walk(value)


def texts(component) -> str:
    out = []
    for c in walk(component):
        for name in ("children", "label", "description"):
            v = getattr(c, name, None)
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, list):
                out += [x for x in v if isinstance(x, str)]
    return " ".join(out)


# --- formatting -------------------------------------------------------------------------------


def test_year_ranges():
    assert year_ranges([2005, 2000, 2001, 2002, 2002]) == "2000–2002, 2005"
    assert year_ranges([2014]) == "2014"
    assert year_ranges([2010, 2018, 2022]) == "2010, 2018, 2022"
    assert year_ranges([]) == "–"


def test_percent_formats():
    assert fmt_pct(0.1534, "sv") == "0,15\u00a0%"
    assert fmt_pct(0.1534, "en") == "0.15%"
    assert fmt_pct(-3.788, "sv", 1) == "\u22123,8\u00a0%"
    assert fmt_pct(None, "en") == "No data"
    # coverage is rounded down: an incomplete district never reads 100 %
    assert fmt_cov(0.99976, "sv") == "99,9\u00a0%"
    assert fmt_cov(1.0, "en") == "100%"
    assert fmt_cov(0.5, "en") == "50.0%"


# --- aggregation notes ------------------------------------------------------------------------


def _cw(rows):
    return pd.DataFrame(rows, columns=["from_code", "to_code", "weight", "rule"])


def test_split_stats_counts_and_moved_population():
    cw = _cw([
        ("a", "x", 1.0, "within"),
        ("b", "x", 1.0, "largest_overlap"),  # nested by the 99 % rule: snapped, not split
        ("b", "y", 0.0, "largest_overlap"),
        ("c", "x", 0.7, "population"),
        ("c", "y", 0.3, "population"),
        ("d", "y", 0.5, "area"),
        ("d", "z", 0.5, "area"),
    ])
    sizes = pd.Series({"a": 100.0, "b": 50.0, "c": 1000.0, "d": 10.0})
    s = split_stats(cw, sizes)
    assert (s.units, s.split) == (4, 2)
    assert s.size_total == pytest.approx(1160.0)
    assert s.size_moved == pytest.approx(1000 * 0.3 + 10 * 0.5)
    assert s.rules == ("area", "population")
    # without sizes: counts only
    s2 = split_stats(cw)
    assert (s2.units, s2.split, s2.size_total, s2.size_moved) == (4, 2, None, None)
    assert split_stats(cw.iloc[0:0]).units == 0


def test_split_stats_unknown_sizes_are_left_out():
    cw = _cw([("a", "x", 0.6, "population"), ("a", "y", 0.4, "population"),
              ("b", "x", 1.0, "within")])
    s = split_stats(cw, pd.Series({"a": 200.0}))
    assert s.size_total == 200.0 and s.size_moved == pytest.approx(80.0)


def test_crosswalk_sentence_swedish_and_english():
    stats = SplitStats(127, 4, 1_000_000.0, 1_500.0, ("population",))
    sv = crosswalk_sentence("regso", "sdo11", stats, "sv")
    assert sv.startswith("RegSO → 11 stadsdelsområden")
    assert "4 av 127 RegSO delas" in sv
    assert "0,15\u00a0% av befolkningen" in sv and f"(1{NB}500)" in sv
    assert "efter befolkningsandel" in sv
    assert sv.endswith("utanför områdets största del.")
    en = crosswalk_sentence("regso", "sdo11", stats, "en", size_word="of the 2024 population")
    assert "4 of 127 RegSO areas are split" in en and "0.15% of the 2024 population (1,500)" in en


def test_crosswalk_sentence_nothing_split_and_area_rule():
    none = crosswalk_sentence("stadsdel", "sdo14", SplitStats(117, 0, None, None), "sv")
    assert "alla 117 stadsdelar" in none and "inget fördelas" in none
    area = crosswalk_sentence("basomrade", "sdo13", SplitStats(427, 54, None, None, ("area",)),
                              "en")
    assert "54 of 427 basområden" in area and "by area share" in area
    assert "population (" not in area  # no size, no share claimed


def test_election_sentence_matched_and_own_edition():
    matched = election_sentence("riksdag", 2018, "valdistrikt_2022", 704_157, 78_139, 614_860,
                                28_726, "sv")
    assert "2018 års valdistrikt saknar gränser" in matched
    assert "knyts till 2022 års valdistrikt via kod och namn" in matched
    assert "11,1\u00a0% av de röstberättigade" in matched and f"78{NB}139" in matched
    assert "4,7\u00a0% av rösterna" in matched
    own = election_sentence("kommun", 2022, "valdistrikt_2022", 773_389, 0, 618_245, 20_515,
                            "en")
    assert "have boundaries of their own" in own and "could not" not in own
    assert "3.3% of the votes (20,515)" in own
    bare = election_sentence("region", 2018, None, None, None, None, None, "sv")
    assert bare.startswith("2018 (region-/landstingsvalet)")


def test_reconciliation_sentence():
    sv = reconciliation_sentence(2014, 877_439, 911_989, "sv")
    assert sv == f"2014: summerat 877{NB}439 mot officiellt 911{NB}989 (\u22123,8\u00a0%)"
    en = reconciliation_sentence(2000, 751_000, 750_000, "en")
    assert en == "2000: summed 751,000 vs official 750,000 (+0.1%)"


def test_merges_text():
    merged = merges_text("sdo14", "sdo13", "sv")
    assert merged == "Älvsjö + Hägersten-Liljeholmen → Hägersten-Älvsjö"
    text = merges_text("sdo13", "sdo11", "en")
    assert "Rinkeby-Kista + Spånga-Tensta → Järva" in text
    assert "Norrmalm + Östermalm → Norra innerstaden" in text


# --- URL state --------------------------------------------------------------------------------


def test_parse_valid_state_and_canonical_query():
    s = parse_data_state(CATALOG, {"lang": "en", "tab": "sources", "q": "  valdeltagande  ",
                                   "area": "work", "division": "sdo11", "mappable": "1",
                                   "indicator": "population"})
    assert s == DataState("en", "sources", "valdeltagande", "work", "sdo11", True, "population")
    assert s.problems == []
    back = state_from_search(CATALOG, s.query())
    assert back == s
    assert parse_data_state(CATALOG, {}) == DataState()
    assert DataState().query() == "?lang=sv"


@pytest.mark.parametrize("params, bad", [
    ({"indicator": "<script>alert(1)</script>"}, "indicator"),
    ({"indicator": "../../etc/passwd"}, "indicator"),
    ({"area": "javascript:alert(1)"}, "area"),
    ({"tab": "x" * 5000}, "tab"),
    ({"division": "sdo99"}, "division"),
    ({"mappable": "maybe"}, "mappable"),
    ({"lang": "de"}, "lang"),
    ({"area": ["work", "health"]}, "area"),  # a repeated parameter
])
def test_hostile_params_fall_back_and_are_named(params, bad):
    s = parse_data_state(CATALOG, params)
    assert bad in s.problems
    if not isinstance(params[bad], list):  # a repeated parameter keeps its last valid value
        assert getattr(s, bad) == getattr(DataState(), bad)
    # the value is never echoed: only parameter names are reported
    assert all(p in ("lang", "tab", "q", "area", "division", "mappable", "indicator")
               for p in s.problems)


def test_search_text_is_cleaned_and_capped():
    s = parse_data_state(CATALOG, {"q": "a\x00b\tc\u200b\n  d"})
    assert s.q == "a b c d"  # control and format characters become spaces
    long = parse_data_state(CATALOG, {"q": "ord " * 100})
    assert len(long.q) <= dl.MAX_QUERY and "q" in long.problems
    html_q = parse_data_state(CATALOG, {"q": '<img src=x onerror="alert(1)">'})
    assert html_q.q == '<img src=x onerror="alert(1)">'  # kept as text, only ever a value
    assert "%3Cimg" in html_q.query()  # and URL-encoded in the query


def test_parse_never_raises_on_odd_types():
    for value in (None, 3, 2.5, [], [[]], {"a": 1}, b"x", "", "\x00"):
        for key in ("lang", "tab", "q", "area", "division", "mappable", "indicator"):
            parse_data_state(CATALOG, {key: value})
    state_from_search(CATALOG, "?q=%ZZ&&&=&indicator=%00&lang")
    state_from_search(CATALOG, None)


# --- search and filters -----------------------------------------------------------------------


def test_fold_and_match():
    hay = dl.fold("Medellöneinkomst för Östermalm")
    assert dl.matches("lön östermalm", hay)
    assert dl.matches("LON ostermalm", hay)
    assert not dl.matches("lön kista", hay)
    assert dl.matches("", hay)


def test_filters_on_the_real_catalog(store):
    every = dl.filter_indicators(store, DataState())
    assert every == list(store.catalog)
    turnout = dl.filter_indicators(store, DataState(q="valdeltagande"))
    assert "turnout_riksdag" in turnout and len(turnout) < len(every)
    en = dl.filter_indicators(store, DataState(lang="en", q="turnout"))
    assert "turnout_riksdag" in en
    work = dl.filter_indicators(store, DataState(area="work"))
    assert work and all(store.catalog[i].area == "work" for i in work)
    facts = dl.all_facts(store)
    mappable = dl.filter_indicators(store, DataState(mappable=True))
    assert mappable and all(facts[i].mappable for i in mappable)
    on_regso = dl.filter_indicators(store, DataState(division="regso", mappable=True))
    assert all(facts[i].map_years.get("regso") for i in on_regso)
    no_districts = dl.filter_indicators(store, DataState(division=dl.NO_DISTRICTS))
    assert all(not facts[i].district_divisions for i in no_districts)
    assert dl.filter_indicators(store, DataState(q="<script>")) == []


# --- every indicator renders ------------------------------------------------------------------


def _check_links(tree):
    for c in walk(tree):
        if isinstance(c, html.A):
            href = c.href
            assert href.startswith(("/", "https://", "http://")), href
            if href.startswith("http"):
                assert "noopener" in (c.rel or ""), href


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_catalog_indicator_renders_a_detail(store, lang):
    for ind_id, ind in store.catalog.items():
        tree = dl.indicator_detail(store, ind_id, lang)
        assert tree, ind_id
        text = texts(tree)
        assert ind.title.get(lang) in text, ind_id
        assert ind.definition.get(lang) in text, ind_id
        if ind.reliability_note:
            assert ind.reliability_note.get(lang) in text, ind_id
        _check_links(tree)


def test_detail_of_nothing_is_the_overview(store):
    text = texts(dl.indicator_detail(store, None, "sv"))
    assert f"{len(store.catalog)} indikatorer" in text
    assert texts(dl.indicator_detail(store, "no_such_indicator", "en"))


def test_turnout_detail_says_how_2018_was_matched(store):
    text = texts(dl.indicator_detail(store, "turnout_riksdag", "sv"))
    assert "knyts till 2022 års valdistrikt via kod och namn" in text
    assert "av de röstberättigade" in text


def test_population_detail_reconciles_with_the_official_total(store):
    rec = dl.reconciliation_rows(store, store.catalog["population"])
    both = rec.dropna(subset=["built", "official"])
    assert len(both), "population needs at least one year with an official city total"
    text = texts(dl.indicator_detail(store, "population", "en"))
    assert "Reconciliation with the city's official population" in text
    notes = dl.crosswalk_notes(store, store.catalog["population"], "sv")
    assert any(n.startswith("RegSO → ") and "av befolkningen" in n for n in notes)


def test_split_shares_agree_with_the_build_report(store):
    """Same definition as geo.crosswalk.crosswalk_report: basområden, population 2014."""
    ex = dl.extras(store)
    sizes, year = dl._sizes_for(ex, "basomrade", "population")
    rep = store.crosswalk_report
    for dst in ("sdo14", "sdo13", "sdo11"):
        row = rep[(rep["from_division"] == "basomrade") & (rep["to_division"] == dst)]
        if row.empty or year != 2014 or not row["population"].iloc[0] > 0:
            pytest.skip("the build's report has no basområde population for 2014")
        cw = ex.crosswalk
        mine = split_stats(cw[(cw["from_division"] == "basomrade") & (cw["to_division"] == dst)],
                           sizes)
        assert mine.units == int(row["units"].iloc[0])
        assert mine.split == int(row["units_split"].iloc[0])
        assert mine.size_moved == pytest.approx(float(row["population_moved"].iloc[0]))


def test_sources_and_methods_render(store):
    for lang in ("sv", "en"):
        tree = dl.sources_panel(store, lang)
        text = texts(tree)
        for s in store.registry.sources.values():
            assert s.title in text
        _check_links(tree)
        methods = texts(dl.methods_panel(lang))
        assert "99" in methods and "95" in methods


def test_citation_links_only_http():
    parts = dl.cited_text("Report, table 3, https://example.org/a.pdf. See javascript:alert(1)",
                          "en")
    links = [p for p in parts if isinstance(p, html.A)]
    assert [a.href for a in links] == ["https://example.org/a.pdf"]
    assert "noopener" in links[0].rel
    assert isinstance(dl.external_link("x", "javascript:alert(1)"), html.Span)
    assert isinstance(dl.external_link("x", None), html.Span)


def test_page_layout_survives_hostile_params(store):
    import app  # noqa: F401  registers the pages
    from pages import data_sources

    page = data_sources.layout(indicator="<script>", q="x" * 10_000, area=["a", "b"],
                               tab="../", mappable="2", division="\x00", unknown="1")
    text = texts(page)
    assert "indicator" in text and "<script>" not in text
    ok = data_sources.layout(indicator="population", lang="en")
    assert "Population" in texts(ok)
