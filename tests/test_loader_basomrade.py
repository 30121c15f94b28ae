"""indicators.loaders.basomrade: the DDF basområde series, its codes and its coverage.

Tiny hand-made DDF files in tmp_path test parsing, recoding and errors; tests marked `mirror`
load the real files of ../shared/data/raw and check known totals.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from indicators.loaders import basomrade
from indicators.loaders.basomrade import BasomradeError, coverage, polygons
from indicators.observations import COLUMNS

ENTITIES = """basomrade,name,municipality,is--basomrade,size,baskod2010
1010120_skeppsbron, Skeppsbron,0180_stockholm,TRUE,big,1010120
1120131_norra_bantorget_o, Norra Bantorget Ö,0180_stockholm,TRUE,big,1120131
1120132_norra_bantorget_v, Norra Bantorget V,0180_stockholm,TRUE,big,1120132
2240520_okand, Okänd,0180_stockholm,TRUE,big,2240520
2240521_norra_rinkeby_kvarnby, Norra Rinkeby Kvarnby,0180_stockholm,TRUE,big,2240521
2240522_norra_rinkeby_askeby, Norra Rinkeby Askeby,0180_stockholm,TRUE,big,2240522
4111110_norra_runby, Norra Runby,0114_upplands_vasby,TRUE,big,4111110
"""

POLYGONS = [  # (BASKOD2010, BASKOD2000, KOMKOD)
    (1010120, 1010120, 80), (1120131, 1120131, 80), (1120132, 1120132, 80),
    (2240521, 2240520, 80), (2240522, 2240520, 80), (1010130, 1010130, 80),
    (4111110, 4111110, 14),
]

# (id, year) -> value per measure base; female/male files get the same numbers
POP = {
    ("1010120_skeppsbron", 2009): 100, ("1010120_skeppsbron", 2010): 110,
    ("1120131_norra_bantorget_o", 2009): 800, ("1120131_norra_bantorget_o", 2010): 640,
    ("1120132_norra_bantorget_v", 2010): 220,
    ("2240520_okand", 2009): 9000,
    ("2240521_norra_rinkeby_kvarnby", 2010): 5800, ("2240522_norra_rinkeby_askeby", 2010): 3600,
    ("4111110_norra_runby", 2009): 2933,
}
SHARE = {k: 0.81938 for k in POP}
SHARE[("1010120_skeppsbron", 2010)] = 1
INCOME = {k: 205826.34 for k in POP}
del INCOME[("2240520_okand", 2009)]  # missing: must stay missing

BASES = {
    "population_20xx_12_31": POP,
    "employment_rate_aged_20_64": SHARE,
    "higher_education_min_3_years_percent_of_population_aged_25_64": SHARE,
    "mean_income_aged_lt_20": INCOME,
}


def concepts_csv(share_format: str = "share") -> str:
    lines = ["concept,name,concept_type,domain,tags,scales,format,color"]
    for base in BASES:
        for suffix in ("", "_female", "_male"):
            fmt = share_format if "rate" in base or "education" in base else ""
            lines.append(f"{base}{suffix},X,measure,,_root,,{fmt},")
    return "\n".join(lines) + "\n"


def datapoints_csv(concept: str, values: dict) -> str:
    rows = [f"basomrade,year,{concept}"]
    rows += [f"{b},{y},{v}" for (b, y), v in sorted(values.items())]
    return "\n".join(rows) + "\n"


def topojson(polys=POLYGONS) -> str:
    geoms = [
        {"type": "Polygon", "arcs": [], "properties": {
            "BASKOD2010": k10, "BASKOD2000": k00, "KOMKOD": kom, "BASN2010": f"p{k10}"}}
        for k10, k00, kom in polys
    ]
    return json.dumps({"type": "Topology", "objects": {"x": {"type": "GeometryCollection",
                                                             "geometries": geoms}}, "arcs": []})


class FakeRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self, source_id: str) -> list[Path]:
        assert source_id == basomrade.SOURCE
        return sorted(p for p in self.root.iterdir() if p.name.startswith("ddf--"))

    def file(self, source_id: str, name: str | None = None) -> Path:
        assert source_id == basomrade.BOUNDARIES
        return self.root / "sodertorn-basomr2010.json"


@pytest.fixture
def ddf(tmp_path):
    (tmp_path / "ddf--entities--geo--basomrade.csv").write_text(ENTITIES, encoding="utf-8")
    (tmp_path / "ddf--concepts.csv").write_text(concepts_csv(), encoding="utf-8")
    (tmp_path / "sodertorn-basomr2010.json").write_text(topojson(), encoding="utf-8")
    for base, values in BASES.items():
        for suffix in ("", "_female", "_male"):
            concept = base + suffix
            path = tmp_path / f"ddf--datapoints--{concept}--by--basomrade--year.csv"
            path.write_text(datapoints_csv(concept, values), encoding="utf-8")
    return tmp_path


def datapoint_file(root: Path, concept: str) -> Path:
    return root / f"ddf--datapoints--{concept}--by--basomrade--year.csv"


def test_load_variables_units_and_codes(ddf):
    obs = basomrade.load(FakeRegistry(ddf))
    assert list(obs.columns) == list(COLUMNS)
    assert set(obs["division"]) == {"basomrade"}
    assert set(obs["sex"]) == {"total", "female", "male"}
    got = obs[obs["sex"] == "total"].set_index(["variable", "code", "year"])["value"]
    assert got[("population", "1010120", 2009)] == 100
    assert got[("employment_rate_20_64", "1010120", 2009)] == pytest.approx(81.938)
    assert got[("employment_rate_20_64", "1010120", 2010)] == 100  # fraction 1 -> 100 %
    assert got[("higher_education_3y_share_25_64", "1010120", 2009)] == pytest.approx(81.938)
    assert got[("mean_income_20plus_tkr", "1010120", 2009)] == pytest.approx(205.82634)
    # split in 2010: the 2000-code area gets the union of its 2010 polygons
    assert got[("population", "2240521+2240522", 2009)] == 9000
    assert got[("population", "2240521", 2010)] == 5800
    # 1120131 covered 1120132 before 2010
    assert got[("population", "1120131+1120132", 2009)] == 800
    assert got[("population", "1120131", 2010)] == 640
    # missing stays missing, other municipalities are left out
    assert ("mean_income_20plus_tkr", "2240521+2240522", 2009) not in got.index
    assert not obs["code"].str.contains("4111110").any()


def test_polygons_splits_union_codes():
    assert polygons("2240521+2240522") == ("2240521", "2240522")
    assert polygons("1010120") == ("1010120",)
    for code in list(basomrade.PRE2010_CODES.values()) + list(basomrade.PRE2010_LARGER.values()):
        assert all(len(p) == 7 and p.isdigit() for p in polygons(code))


def test_truncated_row_names_file_and_line(ddf):
    path = datapoint_file(ddf, "population_20xx_12_31_male")
    path.write_text(path.read_text() + "1010120_skeppsbron,2011\n")
    with pytest.raises(BasomradeError, match=r"population_20xx_12_31_male--by.*line 11"):
        basomrade.load(FakeRegistry(ddf))


def test_row_cut_after_the_year_is_an_empty_value(ddf):
    path = datapoint_file(ddf, "employment_rate_aged_20_64")
    path.write_text(path.read_text() + "1010120_skeppsbron,2011,")
    message = r"line 11, column 'employment_rate_aged_20_64': empty"
    with pytest.raises(BasomradeError, match=message):
        basomrade.load(FakeRegistry(ddf))


def test_renamed_column_is_an_error(ddf):
    path = datapoint_file(ddf, "mean_income_aged_lt_20")
    path.write_text(path.read_text().replace("mean_income_aged_lt_20", "mean_income", 1))
    with pytest.raises(BasomradeError, match=r"mean_income_aged_lt_20--by.*no column.*renamed"):
        basomrade.load(FakeRegistry(ddf))
    ent = ddf / "ddf--entities--geo--basomrade.csv"
    ent.write_text(ENTITIES.replace("baskod2010", "baskod"))
    with pytest.raises(BasomradeError, match=r"entities.*\['baskod2010'\]"):
        basomrade.load(FakeRegistry(ddf))


@pytest.mark.parametrize(("bad", "message"), [("0,81", "not a number"), ("n/a", "not a number"),
                                              ("", "empty value")])
def test_non_numeric_value_names_file_line_and_column(ddf, bad, message):
    path = datapoint_file(ddf, "higher_education_min_3_years_percent_of_population_aged_25_64")
    lines = path.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + f',"{bad}"'
    path.write_text("\n".join(lines) + "\n")
    pattern = rf"line 4, column 'higher_education[^']*': .*{message}"
    with pytest.raises(BasomradeError, match=pattern):
        basomrade.load(FakeRegistry(ddf))


def test_bad_year_is_an_error(ddf):
    path = datapoint_file(ddf, "population_20xx_12_31")
    path.write_text(path.read_text() + "1010120_skeppsbron,20,5\n")
    with pytest.raises(BasomradeError, match=r"line 11, column 'year': '20' is not a year"):
        basomrade.load(FakeRegistry(ddf))


def test_share_already_in_percent_is_an_error(ddf):
    path = datapoint_file(ddf, "employment_rate_aged_20_64_female")
    path.write_text(path.read_text().replace("0.81938", "81.938", 1))
    with pytest.raises(BasomradeError, match="outside 0-1"):
        basomrade.load(FakeRegistry(ddf))


def test_share_concept_must_say_share(ddf):
    (ddf / "ddf--concepts.csv").write_text(concepts_csv(share_format="percent"))
    with pytest.raises(BasomradeError, match="expected 'share'"):
        basomrade.load(FakeRegistry(ddf))


def test_unknown_ids_and_codes_are_errors(ddf):
    path = datapoint_file(ddf, "population_20xx_12_31")
    path.write_text(path.read_text() + "9999999_nowhere,2010,5\n")
    with pytest.raises(BasomradeError, match="9999999_nowhere"):
        basomrade.load(FakeRegistry(ddf))
    path.write_text(datapoints_csv("population_20xx_12_31", POP))
    # a Stockholm code that is neither a 2010 polygon nor a known pre-2010 code
    ent = ddf / "ddf--entities--geo--basomrade.csv"
    ent.write_text(ENTITIES + "1999990_x, X,0180_stockholm,TRUE,big,1999990\n")
    with pytest.raises(BasomradeError, match=r"\['1999990'\] match no 2010 polygon"):
        basomrade.load(FakeRegistry(ddf))


def test_pre2010_code_with_a_later_value_is_an_error(ddf):
    path = datapoint_file(ddf, "population_20xx_12_31")
    path.write_text(path.read_text() + "2240520_okand,2010,1\n")
    with pytest.raises(BasomradeError, match="2240520 is a pre-2010 code"):
        basomrade.load(FakeRegistry(ddf))


def test_coverage_counts_population_and_reference_share(ddf):
    obs = basomrade.load(FakeRegistry(ddf))
    cov = coverage(obs, city_population={2009: 10000, 2010: 10400}, reference_year=2010)
    row = cov.set_index(["variable", "sex", "year"])
    inc = row.loc[("mean_income_20plus_tkr", "total", 2009)]
    assert inc["n_areas"] == 2 and inc["n_polygons"] == 3
    assert inc["population_covered"] == 900 and inc["population_loaded"] == 9900
    assert inc["share_of_loaded"] == pytest.approx(100 * 900 / 9900)
    assert inc["share_of_official"] == pytest.approx(9.0)
    # reference 2010: Rinkeby's 9,400 of 10,370 people live in polygons without income in 2009
    assert inc["reference_share"] == pytest.approx(100 * 970 / 10370)
    pop = row.loc[("population", "total", 2009)]
    assert pop["reference_share"] == pytest.approx(100 * (110 + 9400 + 640 + 220) / 10370)
    assert pop["share_of_official"] == pytest.approx(99.0)
    assert row.loc[("population", "total", 2010), "reference_share"] == 100


def test_union_crosswalk_weights_parts_by_population():
    cw = pd.DataFrame({
        "from_division": "basomrade", "from_code": ["a", "b", "b", "c"],
        "to_division": "sdo14", "to_code": ["x", "x", "y", "z"],
        "area_share": 1.0, "pop_share": [1.0, 0.5, 0.5, 1.0], "weight": [1.0, 0.5, 0.5, 1.0],
        "rule": "overlay",
    })
    out = basomrade.union_crosswalk(cw, ["a+b", "c", "a+b"], {"a": 300, "b": 100})
    assert list(out.columns) == list(cw.columns)
    got = out.set_index("to_code")["weight"].to_dict()
    assert got == pytest.approx({"x": 0.75 + 0.125, "y": 0.125})
    assert set(out["from_code"]) == {"a+b"} and out["area_share"].isna().all()
    even = basomrade.union_crosswalk(cw, ["a+b"]).set_index("to_code")["weight"]
    assert even.to_dict() == pytest.approx({"x": 0.75, "y": 0.25})
    with pytest.raises(BasomradeError, match=r"\['d'\]"):
        basomrade.union_crosswalk(cw, ["c+d"])


# --- the real mirror ----------------------------------------------------------------------------

mirror = pytest.mark.mirror

POPULATION = {
    2000: 747156, 2001: 751809, 2002: 754268, 2003: 756462, 2004: 758485, 2005: 762932,
    2006: 771656, 2007: 781601, 2008: 794936, 2009: 811561, 2010: 827781, 2011: 841091,
    2012: 853581, 2013: 866213, 2014: 877439,
}


# `registry` is the session fixture of tests/conftest.py (skips without the mirror).


@pytest.fixture(scope="module")
def observations(registry):
    start = time.perf_counter()
    obs = basomrade.load(registry)
    obs.attrs["seconds"] = time.perf_counter() - start
    return obs


@pytest.fixture(scope="module")
def polygon_codes(registry):
    return basomrade.read_polygon_codes(registry.file(basomrade.BOUNDARIES))


@mirror
def test_mirror_population_totals(observations):
    pop = observations[observations["variable"] == "population"]
    total = pop[pop["sex"] == "total"].groupby("year")["value"].sum()
    assert total.to_dict() == POPULATION
    by_sex = pop[pop["sex"] != "total"].groupby("year")["value"].sum()
    assert (by_sex - total).abs().max() < 0.005 * total.min()
    counts = pop[pop["sex"] == "total"].groupby("year")["code"].nunique()
    assert set(counts[counts.index < 2010]) == {335} and set(counts[counts.index >= 2010]) == {342}


@mirror
def test_mirror_rows_units_and_no_invented_values(observations):
    n = observations.groupby(["variable", "sex"]).size()
    assert n[("population", "total")] == 5060
    assert n[("employment_rate_20_64", "total")] == 5059  # one area-year has no value
    assert n[("higher_education_3y_share_25_64", "female")] == 5054
    for share in ("employment_rate_20_64", "higher_education_3y_share_25_64"):
        v = observations.loc[observations["variable"] == share, "value"]
        assert v.between(0, 100).all() and v.max() > 1.5
    income = observations[observations["variable"] == "mean_income_20plus_tkr"]["value"]
    assert income.between(20, 1300).all()
    one = observations.set_index(["variable", "sex", "code", "year"])["value"]
    # the file's 306389.36 SEK and 0.71852 as tkr and percent
    assert one[("mean_income_20plus_tkr", "male", "1010120", 2000)] == pytest.approx(306.38936)
    assert one[("employment_rate_20_64", "total", "1010120", 2000)] == pytest.approx(71.852)
    assert one[("population", "total", "2240521+2240522", 2009)] == 9137
    assert one[("population", "total", "2242120", 2009)] == 5310  # Centrala Akalla, renumbered


@mirror
def test_mirror_entities_have_baskod2010_matching_the_polygons(registry, polygon_codes):
    files = {p.name: p for p in registry.files(basomrade.SOURCE)}
    ent = basomrade.read_entities(files[basomrade.ENTITIES])
    assert len(ent) == 356
    codes = set(polygon_codes["baskod2010"])
    assert len(codes) == 419
    not_polygons = set(ent["baskod2010"]) - codes
    assert not_polygons == set(basomrade.PRE2010_CODES)
    assert set(ent.loc[ent["baskod2010"].isin(not_polygons), "name"].str.strip()) == {"Okänd"}
    assert len(codes - set(ent["baskod2010"])) == 77  # polygons never in the DDF


@mirror
def test_mirror_pre2010_table_agrees_with_polygon_lineage(polygon_codes):
    lineage = polygon_codes.groupby("baskod2000")["baskod2010"].agg(set)
    for old, new in basomrade.PRE2010_CODES.items():
        parts = set(polygons(new))
        assert parts <= set(polygon_codes["baskod2010"])
        assert lineage[old] <= parts, old
        if old != "2150400":  # the one split the lineage does not show (Blåsut)
            assert lineage[old] == parts, old
    for code, union in basomrade.PRE2010_LARGER.items():
        assert set(polygons(union)) <= set(polygon_codes["baskod2010"]) and code in union


@mirror
def test_mirror_inferred_splits_keep_population_continuous(observations):
    obs = observations
    pop = obs[(obs["variable"] == "population") & (obs["sex"] == "total")]
    pop = pop.set_index(["code", "year"])["value"]
    for union in ("2150401+2150402", "1120131+1120132"):
        before = pop[(union, 2009)]
        after = sum(pop[(p, 2010)] for p in polygons(union))
        alone = pop[(polygons(union)[-1 if union.startswith("2150") else 0], 2010)]
        assert abs(after / before - 1) < 0.11  # the union continues
        assert alone / before < 0.96  # the part alone falls: the area was larger before 2010


@mirror
def test_mirror_coverage_against_official_city_population(observations, registry):
    tr = pd.read_csv(registry.file("transcribed_democracy_population"))
    city = tr[(tr["indicator_id"] == "population_31dec") & (tr["geography"] == "city")
              & (tr["sex"] == "total")].set_index("year")["value"]
    cov = coverage(observations, city_population=city, reference_year=2014)
    pop = cov[(cov["variable"] == "population") & (cov["sex"] == "total")].set_index("year")
    gap = (100 - pop["share_of_official"]).dropna().round(2).to_dict()
    assert gap == {2000: 0.43, 2005: 1.05, 2010: 2.28, 2011: 2.69, 2014: 3.79}
    assert (pop["share_of_loaded"] == 100).all()
    assert pop.loc[2009, "reference_share"] > 99.9  # Rinkeby-Kista covered before 2010 too
