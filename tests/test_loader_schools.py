"""Skolverket loader: API parser, recorded/live client, export and register readers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.loaders import schools as s
from indicators.observations import validate

STH, OTHER = "0180", "0123"


# --- tiny recordings ------------------------------------------------------------------------


def _entry(value, kind, period):
    return {"value": value, "valueType": kind, "timePeriod": period}


def _stats(code: str, merit=(), passed=(), yr=()) -> dict:
    body = {"schoolUnit": code, "totalNumberOfPupils": [_entry("cirka 40", "EXISTS", "2025/26")]}
    body["averageGradesMeritRating9thGrade"] = list(merit)
    body["ratioOfPupilsIn9thGradeWithAllSubjectsPassed"] = list(passed)
    body["ratioOfPupils9thGradeEligibleForNationalProgramYR"] = list(yr)
    return body


def _record(directory: Path, url: str, body: dict, accept: str = s.ACCEPT, status="OK") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{len(list(directory.glob('*.json'))):04d}.json"
    payload = {"status": status, "message": "Success", "body": body}
    rec = {
        "generatedAt": "2026-04-21T10:00:00Z",
        "url": url,
        "acceptHeader": accept,
        "json": payload,
    }
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    return path


LISTING = (
    s.API_BASE + "school-units?page=0&size=50&geographicalAreaCode=0180&typeOfSchooling=gr"
    "&schoolYears=9&coordinateSystemType=WGS84"
)


def _unit(code, name, kommun, lat="59.33", lon="18.05"):
    return {
        "code": code,
        "name": name,
        "geographicalAreaCode": kommun,
        "wgs84_Lat": lat,
        "wgs84_Long": lon,
    }


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    d = tmp_path / "rec"
    listed = [
        {"code": "11111111", "name": "Ekskolan", "geographicalAreaCode": STH},
        # listed under 0180 but its own record says otherwise: the record decides
        {"code": "22222222", "name": "Grannskolan", "geographicalAreaCode": STH},
        {"code": "33333333", "name": "Nya skolan", "geographicalAreaCode": STH},
    ]
    _record(
        d,
        LISTING,
        {
            "_embedded": {"listedSchoolUnits": listed},
            "page": {"size": 50, "totalElements": 3, "totalPages": 1, "number": 0},
        },
    )
    _record(d, s.API_BASE + "school-units/11111111", _unit("11111111", "Ekskolan", STH))
    _record(d, s.API_BASE + "school-units/22222222", _unit("22222222", "Grannskolan", OTHER))
    _record(d, s.API_BASE + "school-units/33333333", _unit("33333333", "Nya skolan", STH))
    _record(
        d,
        s.API_BASE + "school-units/11111111/statistics/gr",
        _stats(
            "11111111",
            merit=[
                _entry("248,9", "EXISTS", "2024/25"),
                _entry("..", "OMITTED_DUE_TO_BASED_ON_FEW_PUPILS", "2023/24"),
                _entry(".", "MISSING", "2022/23"),
                _entry(None, "MISSING", None),
            ],
            passed=[_entry("84,6", "EXISTS", "2024/25"), _entry("90", "EXISTS", "2020/21")],
            yr=[
                _entry("~100", "ROUNDED_OFF_DUE_TO_FEW_PUPILS_NOT_ELIGIBLE", "2024/25"),
                _entry("94,9", "EXISTS", "2023/24"),
            ],
        ),
    )
    _record(
        d,
        s.API_BASE + "school-units/22222222/statistics/gr",
        _stats("22222222", merit=[_entry("200,0", "EXISTS", "2024/25")]),
    )
    # 33333333 has no statistics recording: a new school, answered 404 live
    return d


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "year"),
    [("2024/25", 2025), ("2020/21", 2021), ("1999/00", 2000), ("2012/2013", 2013)],
)
def test_school_year_is_the_spring_year(period, year):
    assert s.school_year_to_year(period) == year


@pytest.mark.parametrize("period", ["2024", "2024/26", "2024-25", "", None, "24/25"])
def test_bad_school_year_raises(period):
    with pytest.raises(s.SchoolDataError, match=r"school year|consecutive"):
        s.school_year_to_year(period)


def test_cells():
    assert s.parse_cell("248,9") == (248.9, False)
    assert s.parse_cell("302") == (302.0, False)
    assert s.parse_cell("~100") == (100.0, True)
    for missing in ("..", ".", "", None):
        assert s.parse_cell(missing) == (None, False)
    with pytest.raises(ValueError):
        s.parse_cell("cirka 40")


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=9))
def test_swedish_decimal_comma_roundtrip(whole, tenth):
    assert s.parse_number(f"{whole},{tenth}") == pytest.approx(whole + tenth / 10)


# --- statistics parser ----------------------------------------------------------------------


def test_statistics_parser_keeps_values_rounding_and_skips_missing():
    body = _stats(
        "11111111",
        merit=[
            _entry("248,9", "EXISTS", "2024/25"),
            _entry("..", "OMITTED_DUE_TO_BASED_ON_FEW_PUPILS", "2023/24"),
            _entry(".", "MISSING", "2022/23"),
        ],
        yr=[_entry("~100", "ROUNDED_OFF_DUE_TO_FEW_PUPILS_NOT_ELIGIBLE", "2024/25")],
    )
    recs = pd.DataFrame(s.parse_statistics(body, "11111111"))
    assert len(recs) == 2
    merit = recs[recs["variable"] == "merit_value"].iloc[0]
    assert (merit["year"], merit["value"], merit["rounded"]) == (2025, 248.9, False)
    yr = recs[recs["variable"] == "eligible_upper_secondary_share"].iloc[0]
    assert (yr["year"], yr["value"], yr["rounded"]) == (2025, 100.0, True)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry("12", "SOMETHING_NEW", "2024/25"), "unknown valueType"),
        (_entry("..", "EXISTS", "2024/25"), "without a value"),
        (_entry("~100", "EXISTS", "2024/25"), "does not match valueType"),
        (_entry("251", "OMITTED_DUE_TO_BASED_ON_FEW_PUPILS", "2024/25"), "OMITTED"),
        (_entry("abc", "EXISTS", "2024/25"), "not a number"),
        (_entry("400", "EXISTS", "2024/25"), "outside"),
        (_entry("250", "EXISTS", "2024"), "school year"),
    ],
)
def test_statistics_parser_rejects_the_unexpected(entry, message):
    body = _stats("11111111", merit=[entry])
    with pytest.raises(s.SchoolDataError, match=message) as err:
        s.parse_statistics(body, "11111111")
    assert "11111111" in str(err.value)


def test_statistics_without_a_series_raises():
    body = _stats("11111111")
    del body["ratioOfPupils9thGradeEligibleForNationalProgramYR"]
    with pytest.raises(s.SchoolDataError, match="EligibleForNationalProgramYR"):
        s.parse_statistics(body, "11111111")


# --- recorded client and crawl --------------------------------------------------------------


def test_recorded_client_matches_url_in_any_parameter_order(recordings):
    client = s.PlannedEducationsClient(recordings)
    a = client.get(LISTING.removeprefix(s.API_BASE))
    b = client.get(
        "school-units",
        {
            "coordinateSystemType": "WGS84",
            "schoolYears": 9,
            "typeOfSchooling": "gr",
            "geographicalAreaCode": "0180",
            "size": 50,
            "page": 0,
        },
    )
    assert a == b and a["page"]["totalElements"] == 3
    with pytest.raises(s.PlannedEducationsNotFound, match="no recorded response"):
        client.get("school-units/33333333/statistics/gr")


def test_recordings_with_wrong_accept_or_conflicts_raise(tmp_path):
    d = tmp_path / "a"
    _record(d, s.API_BASE + "school-units/1", {"code": "1"}, accept="application/json")
    with pytest.raises(s.PlannedEducationsError, match="Accept"):
        s.PlannedEducationsClient(d)
    d = tmp_path / "b"
    _record(d, s.API_BASE + "school-units/1", {"code": "1"})
    _record(d, s.API_BASE + "school-units/1", {"code": "2"})
    with pytest.raises(s.PlannedEducationsError, match="two different recordings"):
        s.PlannedEducationsClient(d)
    d = tmp_path / "c"
    _record(d, s.API_BASE + "school-units/1", {"code": "1"}, status="ERROR")
    with pytest.raises(s.PlannedEducationsError, match="status 'ERROR'"):
        s.PlannedEducationsClient(d).get("school-units/1")


def test_crawl_keeps_stockholm_units_and_never_stores_missing_as_zero(recordings):
    crawled = s.crawl(s.PlannedEducationsClient(recordings))
    assert list(crawled.units["code"]) == ["11111111", "22222222", "33333333"]
    assert crawled.without_statistics == ["33333333"]
    obs = s._observations(s.api_results(crawled), s.SOURCE_API)
    validate(obs, s.SOURCE_API)
    assert set(obs["code"]) == {"11111111"}  # 22222222 lies in another kommun
    assert set(obs["division"]) == {"school"}
    assert (obs["value"] != 0).all()
    got = {(r.variable, r.year): r.value for r in obs.itertuples()}
    assert got == {
        ("merit_value", 2025): 248.9,
        ("passed_all_subjects_share", 2025): 84.6,
        ("passed_all_subjects_share", 2021): 90.0,
        ("eligible_upper_secondary_share", 2025): 100.0,
        ("eligible_upper_secondary_share_rounded", 2025): 1.0,
        ("eligible_upper_secondary_share", 2024): 94.9,
    }


def test_listing_count_mismatch_raises(tmp_path):
    d = tmp_path / "rec"
    _record(
        d,
        LISTING,
        {
            "_embedded": {"listedSchoolUnits": []},
            "page": {"size": 50, "totalElements": 3, "totalPages": 1, "number": 0},
        },
    )
    with pytest.raises(s.SchoolDataError, match="listed 0 units"):
        s.list_school_units(s.PlannedEducationsClient(d))


# --- live client against a local server -----------------------------------------------------


class _Server:
    """Serves recorded responses on 127.0.0.1 and remembers the Accept headers it was sent."""

    def __init__(self, recording_files: list[Path]):
        index = {}
        for f in recording_files:
            url, _, payload = s.read_recording(f)
            index[s.request_key(url)] = payload
        self.accepts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.accepts.append(self.headers.get("Accept", ""))
                payload = index.get(s.request_key(self.path))
                data = json.dumps(payload or {"status": "NOT_FOUND"}).encode()
                self.send_response(200 if payload is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/planned-educations/v4/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_live_client_reads_a_local_server_like_the_recordings(recordings):
    files = sorted(recordings.glob("*.json"))
    recorded = s.PlannedEducationsClient(recordings)
    with _Server(files) as server:
        live = s.PlannedEducationsClient(base_url=server.base_url, timeout=5)
        assert live.live and not recorded.live
        path = "school-units/11111111/statistics/gr"
        assert live.get(path) == recorded.get(path)
        assert server.accepts[-1] == s.ACCEPT
        with pytest.raises(s.PlannedEducationsNotFound, match="404"):
            live.get("school-units/33333333/statistics/gr")
        # the whole crawl gives the same result live and recorded
        a, b = s.crawl(live), s.crawl(recorded)
    pd.testing.assert_frame_equal(a.units, b.units)
    assert a.statistics == b.statistics and a.without_statistics == b.without_statistics


def test_live_client_names_the_url_when_unreachable():
    client = s.PlannedEducationsClient(
        base_url="http://127.0.0.1:9/planned-educations/v4/", timeout=2
    )
    with pytest.raises(s.PlannedEducationsError, match=r"127\.0\.0\.1:9"):
        client.get("school-units/1")


# --- export ---------------------------------------------------------------------------------

EXPORT_HEADER = ";".join(s.EXPORT_COLUMNS)
PREAMBLE = (
    "\ufeffStatistik från Skolverket, https://www.skolverket.se;;;;;;;;;;\n;;;;;;;;;;\n"
    "Grundskola - Slutbetyg årskurs 9, samtliga elever;;;;;;;;;;\nValt läsår: 2024/25;;;;;;;;;;\n"
    ";;;;;;;;;;\n"
)
ROWS = [
    "Ekskolan;11111111;Stockholm;0180;Kommunal;Stockholms kommun;2120000142;136;84,6;~100;248,9",
    "Lillskolan;44444444;Stockholm;0180;Enskild;AB;5565661815;..;..;.;..",
    "Grannskolan;22222222;Järfälla;0123;Kommunal;Järfälla kommun;2120000043;50;90;95,5;250",
]
FOOTER = ";;;;;;;;;;\nRapportbeskrivning och definitioner etc.  ;;;;;;;;;;\n;;;;;;;;;;\n"


def _export(tmp_path: Path, header=EXPORT_HEADER, rows=ROWS, footer=FOOTER) -> Path:
    p = tmp_path / "export.csv"
    p.write_text(PREAMBLE + header + "\n" + "\n".join(rows) + "\n" + footer, encoding="utf-8")
    return p


def test_export_is_read_with_rounding_and_missing(tmp_path):
    df = s.read_grade9_export(_export(tmp_path)).set_index("code")
    assert set(df["year"]) == {2025}
    eks = df.loc["11111111"]
    assert (eks["pupils_grade9"], eks["merit_value"], eks["passed_all_subjects_share"]) == (
        136,
        248.9,
        84.6,
    )
    assert eks["eligible_upper_secondary_share"] == 100
    assert eks["eligible_upper_secondary_share_rounded"]
    assert df.loc["44444444", ["pupils_grade9", "merit_value"]].isna().all()
    obs = s.export_observations(df.reset_index())
    assert list(zip(obs["code"], obs["variable"], obs["value"], strict=True)) == [
        ("11111111", "pupils_grade9", 136.0)
    ]


def test_export_with_a_renamed_column_raises(tmp_path):
    header = EXPORT_HEADER.replace("Antal elever", "Antal elever totalt")
    with pytest.raises(s.SchoolDataError, match=r"export.csv: line 6.*Antal elever totalt"):
        s.read_grade9_export(_export(tmp_path, header=header))


def test_export_with_a_non_numeric_value_names_line_and_column(tmp_path):
    rows = [ROWS[0].replace("248,9", "248,9x"), *ROWS[1:]]
    with pytest.raises(s.SchoolDataError, match=r"line 7, column 'Genomsnittligt meritvärde"):
        s.read_grade9_export(_export(tmp_path, rows=rows))


def test_truncated_export_raises(tmp_path):
    # cut in the middle of a row
    rows = [*ROWS[:2], ROWS[2][:30]]
    with pytest.raises(s.SchoolDataError, match=r"line 9: \d+ fields"):
        s.read_grade9_export(_export(tmp_path, rows=rows, footer=""))
    # cut at a line boundary: the end of the table is missing
    with pytest.raises(s.SchoolDataError, match="cut short"):
        s.read_grade9_export(_export(tmp_path, footer=""))


# --- register -------------------------------------------------------------------------------


def _register(tmp_path: Path, header=None, pupils=(12, 0, 30)) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Grundskola"
    ws.append(header or ["KOMMUN", "SKOLENHETSKOD", "NAMN", "ÅR9", "ELEVER ÅR9"])
    ws.append(["0180", "11111111", "Ekskolan", "J", pupils[0]])
    ws.append(["0180", "55555555", "Småskolan", "N", pupils[1]])
    ws.append(["0123", "22222222", "Grannskolan", "J", pupils[2]])
    p = tmp_path / "register.xlsx"
    wb.save(p)
    return p


def test_register_gives_enrolled_year9_pupils_of_stockholm(tmp_path):
    obs = s.register_observations(s.read_register(_register(tmp_path)))
    assert list(zip(obs["code"], obs["year"], obs["variable"], obs["value"], strict=True)) == [
        ("11111111", 2020, "pupils_grade9_enrolled", 12.0)
    ]


def test_register_errors_name_sheet_row_and_column(tmp_path):
    with pytest.raises(s.SchoolDataError, match=r"lacks columns \['ELEVER ÅR9'\]"):
        s.read_register(_register(tmp_path, header=["KOMMUN", "SKOLENHETSKOD", "NAMN", "ÅR9", "X"]))
    with pytest.raises(s.SchoolDataError, match=r"row 2, column 'ELEVER ÅR9': 'tolv'"):
        s.read_register(_register(tmp_path, pupils=("tolv", 0, 1)))


# --- the mirror -----------------------------------------------------------------------------

# `registry` is the shared fixture of tests/conftest.py (skips without the mirror).


@pytest.mark.mirror
def test_mirror_observations(registry):
    obs = s.load(registry)
    validate(obs)
    assert set(obs["division"]) == {"school"} and set(obs["sex"]) == {"total"}
    results = obs[obs["variable"].isin(s.RESULT_VARIABLES)]
    assert set(results["source_id"]) == {s.SOURCE_API}
    assert sorted(results["year"].unique()) == [2021, 2022, 2023, 2024, 2025]
    assert results["code"].str.fullmatch(r"\d{8}").all()
    assert (obs.loc[obs["variable"] == "passed_all_subjects_share", "value"] > 0).all()
    # only Stockholm's schools: every code is a 0180 unit of the API (or of the export/register)
    crawled = s.crawl_recorded(registry)
    assert set(crawled.units["kommun"]) == {"0180"}
    assert set(results["code"]) <= set(crawled.units["code"])
    pupils = obs[obs["variable"] == "pupils_grade9"]
    assert pupils["value"].sum() == 11291  # the MANIFEST's count for Stockholm
    assert set(pupils["year"]) == {2025}
    # every 2025 school with a merit value has its pupil count (the build's weights)
    merit25 = set(results[(results["variable"] == "merit_value") & (results["year"] == 2025)].code)
    assert merit25 <= set(pupils["code"])
    rounded = obs[obs["variable"].str.endswith(s.ROUNDED_SUFFIX)]
    assert set(rounded["variable"]) == {"eligible_upper_secondary_share_rounded"}
    flagged = results.merge(rounded[["code", "year"]], on=["code", "year"])
    assert (
        flagged.loc[flagged["variable"] == "eligible_upper_secondary_share", "value"] == 100
    ).all()


@pytest.mark.mirror
def test_mirror_api_agrees_with_the_export(registry):
    cmp = s.compare_api_with_export(registry)
    both = cmp[cmp["status"].isin(["equal", "differ"])]
    assert len(both) > 350
    assert (both["status"] == "equal").all(), both[both["status"] == "differ"]
    # the API never has a value the export suppressed; export-only rows are schools the API lacks
    assert not (cmp["status"] == "only_api").any()
    assert not cmp.loc[cmp["status"] == "only_export", "in_api"].any()


@pytest.mark.mirror
def test_mirror_school_points(registry):
    pts = s.load_school_points(registry)
    assert list(pts.columns) == ["code", "name", "lon", "lat"]
    assert pts["code"].is_unique and len(pts) >= 130
    assert pts["lat"].between(59.2, 59.45).all() and pts["lon"].between(17.75, 18.25).all()


@pytest.mark.mirror
def test_mirror_live_client_against_a_local_server(registry):
    files = registry.files(s.SOURCE_API)
    recorded = s.PlannedEducationsClient(files)
    url, _, _ = s.read_recording(next(f for f in files if "statistics" in s.read_recording(f)[0]))
    path = s.request_key(url)[0]
    with _Server(files) as server:
        live = s.PlannedEducationsClient(base_url=server.base_url, timeout=5)
        assert live.get(path) == recorded.get(path)
        assert server.accepts == [s.ACCEPT]
