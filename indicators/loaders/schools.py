"""Year-9 results per school from Skolverket, for the schools located in Stockholm municipality.

The values describe the schools located in a district, not the pupils living there: a district's
school results mix pupils who live elsewhere and leave out its residents who attend school
outside it. Every chart built on them has to say so.

Sources (data/sources.yaml):
- skolverket_planned_educations_v4: Skolverket's Planned Educations API v4, as recorded HTTP
  responses ({generatedAt, url, acceptHeader, json}). The loader crawls it exactly as a live
  client would: the list of school units in kommun 0180 with year 9, each unit's record
  (coordinates, kommun) and its statistics for compulsory school (`.../statistics/gr`).
  `PlannedEducationsClient` answers each request from the recordings, or from the live API when
  it has none; both paths go through the same parser (`parse_response`).
- skolverket_grade9_results_2025: Skolverket's export of final grades in year 9, 2024/25, per
  school, with the number of pupils who finished year 9. Gives `pupils_grade9` and is the
  cross-check of the API's 2024/25 values (`compare_api_with_export`).
- skolverket_school_register_2020: the school register of about 2020-06-01 (pupils enrolled per
  grade, school year 2019/20). Gives `pupils_grade9_enrolled` for 2020.

Observations (division 'school', code = skolenhetskod, sex 'total', year = the spring year of
the school year: 2024/25 -> 2025):
- merit_value: mean merit rating of the year-9 pupils (17 subjects, max 340).
- passed_all_subjects_share: percent of year-9 pupils who met the knowledge requirements
  (at least E) in all subjects.
- eligible_upper_secondary_share: percent of year-9 pupils eligible for the upper-secondary
  *vocational* programmes (yrkesprogram; the API's `...EligibleForNationalProgramYR`). The
  higher-education-preparatory programmes (ES, SAEKHU, NATE) have stricter requirements and
  are not loaded.
- pupils_grade9: number of pupils who finished year 9 (with or without passing grades), from
  the 2024/25 export; the API publishes no such count, so earlier years have none.
- pupils_grade9_enrolled: pupils enrolled in year 9 in the 2020 register (year 2020 = the
  school year 2019/20); a stand-in weight for early years, not a count of final grades.
- <variable>_rounded: 1.0 where Skolverket published '~100' for <variable>.

Missing and rounded values, as Skolverket marks them:
- '..' (OMITTED_DUE_TO_BASED_ON_FEW_PUPILS): suppressed, fewer than 10 pupils; left out.
- '.' or null (MISSING): no value; left out. Neither is ever stored as zero.
- '~100' (ROUNDED_OFF_DUE_TO_FEW_PUPILS_NOT_ELIGIBLE): 1-4 pupils were *not* eligible/passing,
  so the exact share would reveal them. The value is kept as 100.0 (an upper bound: the true
  share is 100 * (n - k) / n for k in 1..4) and marked by an extra observation
  `<variable>_rounded` = 1.0 for the same school and year.

`load_school_points` gives the WGS84 coordinates of Stockholm's schools that have results; the
geo layer joins them to districts by point in polygon (schools located in the district, not
pupils living there).
"""

from __future__ import annotations

import csv
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from data.registry import Registry
from indicators.observations import validate

SOURCE_API = "skolverket_planned_educations_v4"
SOURCE_EXPORT = "skolverket_grade9_results_2025"
SOURCE_REGISTER = "skolverket_school_register_2020"

API_BASE = "https://api.skolverket.se/planned-educations/v4/"
API_PREFIX = "/planned-educations/v4/"
ACCEPT = "application/vnd.skolverket.plannededucations.api.v4.hal+json"
STOCKHOLM = "0180"
PAGE_SIZE = 50
ROUNDED_SUFFIX = "_rounded"
# The register is a snapshot of about 2020-06-01: its pupils are those of the school year 2019/20.
REGISTER_YEAR = 2020

