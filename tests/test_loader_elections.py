"""indicators.loaders.elections: the parsing core on tiny hand-made files, name matching, and
(marked `mirror`) the seven real result files against official city figures."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from data.registry import Registry
from indicators.loaders import elections as el
from indicators.loaders.elections import ElectionFileError
from indicators.observations import validate

SPEC = {s.source_id: s for s in el.SPECS}
SKV = SPEC["val_2010_riksdag"]  # the .skv family, real column names
XLSX = SPEC["val_2018_riksdag"]  # the xlsx family, real column names

SKV_HEADER = ";".join(
    ["LAN", "KOM", "VALDIST", "RIKSDAGSVALKRETS", "KOMMUN", "VALDISTRIKT", "M tal",
     "Rost Giltiga", "Rostande", "Rostb", "VDT"]
)  # fmt: skip
SKV_ROWS = [
    "01;14;0101;Stockholms län;Upplands Väsby;Övra Runby;5;90;91;100;91,00",
    "01;80;0101;Stockholms kommun;Stockholm;Domkyrko 1 Gamla stan;10;99;100;120;83,33",
    "01;80;0102;Stockholms kommun;Stockholm;Domkyrko 2 Klara;10;199;200;250;80,00",
    "01;80;01;Stockholms kommun;Stockholm;Onsdagsdistrikt;10;49;50;0;0",
]
XLSX_HEADER = [
    "LÄNSKOD", "KOMMUNKOD", "VALKRETSKOD", "VALDISTRIKTSKOD", "LÄNSNAMN", "KOMMUNNAMN",
    "VALKRETSNAMN", "VALDISTRIKTSNAMN", "M", "RÖSTER GILTIGA", "RÖSTANDE", "RÖSTBERÄTTIGADE",
    "VALDELTAGANDE",
]  # fmt: skip


def _xrow(kom: int, vd: int, name: str, voters: object, eligible: object, pct: object = None):
    if pct is None and isinstance(voters, int) and isinstance(eligible, int) and eligible:
        pct = round(100 * voters / eligible, 2)
    return [1, kom, 1, vd, "Stockholms län", "Stockholm", "Stockholms kommun", name, 1,
            voters, voters, eligible, pct if pct is not None else 0]  # fmt: skip


XLSX_ROWS = [
    _xrow(14, 101, "Övra Runby", 90, 100),
    _xrow(80, 101, "Domkyrko 1 Gamla stan inre", 800, 1000),
    _xrow(80, 102, "Domkyrko 2 Gamla stan yttre", 700, 1000),
    _xrow(80, 103, "Domkyrko 3 Norrmalm nedre", 600, 1000),
    _xrow(80, 4213, "Kista 13 Kista C", 500, 1000),
    _xrow(80, 1, "Uppsamlingsdistrikt", 300, 0),
]


def write_skv(path: Path, header: str = SKV_HEADER, rows: list[str] = SKV_ROWS) -> Path:
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("latin-1"))
    return path


def write_xlsx(path: Path, header=XLSX_HEADER, rows=XLSX_ROWS, sheet: str = "R antal") -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Per valdistrikt"
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_geojson(path: Path, code_field: str, name_field: str, polys: dict[str, str]) -> Path:
    square = {"type": "Polygon", "coordinates": [[[18, 59], [18.1, 59], [18.1, 59.1], [18, 59]]]}
    features = [
        {"type": "Feature", "properties": {code_field: c, name_field: n}, "geometry": square}
        for c, n in polys.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "width", "same"),
    [
        ("Domkyrko 1 Gamla stan inre", "Domkyrko 1  gamla stan inre", None, True),
        ("Högalid 4 Högalidsgatan östra mm", "Högalid 4 Högalidsgatan Ö mfl", None, True),
        ("Engelbrekt 5 Eriksberg mm", "Engelbrekt 5 Eriksberg", None, True),
        ("Sofia 4 Stig Claessons Park-Fjällg,", "Sofia 4 Stig Claessons Park-Fjällg.", None, True),
        ("Adolf Fredrik 1 Vasastaden SV", "Adolf Fredrik 1 Vasataden SV", None, True),  # typo
        ("Vantör 18 Rågsveds N", "Vantör 18 Rågsved N", None, True),
        ("Hässelby 16 Hässelby 16 Backlura S", "Hässelby 16 Backlura S", None, True),
        # the 2022 files cut names at 32 characters
        ("Johannes 5 Monica Zetterlunds Pa", "Johannes 5 Monica Zetterlunds Park", 32, True),
        ("Gustav Vasa 3 Kv Riddarsporren m", "Gustav Vasa 3 Kv Riddarsporren mfl", 32, True),
        # ... but a short name is not a cut one: a split keeps its prefix
        ("Engelbrekt 11 Lappkärrsberget", "Engelbrekt 11 Lappkärrsberget V", None, False),
        ("Engelbrekt 11 Lappkärrsberget", "Engelbrekt 11 Lappkärrsberget V", 32, False),
        ("Farsta 12 Hökarängen N", "Farsta 12 Hökarängen V", None, False),
        ("Hässelby 13 Hässelby Villastad NV", "Hässelby 13 Hässelby Villastad NÖ", None, False),
        ("Skärholmen 9 Vårberg mellersta", "Skärholmen 9 Vårberg N", None, False),
        ("S:t Göran 12 Kv Dykaren-Färjaren", "S:t Göran 12 Kv Dykaren-Färjan", None, False),
        ("Kista 6 Husby N", "Kista 6 Lofotenparken", None, False),
    ],
)
def test_names_match(a: str, b: str, width: int | None, same: bool) -> None:
    assert el.names_match(a, b, width) is same
    assert el.names_match(b, a, None, width) is same


def _districts(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "name", "eligible"])


def _polys(rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"code": list(rows), "name": list(rows.values())})


def test_match_code_and_name_renumbered_and_refused() -> None:
    dist = _districts(
        [
            ("01800101", "Domkyrko 1 Gamla stan inre", 1000),  # code + name
            ("01800103", "Domkyrko 3 Norrmalm nedre", 1000),  # same code, other name
            ("01804213", "Kista 13 Kista C", 1000),  # renumbered to 21
            ("01804208", "Kista 8 Husby C", 3000),  # renumbered to 20, but 3x the size
            ("01800901", "Engelbrekt 1 Husby C", 1000),  # same place, other parish: no
        ]
    )
    polys = _polys(
        {
            "01800101": "Domkyrko 1 Gamla stan inre",
            "01800103": "Domkyrko 3 Klara",
            "01804213": "Kista 13 Helsingörsgatan mfl",
            "01804221": "Kista 21 Kista C",
            "01804220": "Kista 20 Husby C",
        }
    )
    ref = el.Reference("ref", {c: 1000 for c in polys["code"]}, total=7000)
    m = el.match_districts(dist, polys, reference=ref, total=7000).set_index("code")
    assert m.loc["01800101", ["poly_code", "how"]].tolist() == ["01800101", "code+name"]
    assert pd.isna(m.loc["01800103", "poly_code"]) and "other name" in m.loc["01800103", "note"]
    assert m.loc["01804213", ["poly_code", "how"]].tolist() == ["01804221", "renumbered"]
    assert pd.isna(m.loc["01804208", "poly_code"]) and "refused" in m.loc["01804208", "note"]
    assert pd.isna(m.loc["01800901", "poly_code"])
    assert m.loc["01800101", "size_ratio"] == pytest.approx(1.0)


def test_renumbered_needs_a_unique_place_and_a_free_polygon() -> None:
    dist = _districts(
        [("01802501", "Farsta 1 Farsta C", 900), ("01802502", "Farsta 2 Gubbängen", 900),
         ("01802503", "Farsta 3 Gubbängen", 900)]
    )  # fmt: skip
    polys = _polys(
        {"01802501": "Farsta 1 Farsta C", "01802509": "Farsta 9 Farsta C",
         "01802510": "Farsta 10 Gubbängen"}
    )  # fmt: skip
    m = el.match_districts(dist, polys).set_index("code")
    assert m.loc["01802501", "poly_code"] == "01802501"  # '09 Farsta C' is not taken twice
    assert m["poly_code"].tolist().count("01802509") == 0
    assert m.loc[["01802502", "01802503"], "poly_code"].isna().all()  # ambiguous place


# --- reading: tiny files, both families ----------------------------------------------------


def test_read_skv(tmp_path: Path) -> None:
    rows = el.read_results(SKV, write_skv(tmp_path / "r.skv"))
    assert [(r.code, r.eligible, r.voters, r.unassigned) for r in rows] == [
        ("01800101", 120, 100, False),
        ("01800102", 250, 200, False),
        ("01800001", 0, 50, True),
    ]


def test_read_xlsx(tmp_path: Path) -> None:
    rows = el.read_results(XLSX, write_xlsx(tmp_path / "r.xlsx"))
    assert len(rows) == 5 and sum(r.unassigned for r in rows) == 1
    assert rows[3].code == "01804213" and rows[3].voters == 500


def test_skv_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = write_skv(tmp_path / "res.skv", header=SKV_HEADER.replace(";Rostb;", ";Rostber;"))
    with pytest.raises(ElectionFileError, match=r"res\.skv: column\(s\) \['Rostb'\]"):
        el.read_results(SKV, path)


def test_skv_truncated_file_names_the_line(tmp_path: Path) -> None:
    path = write_skv(tmp_path / "res.skv")
    path.write_bytes(path.read_bytes()[:-12])  # cut inside the last line
    with pytest.raises(ElectionFileError, match=r"res\.skv: line 5 has \d+ fields.*truncated"):
        el.read_results(SKV, path)


def test_skv_non_numeric_count_names_line_and_column(tmp_path: Path) -> None:
    rows = [*SKV_ROWS]
    rows[2] = rows[2].replace(";200;250;", ";2OO;250;")
    path = write_skv(tmp_path / "res.skv", rows=rows)
    with pytest.raises(ElectionFileError, match=r"res\.skv: line 4, column 'Rostande': '2OO'"):
        el.read_results(SKV, path)


def test_skv_swapped_columns_disagree_with_the_files_own_turnout(tmp_path: Path) -> None:
    header = SKV_HEADER.replace("Rostande;Rostb", "Rostb;Rostande")
    with pytest.raises(ElectionFileError, match=r"res\.skv: line 3: .*does not agree with 'VDT'"):
        el.read_results(SKV, write_skv(tmp_path / "res.skv", header=header))


def test_skv_empty_and_foreign_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.skv"
    empty.write_bytes(b"")
    with pytest.raises(ElectionFileError, match=r"empty\.skv: empty file"):
        el.read_results(SKV, empty)
    path = write_skv(tmp_path / "other.skv", rows=SKV_ROWS[:1])
    with pytest.raises(ElectionFileError, match=r"other\.skv: no rows for kommun 0180"):
        el.read_results(SKV, path)


def test_skv_duplicate_district_and_zero_eligible_district(tmp_path: Path) -> None:
    path = write_skv(tmp_path / "dup.skv", rows=[*SKV_ROWS, SKV_ROWS[1]])
    with pytest.raises(ElectionFileError, match=r"dup\.skv: district code 01800101 twice"):
        el.read_results(SKV, path)
    zero = SKV_ROWS[1].replace(";100;120;83,33", ";0;0;0")
    path = write_skv(tmp_path / "zero.skv", rows=[zero])
    with pytest.raises(
        ElectionFileError, match=r"zero\.skv: line 2: district 01800101.*0 eligible"
    ):
        el.read_results(SKV, path)


def test_xlsx_renamed_column_names_file_and_column(tmp_path: Path) -> None:
    header = [h if h != "RÖSTANDE" else "ANTAL RÖSTANDE" for h in XLSX_HEADER]
    path = write_xlsx(tmp_path / "res.xlsx", header=header)
    with pytest.raises(ElectionFileError, match=r"res\.xlsx: column\(s\) \['RÖSTANDE'\]"):
        el.read_results(XLSX, path)


def test_xlsx_missing_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "res.xlsx", sheet="Blad1")
    with pytest.raises(ElectionFileError, match=r"res\.xlsx: no sheet 'R antal'"):
        el.read_results(XLSX, path)


@pytest.mark.parametrize("bad", ["1 234", None, "..", 12.5])
def test_xlsx_non_numeric_count_names_row_and_column(tmp_path: Path, bad: object) -> None:
    rows = [*XLSX_ROWS]
    rows[2] = _xrow(80, 102, "Domkyrko 2 Gamla stan yttre", 700, bad, pct=70.0)
    path = write_xlsx(tmp_path / "res.xlsx", rows=rows)
    with pytest.raises(ElectionFileError, match=r"res\.xlsx: row 4, column 'RÖSTBERÄTTIGADE'"):
        el.read_results(XLSX, path)


def test_xlsx_truncated_file(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "res.xlsx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ElectionFileError, match=r"res\.xlsx: .*(truncated|not a readable)"):
        el.read_results(XLSX, path)


def test_geojson_without_the_code_property(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "vd.geojson", "LKF", "VDNAMN", {"01800101": "Domkyrko 1"})
    with pytest.raises(ElectionFileError, match=r"vd\.geojson: feature 0 has no property 'LKFV'"):
        el.read_edition(el.EDITIONS["valdistrikt_2010"], path)


# --- load() end to end on a tiny registry ------------------------------------------------------


@pytest.fixture
def tiny_registry(tmp_path: Path) -> Registry:
    raw = tmp_path / "raw" / "valmyndigheten"
    raw.mkdir(parents=True)
    files = {
        "val_2010_riksdag": write_skv(raw / "2010_slutligt_valresultat_valdistrikt_R.skv"),
        "val_2018_riksdag": write_xlsx(raw / "2018_R_per_valdistrikt.xlsx"),
        "val_2010_valdistrikt_boundaries": write_geojson(
            raw / "valdistrikt_2010_stockholms_lan.geojson", "LKFV", "VDNAMN",
            {"01140101": "Övra Runby", "01800101": "Domkyrko 1 Gamla stan",
             "01800102": "Domkyrko 2 Klara"},
        ),
        "val_2022_valdistrikt_boundaries": write_geojson(
            raw / "valdistrikt_2022_stockholm.geojson", "Lkfv", "Vdnamn",
            {"01800101": "Domkyrko 1 Gamla stan inre",
             "01800102": "Domkyrko 2 Gamla stan yttre mfl", "01800103": "Domkyrko 3 Klara",
             "01804213": "Kista 13 Helsingörsgatan mfl", "01804221": "Kista 21 Kista C"},
        ),
    }  # fmt: skip
    sources = [
        {"id": sid, "title": sid, "publisher": "test", "licence": "test",
         "files": [{"path": p.relative_to(tmp_path / "raw").as_posix(),
                    "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                    "bytes": p.stat().st_size}]}
        for sid, p in files.items()
    ]  # fmt: skip
    reg_file = tmp_path / "sources.yaml"
    reg_file.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), "utf-8")
    return Registry(raw_dir=tmp_path / "raw", registry_file=reg_file)


def test_load_tiny_registry(tiny_registry: Registry) -> None:
    specs = (SKV, XLSX)
    obs = el.load(tiny_registry, specs)
    validate(obs)
    val = obs.set_index(["source_id", "division", "code", "variable"])["value"]
    # 2010: own edition, both districts; the Onsdagsdistrikt only in the city's unassigned row
    assert val[("val_2010_riksdag", "valdistrikt_2010", "01800102", "voters_riksdag")] == 200
    assert val[("val_2010_riksdag", "city", "stockholm", "voters_riksdag_unassigned")] == 50
    assert val[("val_2010_riksdag", "city", "stockholm", "voters_riksdag")] == 350
    assert val[("val_2010_riksdag", "city", "stockholm", "eligible_riksdag_unmatched")] == 0
    # 2018: goes to the 2022 edition (3 of 4 districts there, 0 in 2010's)
    y18 = obs[obs["source_id"] == "val_2018_riksdag"]
    assert set(y18["division"]) == {"valdistrikt_2022", "city"}
    assert val[("val_2018_riksdag", "valdistrikt_2022", "01804221", "eligible_riksdag")] == 1000
    assert ("val_2018_riksdag", "valdistrikt_2022", "01800103", "voters_riksdag") not in val.index
    assert val[("val_2018_riksdag", "city", "stockholm", "voters_riksdag_unmatched")] == 600
    assert val[("val_2018_riksdag", "city", "stockholm", "voters_riksdag_unassigned")] == 300
    assert not y18["variable"].str.startswith("eligible_riksdag_unassigned").any()
    assert (obs["year"].unique().tolist(), obs["sex"].unique().tolist()) == (
        [2010, 2018],
        ["total"],
    )

    rep = el.matching_report(tiny_registry, specs).set_index("source_id")
    r18 = rep.loc["val_2018_riksdag"]
    assert (r18["edition"], r18["districts"], r18["matched"], r18["unmatched"]) == (
        "valdistrikt_2022", 4, 3, 1,
    )  # fmt: skip
    assert (r18["matched_code_name"], r18["matched_renumbered"]) == (2, 1)
    assert r18["eligible_unmatched"] == 1000 and r18["eligible_unmatched_pct"] == 25.0
    assert r18["voters_unmatched_pct"] == pytest.approx(100 * 600 / 2900, abs=0.01)
    m = el.district_matches(tiny_registry, specs)
    assert m.loc[m["code"] == "01800103", "note"].item().startswith("same code, other name")


def test_load_names_a_changed_file(tiny_registry: Registry) -> None:
    path = (
        tiny_registry.root_of(tiny_registry["val_2010_riksdag"])
        / tiny_registry["val_2010_riksdag"].files[0].path
    )
    path.write_bytes(path.read_bytes() + b"\r\n")
    with pytest.raises(el.SourceError, match="CHANGED"):
        el.load(tiny_registry, (SKV,))


# --- the real mirror -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror() -> Registry:
    reg = Registry()
    ids = [s.source_id for s in el.SPECS] + [e.source_id for e in el.EDITIONS.values()]
    if any(st.status == "missing" for sid in ids for st in reg.status(sid)):
        pytest.skip(f"data mirror not found at {reg.raw_dir}")
    return reg


@pytest.fixture(scope="module")
def report(mirror: Registry) -> pd.DataFrame:
    return el.matching_report(mirror).set_index("source_id")


@pytest.fixture(scope="module")
def observations(mirror: Registry) -> pd.DataFrame:
    return el.load(mirror)


@pytest.fixture(scope="module")
def official(mirror: Registry) -> dict[tuple[str, int], float]:
    """Stockholm's official city figures (transcribed from Statistisk årsbok för Stockholm)."""
    df = pd.read_csv(mirror.file("transcribed_democracy_population"))
    df = df[(df["geography"] == "city") & (df["sex"] == "total")]
    return {(r.indicator_id, int(r.year)): float(r.value) for r in df.itertuples()}


