"""indicators.loaders.pxweb: the two PxWeb parsing cores, RegSO name resolution, the loader.

Tiny hand-made files in tmp_path test parsing and errors; tests marked `mirror` load the real
files of ../shared/data/raw and check known totals.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.loaders import pxweb
from indicators.loaders.pxweb import (
    PxWebError,
    RegsoNames,
    UnknownRegsoError,
    normalise_regso_name,
    parse_pxweb_json,
    read_pxweb_csv,
)
from indicators.observations import COLUMNS

NAMES = RegsoNames.from_frame(
    pd.DataFrame(
        {
            "regsokod": ["0180R001", "0180R002", "0180R003"],
            "regsonamn": ["Abrahamsberg", "Norra Skarpnäcks Gård", "Östra Skarpnäcks gård-Flaten"],
        }
    )
)


def write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" + text.replace("\n", newline)).encode("utf-8"))
    return path


class FakeRegistry:
    """Stands in for data.registry.Registry: hands out the tmp files by source id."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files_ = files

    def file(self, source_id: str, name: str | None = None) -> Path:
        return self.files_[source_id]


BIRTH = """"region","födelseregion","kön","Antal 2020","Antal 2021"
"Stockholm (Abrahamsberg)","Sverige","totalt",2705,2682
"Stockholm (Abrahamsberg)","totalt","totalt",3324,3304
"Stockholm (Norra Skarpnäcks gård)","Sverige","totalt",5000,..
"Stockholm (Norra Skarpnäcks gård)","totalt","totalt",7000,7100
"Stockholm (Östra Skarpnäcks gård - Flaten)","Sverige","totalt",1500,1510
"Stockholm (Östra Skarpnäcks gård - Flaten)","totalt","totalt",1900,1950
"Solna (Centrum)","Sverige","totalt",10,11
"Solna (Centrum)","totalt","totalt",12,13
"""


# --- read_pxweb_csv -----------------------------------------------------------------------


def test_csv_long_table_with_footnotes_and_doubled_cr(tmp_path):
    text = BIRTH + "\n" + '"Källa: SCB",\n"Senaste uppdatering:",\n"20250131 08:00",\n'
    df = read_pxweb_csv(write(tmp_path, "birth.csv", text, newline="\r\r\n"))
    assert df.attrs["dims"] == ["region", "födelseregion", "kön"]
    assert list(df.columns) == ["region", "födelseregion", "kön", "contents", "year", "value"]
    assert len(df) == 8 * 2
    assert set(df["contents"]) == {"Antal"} and set(df["year"]) == {2020, 2021}
    assert df.attrs["notes"] == ["Källa: SCB", "Senaste uppdatering:", "20250131 08:00"]
    # '..' is a missing value, not zero
    row = df[(df["region"] == "Stockholm (Norra Skarpnäcks gård)") & (df["year"] == 2021)]
    assert row["value"].isna().tolist() == [True, False]


def test_csv_blank_stub_header_and_year_only_columns(tmp_path):
    df = read_pxweb_csv(write(tmp_path, "t.csv", ",2022\nStockholm (Abrahamsberg),4\n,\nNote,\n"))
    assert df.attrs["dims"] == ["column_0"]
    assert df[["contents", "year", "value"]].values.tolist() == [["", 2022, 4.0]]


def test_csv_semicolon_export_with_decimal_comma(tmp_path):
    text = '"region";"kön";"Medelvärde, tkr 2020"\n"Solna (X)";"män";438,3\n'
    path = write(tmp_path, "s.csv", text)
    df = read_pxweb_csv(path)
    assert df["value"].tolist() == [438.3] and set(df["contents"]) == {"Medelvärde, tkr"}


def test_csv_truncated_row_names_file_and_line(tmp_path):
    path = write(tmp_path, "cut.csv", BIRTH + '"Solna (Råsunda)","Sverige","tot')
    with pytest.raises(PxWebError, match=r"cut\.csv line 10"):
        read_pxweb_csv(path)


def test_csv_row_cut_after_a_comma_is_an_empty_value(tmp_path):
    path = write(tmp_path, "cut2.csv", BIRTH + '"Solna (Råsunda)","Sverige","totalt",5,')
    with pytest.raises(PxWebError, match=r"empty value in cut2\.csv line 10, column 'Antal 2021'"):
        read_pxweb_csv(path)


