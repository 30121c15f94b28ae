"""The whole build on the real mirror: every catalog entry has data, values are sane,
aggregated populations reconcile with official totals, and a built directory is reused."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.names import DIVISION_CODES
from indicators import store as store_module
from indicators.build import run
from indicators.catalog import load_catalog

pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def built(registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "build"
    info = run(registry, out)
    return out, info


@pytest.fixture(scope="module")
def indicators(built):
    return pd.read_parquet(built[0] / "indicators.parquet")


def test_build_writes_every_table_and_geometry(built):
    out, info = built
    for name in ("indicators", "inequality", "verdicts", "crosswalk", "crosswalk_report",
                 "reconciliation", "observations"):
        assert (out / f"{name}.parquet").is_file(), name
    for division in ("sdo11", "sdo13", "sdo14", "regso", "basomrade"):
        geo = json.loads((out / "geo" / f"{division}.geojson").read_text())
        assert all(f["id"] for f in geo["features"])
    assert info["data_version"] == json.loads((out / "build_info.json").read_text())[
        "data_version"]


def test_required_columns(indicators, built):
    for col in ("indicator_id", "division", "district_code", "district_name", "year", "sex",
                "value", "numerator", "denominator", "source_ids"):
        assert col in indicators.columns
    ineq = pd.read_parquet(built[0] / "inequality.parquet")
    assert {"indicator_id", "division", "year", "sex", "measure", "value"} <= set(ineq.columns)


def test_every_catalog_entry_has_data(indicators):
    have = set(indicators["indicator_id"])
    missing = [i for i in load_catalog() if i not in have]
    assert not missing, f"catalog entries without any built value: {missing}"


def test_catalog_sexes_match_the_data(indicators):
    have = indicators.groupby("indicator_id")["sex"].apply(set)
    wrong = {i.id: (i.sexes, have.get(i.id)) for i in load_catalog().values()
             if set(i.sexes) != have.get(i.id, set())}
    assert not wrong, f"catalog sexes differ from the built data: {wrong}"


def test_map_indicators_cover_todays_districts(indicators):
    for ind in ("turnout_riksdag", "employment_rate_20_64", "foreign_born_share", "merit_value"):
        v = indicators[(indicators["indicator_id"] == ind) & (indicators["division"] == "sdo11")
                       & (indicators["sex"] == "total") & indicators["mappable"]]
        latest = v[v["year"] == v["year"].max()]
        assert set(latest["district_code"]) == set(DIVISION_CODES["sdo11"]), ind


def test_turnout_2022_matches_the_official_city_figure(indicators):
    city = indicators[(indicators["indicator_id"] == "turnout_riksdag")
                      & (indicators["division"] == "city") & (indicators["year"] == 2022)]
    # Valmyndigheten: 611 908 voters of 728 089 eligible in Stockholm, all votes counted
    assert city["value"].iloc[0] == pytest.approx(100 * 611908 / 728089, abs=0.01)


def test_population_is_preserved_by_every_division(indicators):
    pop = indicators[(indicators["indicator_id"] == "population") & (indicators["sex"] == "total")]
    for year in (2010, 2022):
        y = pop[pop["year"] == year]
        city = y.loc[y["division"] == "city", "value"].iloc[0]
        for division in ("sdo14", "sdo13", "sdo11"):
            total = y.loc[y["division"] == division, "value"].sum()
            assert total == pytest.approx(city, rel=1e-6), (year, division)


def test_old_districts_merge_into_new(indicators):
    pop = indicators[(indicators["indicator_id"] == "population") & (indicators["sex"] == "total")
                     & (indicators["year"] == 2022)].set_index(["division", "district_code"])
    merged = pop.loc[("sdo14", "alvsjo"), "value"] + pop.loc[("sdo14", "hagersten_liljeholmen"),
                                                             "value"]
    assert pop.loc[("sdo13", "hagersten_alvsjo"), "value"] == pytest.approx(merged)


def test_reconciliation_against_official_totals(built):
    rec = pd.read_parquet(built[0] / "reconciliation.parquet").set_index("year")
    # basområde sums fall short of the official population (README: 0.4-2.7 % to 2011)
    assert -1.0 < rec.loc[2000, "difference_pct"] < 0
    assert rec.loc[2011, "difference_pct"] == pytest.approx(-2.69, abs=0.05)


def test_values_without_coverage_stay_off_maps(indicators):
    assert not indicators.loc[indicators["coverage"] < 0.95, "mappable"].any()


def test_a_complete_build_is_loaded_not_rebuilt(built, monkeypatch):
    def fail(*_a, **_k):
        raise AssertionError("rebuilt although a complete build exists")

    monkeypatch.setattr("indicators.build.run", fail)
    assert store_module.ensure_build(built[0]) == built[0]
    s = store_module.Store.load(built[0])
    assert len(s.values("population", "sdo11"))


def test_a_failed_build_keeps_the_previous_one(built, registry, monkeypatch):
    out = built[0]
    before = (out / "build_info.json").read_text()

    def broken(*_a, **_k):
        raise RuntimeError("loader exploded")

    monkeypatch.setattr("indicators.build.process", broken)
    with pytest.raises(RuntimeError):
        run(registry, out)
    assert (out / "build_info.json").read_text() == before