def _city(obs: pd.DataFrame, sid: str, variable: str) -> float:
    sel = (obs["source_id"] == sid) & (obs["division"] == "city") & (obs["variable"] == variable)
    return obs.loc[sel, "value"].item()


@pytest.mark.mirror
def test_mirror_district_counts(report: pd.DataFrame) -> None:
    assert report["districts"].to_dict() == {
        "val_2010_riksdag": 503, "val_2014_kommun": 537, "val_2018_riksdag": 573,
        "val_2018_region": 573, "val_2022_riksdag": 592, "val_2022_region": 592,
        "val_2022_kommun": 592,
    }  # fmt: skip
    assert (report["unassigned_rows"] == 6).all()


# (source, kind) -> {our city variable: (official indicator, year)}; turnout is compared at the
# official rounding (one decimal).
OFFICIAL = {
    ("val_2010_riksdag", "riksdag", 2010): ("eligible_voters_riksdag", None, "turnout_riksdag"),
    ("val_2014_kommun", "kommun", 2014): (
        "eligible_voters_municipal", "voters_municipal", "turnout_municipal",
    ),
    ("val_2018_riksdag", "riksdag", 2018): ("eligible_voters_riksdag", None, "turnout_riksdag"),
    # the 2018 landsting electorate is the kommunval's; its voters differ (not compared)
    ("val_2018_region", "region", 2018): ("eligible_voters_municipal", None, None),
}  # fmt: skip