# API statistics field -> observation variable
API_VARIABLES: dict[str, str] = {
    "averageGradesMeritRating9thGrade": "merit_value",
    "ratioOfPupilsIn9thGradeWithAllSubjectsPassed": "passed_all_subjects_share",
    "ratioOfPupils9thGradeEligibleForNationalProgramYR": "eligible_upper_secondary_share",
}
RESULT_VARIABLES = tuple(API_VARIABLES.values())
# Plausible ranges: a value outside them is a parsing error, not data.
VALUE_RANGE: dict[str, tuple[float, float]] = {
    "merit_value": (0.0, 340.0),
    "passed_all_subjects_share": (0.0, 100.0),
    "eligible_upper_secondary_share": (0.0, 100.0),
    "pupils_grade9": (0.0, 5000.0),
}

VALUE_EXISTS = "EXISTS"
VALUE_ROUNDED = "ROUNDED_OFF_DUE_TO_FEW_PUPILS_NOT_ELIGIBLE"
VALUE_SUPPRESSED = "OMITTED_DUE_TO_BASED_ON_FEW_PUPILS"
VALUE_MISSING = "MISSING"

# The export's header line, column -> variable (None: identification columns).
EXPORT_COLUMNS: dict[str, str | None] = {
    "Skola": None,
    "Skol-enhetskod": None,
    "Skolkommun": None,
    "Kommun-kod": None,
    "Typ av huvudman": None,
    "Huvudman": None,
    "Huvudman orgnr": None,
    "Antal elever": "pupils_grade9",
    "Andel (%) elever som uppfyllt betygskriterierna i alla ämnen": "passed_all_subjects_share",
    "Andel (%) elever behöriga till yrkesprog.": "eligible_upper_secondary_share",
    "Genomsnittligt meritvärde (17 ämnen)": "merit_value",
}
REGISTER_SHEET = "Grundskola"
REGISTER_COLUMNS = ("KOMMUN", "SKOLENHETSKOD", "NAMN", "ÅR9", "ELEVER ÅR9")

# Stockholms län, generously: a school coordinate outside this box is an error in the data.
LAT_RANGE = (58.6, 60.3)
LON_RANGE = (17.2, 19.5)


class SchoolDataError(ValueError):
    """A Skolverket file or response that does not look as expected; the message says where."""


class PlannedEducationsError(RuntimeError):
    """The API (or its recordings) did not answer a request with a usable response."""


class PlannedEducationsNotFound(PlannedEducationsError):
    """No response for this request: HTTP 404 live, or no recording of it."""


# --- values ---------------------------------------------------------------------------------


def school_year_to_year(period: str) -> int:
    """'2024/25' -> 2025, the spring term's calendar year; raises on anything else."""
    m = re.fullmatch(r"(\d{4})/(\d{2}|\d{4})", str(period).strip())
    if not m:
        raise SchoolDataError(f"time period {period!r} is not a school year like '2024/25'")
    start, end = int(m.group(1)), m.group(2)
    spring = start + 1
    if (len(end) == 2 and int(end) != spring % 100) or (len(end) == 4 and int(end) != spring):
        raise SchoolDataError(f"time period {period!r} does not span two consecutive years")
    return spring


def parse_number(text: str) -> float:
    """Swedish-formatted number ('248,9', '302', '1 234') -> float; raises ValueError."""
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise ValueError(f"not a number: {text!r}")
    return float(cleaned)


def parse_cell(text: str | None) -> tuple[float | None, bool]:
    """A Skolverket cell -> (value, rounded). '..', '.', '' and None -> (None, False)."""
    if text is None:
        return None, False
    t = str(text).strip()
    if t in ("", ".", ".."):
        return None, False
    if t == "~100":
        return 100.0, True
    return parse_number(t), False


def _check_range(variable: str, value: float, where: str) -> None:
    lo, hi = VALUE_RANGE.get(variable, (float("-inf"), float("inf")))
    if not lo <= value <= hi:
        raise SchoolDataError(f"{where}: {variable} = {value} is outside [{lo}, {hi}]")


# --- the API client -------------------------------------------------------------------------