def test_csv_unterminated_quote_is_an_error(tmp_path):
    path = write(tmp_path, "q.csv", BIRTH + '"Solna (Råsunda),"Sverige","totalt",5,6\n')
    with pytest.raises(PxWebError, match=r"q\.csv"):
        read_pxweb_csv(path)


@pytest.mark.parametrize("bad", ["abc", "1,5", "12x", "--", "n/a"])
def test_csv_non_numeric_value_names_file_line_and_column(tmp_path, bad):
    text = BIRTH.replace("3324,3304", f'3324,"{bad}"')
    with pytest.raises(PxWebError, match=r"not a number in b\.csv line 3, column 'Antal 2021'"):
        read_pxweb_csv(write(tmp_path, "b.csv", text))


def test_csv_data_after_a_blank_row_is_not_taken_for_a_footnote(tmp_path):
    lines = BIRTH.splitlines()
    text = "\n".join([*lines[:3], "", *lines[3:]]) + "\n"
    with pytest.raises(PxWebError, match=r"d\.csv line 5: a data row after the blank row"):
        read_pxweb_csv(write(tmp_path, "d.csv", text))


def test_csv_header_without_years_or_with_years_in_the_middle(tmp_path):
    with pytest.raises(PxWebError, match="no year columns"):
        read_pxweb_csv(write(tmp_path, "h.csv", '"region","value"\n"A (B)",1\n'))
    with pytest.raises(PxWebError, match="followed by year columns"):
        read_pxweb_csv(write(tmp_path, "m.csv", '"region","Antal 2020","kön"\n"A (B)",1,"x"\n'))


# --- parse_pxweb_json -------------------------------------------------------------------------


def _json(regions, bands=("-4", "5-9", "10-14", "15-19", "20-64", "65-79", "80-")):
    cols = [
        {"code": "Region", "text": "region", "type": "d"},
        {"code": "Alder", "text": "ålder", "type": "d"},
        {"code": "Kon", "text": "kön", "type": "d"},
        {"code": "Tid", "text": "år", "type": "t"},
        {"code": "Folkmängd", "text": "Folkmängd", "type": "c"},
    ]
    data = []
    for r in regions:
        for kon, per_band in (("1", 1), ("2", 2), ("1+2", 3)):
            data.append({"key": [r, "totalt", kon, "2024"], "values": [str(per_band * len(bands))]})
            data += [{"key": [r, b, kon, "2024"], "values": [str(per_band)]} for b in bands]
    return {"columns": cols, "comments": [], "data": data, "metadata": [{"label": "x"}]}


def test_json_generic_long_table():
    obj = _json(["0180R001_RegSO2025"])
    df = parse_pxweb_json(json.dumps(obj))
    assert list(df.columns) == ["Region", "Alder", "Kon", "Tid", "contents", "value"]
    assert len(df) == len(obj["data"]) and set(df["contents"]) == {"Folkmängd"}
    assert df.attrs["columns"]["Alder"] == "ålder"


def test_json_missing_marker_and_errors():
    obj = _json(["0180R001_RegSO2025"])
    obj["data"][1]["values"] = [".."]
    assert parse_pxweb_json(obj)["value"].isna().sum() == 1
    obj["data"][1]["values"] = ["x1"]
    with pytest.raises(PxWebError, match=r"data\[1\]"):
        parse_pxweb_json(obj)
    obj["data"][1] = {"key": ["0180R001_RegSO2025", "-4"], "values": ["1"]}
    with pytest.raises(PxWebError, match=r"data\[1\]: key"):
        parse_pxweb_json(obj)
    with pytest.raises(PxWebError, match="not JSON"):
        parse_pxweb_json('{"columns": [')


def test_age_sex_observations_from_json():
    obj = _json(["0180R001_RegSO2025", "0180R002_RegSO2025", "0180R003_RegSO2025"])
    obs = pxweb.age_sex_observations(parse_pxweb_json(obj), NAMES)
    assert list(obs.columns) == list(COLUMNS)
    got = obs[obs["code"] == "0180R002"].set_index(["variable", "sex"])["value"]
    assert got[("population", "total")] == 21 and got[("population", "male")] == 7
    assert got[("population_0_19", "female")] == 8  # four bands of 2
    assert got[("population_65plus", "total")] == 6 and got[("population_80plus", "total")] == 3
    assert set(obs["division"]) == {"regso"} and set(obs["year"]) == {2024}