@pytest.mark.mirror
@pytest.mark.parametrize("key", list(OFFICIAL), ids=[k[0] for k in OFFICIAL])
def test_mirror_city_totals_match_official_figures(observations, official, key) -> None:
    sid, kind, year = key
    eligible_id, voters_id, turnout_id = OFFICIAL[key]
    eligible = _city(observations, sid, f"eligible_{kind}")
    voters = _city(observations, sid, f"voters_{kind}")
    assert eligible == official[(eligible_id, year)]
    if voters_id:
        assert voters == official[(voters_id, year)]
    if turnout_id:
        assert round(100 * voters / eligible, 1) == official[(turnout_id, year)]


@pytest.mark.mirror
def test_mirror_2022_city_totals(observations) -> None:
    # No independent Stockholm figure for 2022 in the mirror. The files' national sums are the
    # official ones (riksdag 7 775 390 eligible, 84.21 %); region and kommun share an electorate.
    o = observations
    assert _city(o, "val_2022_region", "eligible_region") == 773_389
    assert _city(o, "val_2022_kommun", "eligible_kommun") == 773_389
    assert _city(o, "val_2022_riksdag", "eligible_riksdag") == 728_089
    assert _city(o, "val_2022_riksdag", "voters_riksdag") == 611_908  # 84.04 %
    assert _city(o, "val_2022_region", "voters_region") == 618_155  # 79.93 %
    assert _city(o, "val_2022_kommun", "voters_kommun") == 618_245  # 79.94 %