def parse_response(payload: Any, url: str) -> dict:
    """The body of one API response ({status, message, body}); raises naming the URL."""
    if not isinstance(payload, dict) or "body" not in payload:
        raise PlannedEducationsError(f"{url}: response has no 'body'")
    status = payload.get("status")
    if status != "OK":
        message = payload.get("message")
        raise PlannedEducationsError(f"{url}: status {status!r}, message {message!r}")
    body = payload["body"]
    if not isinstance(body, dict):
        raise PlannedEducationsError(f"{url}: body is {type(body).__name__}, not an object")
    return body


def request_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(path below /planned-educations/v4/, sorted query) of a request; base and order ignored."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path
    if API_PREFIX in path:
        path = path.split(API_PREFIX, 1)[1]
    path = path.strip("/")
    query = tuple(sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))
    return path, query


def read_recording(path: Path) -> tuple[str, str, Any]:
    """(url, acceptHeader, json) of one recorded response file."""
    try:
        rec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PlannedEducationsError(f"{path}: not a readable recording ({exc})") from exc
    if not isinstance(rec, dict):
        raise PlannedEducationsError(f"{path}: recording is not a JSON object")
    missing = [k for k in ("url", "acceptHeader", "json") if k not in rec]
    if missing:
        raise PlannedEducationsError(f"{path}: recording lacks {missing}")
    return rec["url"], rec["acceptHeader"], rec["json"]