def test_age_sex_checks_edition_codes_and_band_sums():
    names = NAMES
    with pytest.raises(PxWebError, match="edition"):
        pxweb.age_sex_observations(
            parse_pxweb_json(_json(["0180R001_RegSO2020", "0180R002_RegSO2025",
                                    "0180R003_RegSO2025"])), names)
    with pytest.raises(UnknownRegsoError, match="0180R009"):
        pxweb.age_sex_observations(
            parse_pxweb_json(_json(["0180R001_RegSO2025", "0180R002_RegSO2025",
                                    "0180R003_RegSO2025", "0180R009_RegSO2025"])), names)
    with pytest.raises(PxWebError, match="missing"):
        pxweb.age_sex_observations(parse_pxweb_json(_json(["0180R001_RegSO2025"])), names)
    obj = _json(["0180R001_RegSO2025", "0180R002_RegSO2025", "0180R003_RegSO2025"])
    obj["data"][0]["values"] = ["999"]
    with pytest.raises(PxWebError, match="do not add up"):
        pxweb.age_sex_observations(parse_pxweb_json(obj), names)


# --- RegSO names ------------------------------------------------------------------------------


def test_names_resolve_through_normalisation_only():
    assert NAMES.code("NORRA SKARPNÄCKS GÅRD") == "0180R002"
    assert NAMES.code("Östra  Skarpnäcks gård \u2013 Flaten") == "0180R003"
    with pytest.raises(UnknownRegsoError, match="'Ostra Skarpnacks gard-Flaten'"):
        NAMES.code("Ostra Skarpnacks gard-Flaten")  # accents matter


def test_variant_table_and_collisions():
    frame = pd.DataFrame({"regsokod": ["0180R001", "0180R002"], "regsonamn": ["A-B", "C"]})
    names = RegsoNames.from_frame(frame, variants={"A och B": "A - B"})
    assert names.code("a och b") == "0180R001"
    with pytest.raises(PxWebError, match="unknown"):
        RegsoNames.from_frame(frame, variants={"X": "Nowhere"})
    clash = pd.DataFrame({"regsokod": ["0180R001", "0180R002"], "regsonamn": ["A-B", "a – b"]})
    with pytest.raises(PxWebError, match="same key"):
        RegsoNames.from_frame(clash)


_piece = st.text(alphabet="abcåäöxyzABCÅÄÖ", min_size=1, max_size=8)


_dash = st.sampled_from(["-", " - ", "\u2013", " \u2014 ", "\u2212"])


@given(st.lists(_piece, min_size=1, max_size=4), _dash)
def test_normalise_ignores_case_dashes_and_spaces(words, dash):
    plain = "-".join(words)
    variant = "  " + dash.join(w.upper() for w in words) + " "
    assert normalise_regso_name(variant) == normalise_regso_name(plain)
    assert normalise_regso_name(normalise_regso_name(plain)) == normalise_regso_name(plain)


# --- the CSV sources through the loader ------------------------------------------------------


def _load(tmp_path, source_id, text, name="f.csv"):
    reg = FakeRegistry({source_id: write(tmp_path, name, text)})
    return pxweb.load_csv_source(reg, source_id, NAMES)


def test_birth_region_population_and_foreign_born(tmp_path):
    obs = _load(tmp_path, pxweb.BIRTH_REGION, BIRTH)
    got = obs.set_index(["code", "year", "variable"])["value"]
    assert got[("0180R001", 2020, "population")] == 3324
    assert got[("0180R001", 2020, "population_foreign_born")] == 3324 - 2705
    # Sverige 2021 is '..' for 0180R002: no foreign-born value, never a zero
    assert ("0180R002", 2021, "population_foreign_born") not in got.index
    assert got[("0180R002", 2021, "population")] == 7100
    assert set(obs["sex"]) == {"total"} and "Solna" not in "".join(obs["code"])


def test_unknown_stockholm_name_is_an_error_naming_it(tmp_path):
    text = BIRTH.replace("Stockholm (Abrahamsberg)", "Stockholm (Abrahamsberg norra)")
    with pytest.raises(UnknownRegsoError, match=r"'Abrahamsberg norra'.*f\.csv"):
        _load(tmp_path, pxweb.BIRTH_REGION, text)