@pytest.mark.mirror
def test_mirror_unassigned_votes_match_the_yearbook(observations) -> None:
    # Statistisk årsbok för Stockholm (statistik.stockholm.se b195/b199): uppsamlingsdistrikt
    # 2014 kommunval 19 206; 2010 riksdag 32 658 valid ballots (+ 332 blank/invalid = röstande).
    assert _city(observations, "val_2014_kommun", "voters_kommun_unassigned") == 19_206
    assert _city(observations, "val_2010_riksdag", "voters_riksdag_unassigned") == 32_990


@pytest.mark.mirror
def test_mirror_districts_unmatched_and_unassigned_add_up(observations) -> None:
    kinds = observations["variable"].str.split("_").str[1]
    for (sid, kind), g in observations.groupby(["source_id", kinds]):
        for what in ("eligible", "voters"):
            district = (g["division"] != "city") & (g["variable"] == f"{what}_{kind}")
            dist = g.loc[district, "value"].sum()
            extra = g.loc[
                (g["division"] == "city")
                & g["variable"].isin([f"{what}_{kind}_unmatched", f"{what}_{kind}_unassigned"]),
                "value",
            ].sum()
            assert dist + extra == _city(observations, sid, f"{what}_{kind}"), (sid, what)


@pytest.mark.mirror
def test_mirror_matching(report: pd.DataFrame, observations, mirror) -> None:
    own = ["val_2010_riksdag", "val_2022_riksdag", "val_2022_region", "val_2022_kommun"]
    assert (report.loc[own, "unmatched"] == 0).all()
    assert (report.loc[own, "matched_code_name"] == report.loc[own, "districts"]).all()
    assert report.loc["val_2010_riksdag", "edition"] == "valdistrikt_2010"
    other = ["val_2014_kommun", "val_2018_riksdag", "val_2018_region"]
    assert (report.loc[other, "edition"] == "valdistrikt_2022").all()
    # regression pins (change them knowingly when the matching rules change)
    assert report.loc[other, "matched"].tolist() == [430, 510, 510]
    assert report.loc["val_2014_kommun", "eligible_unmatched_pct"] < 25
    y18 = ["val_2018_riksdag", "val_2018_region"]
    assert (report.loc[y18, "eligible_unmatched_pct"] < 15).all()
    # every district code is a polygon of its edition
    for division in el.DIVISIONS:
        polys = el.read_edition(el.EDITIONS[division], mirror.file(el.EDITIONS[division].source_id))
        codes = set(observations.loc[observations["division"] == division, "code"])
        assert codes <= set(polys["code"]), division