class PlannedEducationsClient:
    """GET requests to the Planned Educations API v4, answered from recordings or live.

    With `recordings` (a directory of recorded responses, or a list of their files) every
    request is answered by the recording of the same URL (path and query; the order of query
    parameters does not matter) and never leaves the machine; a request without a recording
    raises PlannedEducationsNotFound. Without recordings it calls `base_url` with the v4 Accept
    header (urllib, `timeout` seconds). Both return `parse_response` of the JSON.
    """

    def __init__(
        self,
        recordings: Path | str | Sequence[Path] | None = None,
        *,
        base_url: str = API_BASE,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._recorded: dict[tuple, tuple[Path, Any]] | None = None
        if recordings is not None:
            if isinstance(recordings, (str, Path)):
                root = Path(recordings)
                if not root.is_dir():
                    raise PlannedEducationsError(f"recordings directory {root} does not exist")
                files: Iterable[Path] = sorted(root.glob("*.json"))
            else:
                files = [Path(p) for p in recordings]
            self._recorded = self._index(files)

    @property
    def live(self) -> bool:
        return self._recorded is None

    @staticmethod
    def _index(files: Iterable[Path]) -> dict[tuple, tuple[Path, Any]]:
        out: dict[tuple, tuple[Path, Any]] = {}
        for f in files:
            url, accept, payload = read_recording(f)
            if accept != ACCEPT:
                raise PlannedEducationsError(
                    f"{f}: recorded with Accept {accept!r}, not {ACCEPT!r}"
                )
            key = request_key(url)
            if key in out and out[key][1] != payload:
                raise PlannedEducationsError(
                    f"two different recordings of {url}: {out[key][0].name} and {f.name}"
                )
            out[key] = (f, payload)
        return out

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = self.base_url + path.lstrip("/")
        if params:
            sep = "&" if "?" in url else "?"
            url += sep + urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        return url

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        """The body of GET base_url/path?params."""
        url = self.url(path, params)
        if self._recorded is not None:
            hit = self._recorded.get(request_key(url))
            if hit is None:
                raise PlannedEducationsNotFound(f"no recorded response for {url}")
            return parse_response(hit[1], f"{url} (recording {hit[0].name})")
        request = urllib.request.Request(url, headers={"Accept": ACCEPT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise PlannedEducationsNotFound(f"{url}: HTTP 404") from exc
            raise PlannedEducationsError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PlannedEducationsError(f"{url}: {exc}") from exc
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PlannedEducationsError(f"{url}: response is not JSON ({exc})") from exc
        return parse_response(payload, url)

    @classmethod
    def from_registry(cls, registry: Registry) -> PlannedEducationsClient:
        """A client answering from the registered (sha256-verified) recordings."""
        return cls(registry.files(SOURCE_API))


# --- crawling the API -----------------------------------------------------------------------


@dataclass
class Crawl:
    """What the API says about one municipality's schools with year 9."""

    units: pd.DataFrame  # code, name, kommun, lat, lon
    statistics: dict[str, dict] = field(default_factory=dict)  # code -> statistics body
    without_statistics: list[str] = field(default_factory=list)  # codes answered 404


def list_school_units(client: PlannedEducationsClient, municipality: str = STOCKHOLM) -> list[dict]:
    """All listed school units of `municipality` with grundskola year 9 (every page)."""
    units: list[dict] = []
    page, total_pages, total = 0, None, None
    while total_pages is None or page < total_pages:
        params = {
            "page": page,
            "size": PAGE_SIZE,
            "geographicalAreaCode": municipality,
            "typeOfSchooling": "gr",
            "schoolYears": 9,
            "coordinateSystemType": "WGS84",
        }
        body = client.get("school-units", params)
        try:
            info = body["page"]
            total_pages, total = int(info["totalPages"]), int(info["totalElements"])
            items = body.get("_embedded", {}).get("listedSchoolUnits", [])
        except (KeyError, TypeError, ValueError) as exc:
            raise SchoolDataError(f"school-units page {page}: unexpected layout ({exc})") from exc
        units.extend(items)
        page += 1
    if total is not None and len(units) != total:
        raise SchoolDataError(f"school-units listed {len(units)} units, the API said {total}")
    return units


def _coordinate(body: dict, key: str, code: str) -> float | None:
    text = body.get(key)
    if text in (None, "", "0"):
        return None
    try:
        return float(text)
    except (TypeError, ValueError) as exc:
        raise SchoolDataError(f"school unit {code}: {key} = {text!r} is not a number") from exc


def crawl(client: PlannedEducationsClient, municipality: str = STOCKHOLM) -> Crawl:
    """List the municipality's units, then fetch each unit's record and statistics."""
    rows, stats, without = [], {}, []
    seen: set[str] = set()
    for item in list_school_units(client, municipality):
        code = str(item.get("code", ""))
        if not re.fullmatch(r"\d{8}", code):
            raise SchoolDataError(f"listed school unit with code {code!r}")
        if code in seen:
            continue
        seen.add(code)
        unit = client.get(f"school-units/{code}")
        if str(unit.get("code")) != code:
            raise SchoolDataError(f"school-units/{code} answered for unit {unit.get('code')!r}")
        lat = _coordinate(unit, "wgs84_Lat", code)
        lon = _coordinate(unit, "wgs84_Long", code)
        if (
            lat is not None
            and lon is not None
            and not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1])
        ):
            raise SchoolDataError(f"school unit {code}: coordinate {lat}, {lon} is outside the län")
        rows.append(
            {
                "code": code,
                "name": str(unit.get("name") or item.get("name") or ""),
                # the unit's own record decides; the listing's filter is only a first cut
                "kommun": str(unit.get("geographicalAreaCode") or item.get("geographicalAreaCode")),
                "lat": lat,
                "lon": lon,
            }
        )
        try:
            body = client.get(f"school-units/{code}/statistics/gr")
        except PlannedEducationsNotFound:
            without.append(code)
            continue
        if str(body.get("schoolUnit")) != code:
            raise SchoolDataError(
                f"school-units/{code}/statistics/gr answered for unit {body.get('schoolUnit')!r}"
            )
        stats[code] = body
    units = pd.DataFrame(rows, columns=["code", "name", "kommun", "lat", "lon"])
    return Crawl(units=units, statistics=stats, without_statistics=without)


def parse_statistics(body: dict, code: str) -> list[dict]:
    """Year-9 results of one unit's statistics body: dicts of variable, year, value, rounded."""
    out = []
    for key, variable in API_VARIABLES.items():
        series = body.get(key)
        if series is None:
            raise SchoolDataError(f"school unit {code}: statistics lack {key}")
        for entry in series:
            where = f"school unit {code}, {key}, {entry.get('timePeriod')}"
            kind, text = entry.get("valueType"), entry.get("value")
            if kind in (VALUE_SUPPRESSED, VALUE_MISSING):
                if text not in (None, ".", ".."):
                    raise SchoolDataError(f"{where}: {kind} with value {text!r}")
                continue
            if kind not in (VALUE_EXISTS, VALUE_ROUNDED):
                raise SchoolDataError(f"{where}: unknown valueType {kind!r} (value {text!r})")
            try:
                value, rounded = parse_cell(text)
            except ValueError as exc:
                raise SchoolDataError(f"{where}: {exc}") from exc
            if value is None:
                raise SchoolDataError(f"{where}: {kind} without a value ({text!r})")
            if rounded != (kind == VALUE_ROUNDED):
                raise SchoolDataError(f"{where}: value {text!r} does not match valueType {kind}")
            _check_range(variable, value, where)
            try:
                year = school_year_to_year(entry.get("timePeriod"))
            except SchoolDataError as exc:
                raise SchoolDataError(f"{where}: {exc}") from None
            out.append(
                {
                    "variable": variable,
                    "year": year,
                    "value": value,
                    "rounded": rounded,
                }
            )
    return out


def _observations(records: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """Long records (code, year, variable, value, rounded) -> observations with flag rows."""
    if records.empty:
        return validate(
            pd.DataFrame(
                columns=[
                    "source_id",
                    "division",
                    "code",
                    "year",
                    "sex",
                    "variable",
                    "value",
                    "citation",
                ]
            ),
            source_id,
        )
    flags = records[records["rounded"]].assign(
        variable=lambda d: d["variable"] + ROUNDED_SUFFIX, value=1.0
    )
    both = pd.concat([records, flags], ignore_index=True)
    obs = both.assign(source_id=source_id, division="school", sex="total", citation="")
    return validate(obs, source_id)


def api_results(crawled: Crawl) -> pd.DataFrame:
    """Long results of the municipality's units: code, year, variable, value, rounded."""
    records = []
    kommun = crawled.units.set_index("code")["kommun"]
    for code, body in crawled.statistics.items():
        if kommun.get(code) != STOCKHOLM:
            continue
        for r in parse_statistics(body, code):
            records.append({"code": code, **r})
    return pd.DataFrame(records, columns=["code", "year", "variable", "value", "rounded"])


# --- the 2024/25 export ---------------------------------------------------------------------


def read_grade9_export(path: Path) -> pd.DataFrame:
    """Skolverket's export (national), one row per school.

    Columns: code, name, kommun, kommun_name, year, and per variable its value (NaN when
    suppressed or missing) and `<variable>_rounded` (bool). Raises SchoolDataError naming the
    file, line and column of anything unexpected, including a file cut short.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchoolDataError(f"{path.name}: cannot read ({exc})") from exc
    lines = list(csv.reader(text.splitlines(), delimiter=";"))
    header_at = next((i for i, r in enumerate(lines) if r and r[0] == "Skola"), None)
    if header_at is None:
        raise SchoolDataError(f"{path.name}: no header line starting with 'Skola'")
    header = [h.strip() for h in lines[header_at]]
    expected = list(EXPORT_COLUMNS)
    if header != expected:
        diff = [
            f"column {i + 1}: {got!r} (expected {want!r})"
            for i, (got, want) in enumerate(zip(header, expected, strict=False))
            if got != want
        ]
        if len(header) != len(expected):
            diff.append(f"{len(header)} columns, expected {len(expected)}")
        raise SchoolDataError(f"{path.name}: line {header_at + 1}: unexpected header: {diff}")
    year = None
    for r in lines[:header_at]:
        m = re.match(r"Valt läsår:\s*(\S+)", r[0]) if r else None
        if m:
            year = school_year_to_year(m.group(1))
    if year is None:
        raise SchoolDataError(f"{path.name}: no 'Valt läsår:' line before the header")
    rows, end = [], None
    for i in range(header_at + 1, len(lines)):
        r = lines[i]
        if not any(c.strip() for c in r):
            end = i
            break
        line = i + 1
        if len(r) != len(expected):
            raise SchoolDataError(
                f"{path.name}: line {line}: {len(r)} fields, expected {len(expected)}"
            )
        code, kommun = r[1].strip(), r[3].strip()
        if not re.fullmatch(r"\d{8}", code):
            raise SchoolDataError(f"{path.name}: line {line}, column 'Skol-enhetskod': {code!r}")
        if not re.fullmatch(r"\d{4}", kommun):
            raise SchoolDataError(f"{path.name}: line {line}, column 'Kommun-kod': {kommun!r}")
        row: dict[str, Any] = {
            "code": code,
            "name": r[0].strip(),
            "kommun": kommun,
            "kommun_name": r[2].strip(),
            "year": year,
            "line": line,
        }
        for col, variable in EXPORT_COLUMNS.items():
            if variable is None:
                continue
            cell = r[expected.index(col)]
            try:
                value, rounded = parse_cell(cell)
            except ValueError:
                raise SchoolDataError(
                    f"{path.name}: line {line}, column {col!r}: {cell!r} is not a number"
                ) from None
            if rounded and variable == "pupils_grade9":
                raise SchoolDataError(f"{path.name}: line {line}, column {col!r}: {cell!r}")
            if value is not None:
                _check_range(variable, value, f"{path.name}: line {line}, column {col!r}")
            row[variable] = value
            row[variable + ROUNDED_SUFFIX] = rounded
        rows.append(row)
    if end is None or not any(r and r[0].startswith("Rapportbeskrivning") for r in lines[end:]):
        raise SchoolDataError(
            f"{path.name}: the table does not end with a blank line and the report description "
            f"(file cut short after line {len(lines)}?)"
        )
    if not rows:
        raise SchoolDataError(f"{path.name}: no school rows")
    df = pd.DataFrame(rows)
    dup = df["code"].duplicated(keep=False)
    if dup.any():
        raise SchoolDataError(f"{path.name}: school {df.loc[dup, 'code'].iloc[0]} appears twice")
    return df


def export_observations(export: pd.DataFrame, source_id: str = SOURCE_EXPORT) -> pd.DataFrame:
    """pupils_grade9 of Stockholm's schools from the export (only the count: results come from
    the API, which has every year)."""
    sth = export[(export["kommun"] == STOCKHOLM) & export["pupils_grade9"].notna()]
    records = pd.DataFrame(
        {
            "code": sth["code"],
            "year": sth["year"],
            "variable": "pupils_grade9",
            "value": sth["pupils_grade9"],
            "rounded": False,
        }
    )
    return _observations(records, source_id)


# --- the 2020 register ----------------------------------------------------------------------


def read_register(path: Path) -> pd.DataFrame:
    """Grundskola units of the 2020 register: code, name, kommun, grade9 ('J'/'N'), pupils."""
    import openpyxl

    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged workbook
        raise SchoolDataError(f"{path.name}: cannot open workbook ({exc})") from exc
    try:
        if REGISTER_SHEET not in wb.sheetnames:
            raise SchoolDataError(f"{path.name}: no sheet {REGISTER_SHEET!r} ({wb.sheetnames})")
        it = wb[REGISTER_SHEET].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(it, ())]
        missing = [c for c in REGISTER_COLUMNS if c not in header]
        if missing:
            raise SchoolDataError(f"{path.name}, sheet {REGISTER_SHEET}: lacks columns {missing}")
        idx = {c: header.index(c) for c in REGISTER_COLUMNS}
        rows = []
        for n, r in enumerate(it, start=2):
            if r is None or all(v is None for v in r):
                continue
            pupils = r[idx["ELEVER ÅR9"]]
            try:
                pupils = None if pupils in (None, "") else int(pupils)
            except (TypeError, ValueError):
                raise SchoolDataError(
                    f"{path.name}, sheet {REGISTER_SHEET}, row {n}, column 'ELEVER ÅR9': "
                    f"{pupils!r} is not a number"
                ) from None
            rows.append(
                {
                    "code": str(r[idx["SKOLENHETSKOD"]]).strip(),
                    "name": str(r[idx["NAMN"]] or "").strip(),
                    "kommun": str(r[idx["KOMMUN"]]).strip(),
                    "grade9": str(r[idx["ÅR9"]] or "").strip(),
                    "pupils_grade9_enrolled": pupils,
                }
            )
    finally:
        wb.close()
    return pd.DataFrame(rows)


def register_observations(register: pd.DataFrame) -> pd.DataFrame:
    """pupils_grade9_enrolled (year 2020) of Stockholm's units with pupils in year 9."""
    sth = register[
        (register["kommun"] == STOCKHOLM) & (register["pupils_grade9_enrolled"].fillna(0) > 0)
    ]
    records = pd.DataFrame(
        {
            "code": sth["code"],
            "year": REGISTER_YEAR,
            "variable": "pupils_grade9_enrolled",
            "value": sth["pupils_grade9_enrolled"].astype(float),
            "rounded": False,
        }
    )
    return _observations(records, SOURCE_REGISTER)


# --- entry points ---------------------------------------------------------------------------


def crawl_recorded(registry: Registry) -> Crawl:
    return crawl(PlannedEducationsClient.from_registry(registry))


def load(registry: Registry, client: PlannedEducationsClient | None = None) -> pd.DataFrame:
    """Observations of Stockholm's schools from all three Skolverket sources."""
    crawled = crawl(client or PlannedEducationsClient.from_registry(registry))
    api = _observations(api_results(crawled), SOURCE_API)
    export = export_observations(read_grade9_export(registry.file(SOURCE_EXPORT)))
    register = register_observations(read_register(registry.file(SOURCE_REGISTER)))
    return validate(pd.concat([api, export, register], ignore_index=True))


def load_school_points(
    registry: Registry, client: PlannedEducationsClient | None = None
) -> pd.DataFrame:
    """code, name, lon, lat (WGS84) of Stockholm's schools with at least one year-9 result.

    For the geo layer's point-in-polygon join: the schools located in a district, not the
    pupils living there.
    """
    crawled = crawl(client or PlannedEducationsClient.from_registry(registry))
    with_results = set(api_results(crawled)["code"])
    units = crawled.units
    pts = units[
        (units["kommun"] == STOCKHOLM)
        & units["code"].isin(with_results)
        & units["lat"].notna()
        & units["lon"].notna()
    ]
    return pts[["code", "name", "lon", "lat"]].sort_values("code").reset_index(drop=True)


def compare_api_with_export(registry: Registry, year: int = 2025) -> pd.DataFrame:
    """The API's values for `year` against the export's, per Stockholm school and variable.

    status: 'equal' (same number and same rounding mark), 'differ', 'only_api', 'only_export'
    (the other side suppressed/missing or the school absent), 'both_missing'.
    """
    crawled = crawl_recorded(registry)
    api = api_results(crawled)
    api = api[api["year"] == year]
    export = read_grade9_export(registry.file(SOURCE_EXPORT))
    export = export[(export["kommun"] == STOCKHOLM) & (export["year"] == year)]
    codes = sorted(
        set(crawled.units.loc[crawled.units["kommun"] == STOCKHOLM, "code"]) | set(export["code"])
    )
    in_api = set(crawled.units["code"])
    e = export.set_index("code")
    rows = []
    for variable in RESULT_VARIABLES:
        a = api[api["variable"] == variable].set_index("code")
        for code in codes:
            av = a["value"].get(code)
            ar = bool(a["rounded"].get(code, False))
            ev = e[variable].get(code) if code in e.index else None
            ev = None if ev is None or pd.isna(ev) else float(ev)
            er = bool(e[variable + ROUNDED_SUFFIX].get(code, False)) if code in e.index else False
            if av is None and ev is None:
                status = "both_missing"
            elif av is None:
                status = "only_export"
            elif ev is None:
                status = "only_api"
            else:
                status = "equal" if abs(av - ev) < 1e-9 and ar == er else "differ"
            rows.append(
                {
                    "code": code,
                    "variable": variable,
                    "api": av,
                    "api_rounded": ar,
                    "export": ev,
                    "export_rounded": er,
                    "in_api": code in in_api,
                    "in_export": code in e.index,
                    "status": status,
                }
            )
    return pd.DataFrame(rows)
