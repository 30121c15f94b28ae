"""Transcribed district tables: parsing, district resolution, errors, duplicates, metadata."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from indicators.loaders import transcribed as t
from indicators.observations import validate

SRC = "transcribed_test"
PUB = "Stockholms stad (Statistisk årsbok för Stockholm; Sweco)"


def _row(**kw) -> dict:
    row = {
        "indicator_id": "social_assistance_share",
        "indicator_sv": "Personer med ekonomiskt bistånd, %",
        "area": "work",
        "unit": "percent",
        "geography": "sdo14_2007",
        "district": "Rinkeby-Kista",
        "sex": "total",
        "year": "2017",
        "value": "10.5",
        "source_publisher": PUB,
        "source_title": "Ekonomiskt bistånd 2017",
        "source_url": "http://example.org/b020",
        "source_location": "Tabell b020",
        "definition_note": "Biståndstagare i % av befolkningen.",
    }
    row.update(kw)
    return row


def _csv(tmp_path: Path, rows: list[dict], header=t.HEADER, name="table.csv") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in t.HEADER])
    p = tmp_path / name
    p.write_text(buf.getvalue(), encoding="utf-8")
    return p


# --- parsing --------------------------------------------------------------------------------


def test_rows_become_observations_on_their_divisions(tmp_path):
    rows = [
        _row(geography="city", district="Stockholm", value="3.8"),
        _row(),
        _row(geography="sdo13_2020", district="Hägersten-Älvsjö", year="2021"),
        _row(geography="sdo11_2023", district="Järva", year="2023/24", sex="women"),
        _row(geography="sdo18_1999", district="Enskede-Årsta", year="2008", sex="men"),
        _row(geography="stadsdel", district="Södra Ängby", year="2014"),
    ]
    obs = t.load_file(_csv(tmp_path, rows), SRC, stadsdelar=["SÖDRA ÄNGBY", "HUSBY"])
    validate(obs, SRC)
    got = list(zip(obs["division"], obs["code"], obs["year"], obs["sex"], strict=True))
    assert got == [
        ("city", "stockholm", 2017, "total"),
        ("sdo14", "rinkeby_kista", 2017, "total"),
        ("sdo13", "hagersten_alvsjo", 2021, "total"),
        ("sdo11", "jarva", 2024, "female"),  # a school year counts as its spring year
        ("sdo18", "enskede_arsta", 2008, "male"),
        ("stadsdel", "sodra_angby", 2014, "total"),
    ]
    assert set(obs["variable"]) == {"social_assistance_share"}
    assert obs["value"].tolist()[:2] == [3.8, 10.5]
    assert obs["citation"].iloc[0] == (
        f"{PUB}, Ekonomiskt bistånd 2017, Tabell b020, http://example.org/b020"
    )


def test_slug_and_year():
    assert t.slug("Södra Ängby") == "sodra_angby"
    assert t.slug("Rinkeby") == "rinkeby"
    assert t.slug("Enskede-Årsta-Vantör") == "enskede_arsta_vantor"
    assert t.parse_year("2013") == 2013
    assert t.parse_year("2012/13") == 2013
    assert t.parse_year("2012/2013") == 2013
    for bad, msg in [
        ("2011-2013", "period"),
        ("2012/14", "consecutive"),
        ("13", "not a year"),
        ("2013.0", "not a year"),
    ]:
        with pytest.raises(ValueError, match=msg):
            t.parse_year(bad)


@pytest.mark.parametrize(
    ("publisher", "note", "secondary"),
    [
        ("Rädda Barnen (secondary: Mitt i)", "", True),
        ("Wikipedia (pl) citing SCB", "", True),
        ("Dagens Nyheter (news report on Stockholms stads trygghetsmätning 2020)", "", True),
        ("Nyhetsbyrån Järva (news report on Stockholms stads medborgarundersökning)", "", True),
        ("Blog of a Stockholm city politician quoting Stockholms stad", "", True),
        ("Mitt i (local newspaper) reporting Stockholms stad statistics", "", True),
        ("Newsworthy (automated news) reporting Arbetsförmedlingen statistics", "", True),
        ("Some publisher", "SECONDARY SOURCE (newspaper).", True),
        ("Stockholms stad (start.stockholm news item)", "", False),
        (PUB, "", False),
        ("SCB", "", False),
        ("Svensk Mäklarstatistik", "", False),
    ],
)
def test_secondary_sources(publisher, note, secondary):
    assert t.is_secondary(publisher, note) is secondary


# --- errors ---------------------------------------------------------------------------------


def _error(tmp_path, rows, header=t.HEADER, stadsdelar=None) -> str:
    with pytest.raises(t.TranscribedError) as err:
        t.load_file(_csv(tmp_path, rows, header), SRC, stadsdelar)
    return str(err.value)


def test_unknown_district_names_file_row_and_name(tmp_path):
    msg = _error(tmp_path, [_row(), _row(district="Rinkeby-Tensta")])
    assert "table.csv: row 3" in msg and "'Rinkeby-Tensta'" in msg and "district" in msg


def test_a_district_of_another_division_is_unknown(tmp_path):
    # Järva did not exist in the 14-district division
    msg = _error(tmp_path, [_row(district="Järva")])
    assert "row 2" in msg and "'Järva'" in msg and "sdo14" in msg


@pytest.mark.parametrize(
    ("geography", "district"),
    [("sdo18_1999", "Rinkeby-Kista"), ("stadsdel", "Atlantis"), ("city", "Solna")],
)
def test_unknown_names_in_other_divisions(tmp_path, geography, district):
    msg = _error(tmp_path, [_row(geography=geography, district=district)], stadsdelar=["HUSBY"])
    assert "row 2" in msg and repr(district) in msg


def test_renamed_column_is_named(tmp_path):
    header = tuple("district_name" if h == "district" else h for h in t.HEADER)
    msg = _error(tmp_path, [_row()], header=header)
    assert "table.csv: row 1" in msg and "'district_name'" in msg and "'district'" in msg


def test_non_numeric_value_names_row_and_column(tmp_path):
    msg = _error(tmp_path, [_row(), _row(district="Bromma", value="12,5")])
    assert "row 3" in msg and "column 'value'" in msg and "'12,5'" in msg


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("sex", "both", "sex"),
        ("geography", "deso", "geography"),
        ("year", "2011-2013", "year"),
        ("area", "environment", "area"),
        ("source_url", "", "source_url"),
        ("indicator_id", "Social share", "indicator_id"),
    ],
)
def test_bad_cells_name_their_column(tmp_path, field, value, column):
    msg = _error(tmp_path, [_row(**{field: value})])
    assert "row 2" in msg and f"column {column!r}" in msg


def test_truncated_files(tmp_path):
    p = _csv(tmp_path, [_row(), _row(district="Bromma")])
    text = p.read_text(encoding="utf-8")
    # cut inside the last row: too few fields
    cut = text[: text.rindex("Bromma") + 8] + "\n"
    p.write_text(cut, encoding="utf-8")
    with pytest.raises(t.TranscribedError, match=r"row 3 has \d+ fields, expected 14"):
        t.load_file(p, SRC)
    # cut without the final line break
    p.write_text(text[:-5], encoding="utf-8")
    with pytest.raises(t.TranscribedError, match="cut short"):
        t.load_file(p, SRC)
    # cut inside a quoted field
    p.write_text(text + '"social_assistance_share","Personer\n', encoding="utf-8")
    with pytest.raises(t.TranscribedError, match="cut short"):
        t.load_file(p, SRC)


def test_a_series_with_two_units_is_refused(tmp_path):
    msg = _error(tmp_path, [_row(), _row(district="Bromma", unit="persons")])
    assert "several units" in msg


# --- duplicates -----------------------------------------------------------------------------


def test_equal_duplicates_are_kept_once_with_both_citations(tmp_path):
    rows = [_row(), _row(source_title="Another table", source_url="http://example.org/x")]
    obs = t.load_file(_csv(tmp_path, rows), SRC)
    assert len(obs) == 1
    assert "Ekonomiskt bistånd 2017" in obs["citation"][0] and "Another table" in obs["citation"][0]


def test_differing_duplicates_follow_the_publication_of_the_other_districts(tmp_path):
    art = {"source_title": "Article", "source_url": "http://news.example/a"}
    other = {"source_title": "Other", "source_url": "http://blog.example/b"}
    rows = [
        _row(geography="city", district="Stockholm", value="75", **art),
        _row(district="Spånga-Tensta", value="63", **art),
        _row(geography="city", district="Stockholm", value="74", **other),
    ]
    obs = t.load_file(_csv(tmp_path, rows), SRC)
    city = obs[obs["division"] == "city"].iloc[0]
    assert city["value"] == 75
    assert "another source reads 74" in city["citation"] and "Other" in city["citation"]


def test_differing_duplicates_without_a_rule_raise(tmp_path):
    rows = [_row(value="10"), _row(value="11", source_title="B", source_url="http://b")]
    msg = _error(tmp_path, rows)
    assert "row 2, row 3" in msg and "different values (10, 11)" in msg


# --- metadata -------------------------------------------------------------------------------


def test_series_metadata(tmp_path):
    rows = [_row(geography="city", district="Stockholm")]
    rows += [_row(district=d) for d in ("Bromma", "Farsta", "Skarpnäck")]
    rows += [_row(district="Farsta", year="2016", source_publisher="Rädda Barnen (secondary: x)")]
    rows += [
        _row(
            indicator_id="other",
            area="population",
            unit="persons",
            geography="city",
            district="Stockholm",
        )
    ]
    meta = t.series_metadata(rows=t.read_rows(_csv(tmp_path, rows), SRC)).set_index("indicator_id")
    s = meta.loc["social_assistance_share"]
    assert s["districts_per_year"] == {2016: 1, 2017: 3}
    assert s["max_districts"] == 3 and s["source_division"] == "sdo14"
    assert s["secondary"] and s["secondary_marked"] and s["has_city"]
    assert s["years"] == (2016, 2017) and s["divisions"] == ("city", "sdo14")
    o = meta.loc["other"]
    assert pd.isna(o["source_division"]) and o["catalog_area"] == "democracy"
    assert o["max_districts"] == 0 and not o["secondary"]


# --- the mirror -----------------------------------------------------------------------------

# `registry` is the shared fixture of tests/conftest.py (skips without the mirror).


@pytest.mark.mirror
def test_mirror_load(registry):
    obs = t.load(registry)
    validate(obs)
    rows = t.read_all_rows(registry)
    assert len(rows) == 705 and len(obs) == 704  # one conflicting duplicate resolved
    assert set(obs["source_id"]) == set(t.FILES)
    assert set(obs["division"]) == {"city", "sdo18", "sdo14", "sdo13", "sdo11", "stadsdel"}
    assert (obs["citation"].str.count("http") >= 1).all()
    assert (obs.loc[obs["division"] == "city", "code"] == "stockholm").all()
    assert set(obs.loc[obs["division"] == "sdo14", "code"]) <= set(
        __import__("geo.names", fromlist=["DIVISION_CODES"]).DIVISION_CODES["sdo14"]
    )
    assert set(obs.loc[obs["division"] == "stadsdel", "code"]) == {
        "husby",
        "rinkeby",
        "sodra_angby",
    }
    city = obs[(obs["variable"] == "safe_living_in_own_area") & (obs["division"] == "city")]
    assert city["value"].tolist() == [75.0]


@pytest.mark.mirror
def test_mirror_series_metadata(registry):
    meta = t.series_metadata(registry).set_index("indicator_id")
    assert len(meta) == 84 and meta.index.is_unique
    assert set(meta["catalog_area"]) == {"health", "upbringing", "work", "housing", "democracy"}
    assert meta.loc["social_assistance_share", "districts_per_year"] == {
        2015: 14,
        2016: 14,
        2017: 14,
    }
    assert meta.loc["social_assistance_share", "source_division"] == "sdo14"
    assert not meta.loc["social_assistance_share", "secondary"]
    # news and encyclopedia rows count as secondary though their publisher does not say so
    for ind in ("worry_crime_often", "population_31dec", "neet_share_16_29"):
        assert meta.loc[ind, "secondary"] and not meta.loc[ind, "secondary_marked"]
    assert meta.loc["caries_3yo_share", "secondary_marked"]
    assert pd.isna(meta.loc["turnout_riksdag", "source_division"])