def test_missing_stockholm_regso_is_an_error(tmp_path):
    text = "\n".join(ln for ln in BIRTH.splitlines() if "Abrahamsberg" not in ln) + "\n"
    with pytest.raises(PxWebError, match="1 Stockholm RegSO have no rows: 0180R001 Abrahamsberg"):
        _load(tmp_path, pxweb.BIRTH_REGION, text)


def test_renamed_column_is_an_error_naming_file_and_columns(tmp_path):
    text = BIRTH.replace('"födelseregion"', '"födelseland"', 1)
    with pytest.raises(PxWebError, match=r"f\.csv: columns .*födelseland.*expected"):
        _load(tmp_path, pxweb.BIRTH_REGION, text)
    text = BIRTH.replace('"Antal 2020","Antal 2021"', '"Procent 2020","Procent 2021"')
    with pytest.raises(PxWebError, match="Procent"):
        _load(tmp_path, pxweb.BIRTH_REGION, text)


def test_unknown_category_is_an_error(tmp_path):
    text = BIRTH.replace('"Sverige"', '"Norden"', 1)
    with pytest.raises(PxWebError, match=r"unknown födelseregion.*norden"):
        _load(tmp_path, pxweb.BIRTH_REGION, text)


DWELL = """"region","upplåtelseform","Antal 2020"
"Stockholm (Abrahamsberg)","hyresrätt",1169
"Stockholm (Abrahamsberg)","bostadsrätt",839
"Stockholm (Abrahamsberg)","äganderätt",0
"Stockholm (Abrahamsberg)","uppgift saknas",0
"Stockholm (Norra Skarpnäcks gård)","hyresrätt",10
"Stockholm (Norra Skarpnäcks gård)","bostadsrätt",..
"Stockholm (Norra Skarpnäcks gård)","äganderätt",5
"Stockholm (Norra Skarpnäcks gård)","uppgift saknas",0
"Stockholm (Östra Skarpnäcks gård-Flaten)","hyresrätt",1
"Stockholm (Östra Skarpnäcks gård-Flaten)","bostadsrätt",2
"Stockholm (Östra Skarpnäcks gård-Flaten)","äganderätt",3
"Stockholm (Östra Skarpnäcks gård-Flaten)","uppgift saknas",4
"""


def test_dwellings_total_only_where_all_parts_are_published(tmp_path):
    obs = _load(tmp_path, pxweb.DWELLINGS, DWELL)
    got = obs.set_index(["code", "variable"])["value"]
    assert got[("0180R001", "dwellings_total")] == 2008
    assert got[("0180R001", "dwellings_owner")] == 0  # a published zero stays a zero
    assert got[("0180R003", "dwellings_tenure_unknown")] == 4
    assert ("0180R002", "dwellings_total") not in got.index
    assert ("0180R002", "dwellings_condo") not in got.index


def test_repeated_rows_are_an_error(tmp_path):
    text = DWELL + '"Stockholm (Abrahamsberg)","hyresrätt",1\n'
    with pytest.raises(PxWebError, match="repeated rows"):
        _load(tmp_path, pxweb.DWELLINGS, text)


def test_wage_income_and_area_type(tmp_path):
    wage = (
        '"region","inkomstkomponent","kön","Medelvärde för samtliga, tkr 2023"\n'
        '"Stockholm (Abrahamsberg)","löneinkomst ","totalt",345.8\n'
        '"Stockholm (Norra Skarpnäcks gård)","löneinkomst ","totalt",300\n'
        '"Stockholm (Östra Skarpnäcks gård-Flaten)","löneinkomst ","totalt",..\n'
    )
    obs = _load(tmp_path, pxweb.WAGE_INCOME, wage, "w.csv")
    assert obs.set_index("code")["value"].to_dict() == {"0180R001": 345.8, "0180R002": 300.0}
    assert set(obs["variable"]) == {"wage_income_mean_tkr"}
    area = (
        ",2022\nStockholm (Abrahamsberg),4\nStockholm (Norra Skarpnäcks gård),1\n"
        "Stockholm (Östra Skarpnäcks gård-Flaten),5\nSolna (X),3\n,\n\"Områdestyp 1 – ...\",\n"
    )
    obs = _load(tmp_path, pxweb.AREA_TYPE, area, "a.csv")
    assert obs.set_index("code")["value"].to_dict() == {"0180R001": 4, "0180R002": 1, "0180R003": 5}
    with pytest.raises(PxWebError, match="not in 1-5"):
        bad = area.replace("Abrahamsberg),4", "Abrahamsberg),7")
        _load(tmp_path, pxweb.AREA_TYPE, bad, "b.csv")