@pytest.mark.mirror
def test_mirror_2014_results_agree_with_the_2014_valgeografi(mirror) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    attrs = pyogrio.read_dataframe(
        mirror.file("val_2014_valdistrikt_attributes"), read_geometry=False
    )
    attrs = attrs[attrs["VD"].str.startswith("0180")].set_index("VD")["VD_NAMN"]
    spec = SPEC["val_2014_kommun"]
    rows = el.read_results(spec, mirror.file(spec.source_id, spec.file))
    rows = [r for r in rows if not r.unassigned]
    assert len(rows) == len(attrs) == 537
    assert all(el.names_match(r.name, attrs[r.code]) for r in rows)


@pytest.mark.mirror
def test_mirror_one_edition_per_election(observations) -> None:
    districts = observations[observations["division"] != "city"]
    assert (districts.groupby("source_id")["division"].nunique() == 1).all()


def test_spec_table_is_consistent() -> None:
    assert len(el.SPECS) == 7 and len({s.source_id for s in el.SPECS}) == 7
    for s in el.SPECS:
        assert s.kind in ("riksdag", "region", "kommun")
        assert set(s.editions) <= set(el.EDITIONS)
        assert (s.sheet is None) == (s.family == "skv")
    assert dataclasses.is_dataclass(el.SPECS[0])