# --- the real mirror --------------------------------------------------------------------------

mirror = pytest.mark.mirror


# `registry` is the session fixture of tests/conftest.py (skips without the mirror).


@pytest.fixture(scope="module")
def observations(registry):
    start = time.perf_counter()
    obs = pxweb.load(registry)
    obs.attrs["seconds"] = time.perf_counter() - start
    return obs


def _sums(obs, source_id, variable, sex="total"):
    sel = obs[(obs["source_id"] == source_id) & (obs["variable"] == variable) & (obs["sex"] == sex)]
    return sel.groupby("year")["value"].sum().to_dict(), sel.groupby("year").size().to_dict()


@mirror
def test_mirror_population_totals(observations):
    totals, counts = _sums(observations, pxweb.BIRTH_REGION, "population")
    assert totals == {2020: 975551, 2021: 978770, 2022: 984748, 2023: 988943}
    assert set(counts.values()) == {127}
    foreign, _ = _sums(observations, pxweb.BIRTH_REGION, "population_foreign_born")
    assert foreign == {2020: 248922, 2021: 252750, 2022: 258080, 2023: 259382}
    age = pxweb.AGE_SEX_2024
    assert _sums(observations, age, "population")[0] == {2024: 995574}  # the manifest's total
    assert _sums(observations, age, "population", "female")[0] == {2024: 503246}
    assert _sums(observations, age, "population", "male")[0] == {2024: 492328}
    assert _sums(observations, age, "population_0_19")[0] == {2024: 208676}
    assert _sums(observations, age, "population_65plus")[0] == {2024: 162879}
    assert _sums(observations, age, "population_80plus")[0] == {2024: 42823}


@mirror
def test_mirror_dwellings_wage_and_area_type(observations):
    total, counts = _sums(observations, pxweb.DWELLINGS, "dwellings_total")
    assert total == {2020: 501108, 2021: 505845, 2022: 511121, 2023: 516820}
    assert set(counts.values()) == {127}
    assert _sums(observations, pxweb.DWELLINGS, "dwellings_rental")[0][2023] == 220633
    _, counts = _sums(observations, pxweb.WAGE_INCOME, "wage_income_mean_tkr")
    assert counts == {2020: 127, 2021: 127, 2022: 127, 2023: 127}
    area = observations[observations["variable"] == "area_type"]
    assert area["value"].value_counts().sort_index().to_dict() == {1: 3, 2: 7, 3: 19, 4: 75, 5: 23}
    assert set(area["year"]) == {2022}


@mirror
def test_mirror_codes_are_the_127_regso_2025_codes(observations, registry):
    names = RegsoNames.from_registry(registry)
    assert len(names.names) == 127
    per_var = observations.groupby(["source_id", "variable", "year", "sex"])["code"].agg(set)
    assert all(codes == set(names.names) for codes in per_var)
    assert set(observations["division"]) == {"regso"}


@mirror
def test_mirror_csv_exports_use_the_regso_2020_edition_which_matches_2025_in_stockholm(registry):
    key = pd.read_csv(registry.file("scb_deso2018_regso2020_key"), dtype=str, encoding="utf-8-sig")
    # Normalised: the exports trim nothing ('Botkyrka (Tuna )') and write one Sotenäs name
    # with hyphens where the key has en dashes.
    pairs = {
        (normalise_regso_name(k), normalise_regso_name(r))
        for k, r in zip(key["Kommunnamn"], key["RegSO_2020"], strict=True)
    }
    assert len(pairs) == 3363
    for source_id, spec in pxweb._SPECS.items():
        df = read_pxweb_csv(registry.file(source_id, spec.file))
        labels = {
            tuple(normalise_regso_name(p) for p in pxweb.split_region(x))
            for x in df[df.attrs["dims"][0]].unique()
        }
        assert labels == pairs, source_id
    sthlm = key[key["Kommun"] == "0180"][["RegSOkod_2020", "RegSO_2020"]].drop_duplicates()
    names = RegsoNames.from_registry(registry)
    assert dict(zip(sthlm["RegSOkod_2020"], sthlm["RegSO_2020"], strict=True)) == dict(names.names)
