"""Valmyndigheten's final election results per valdistrikt for Stockholm (kommunkod 0180).

Seven files, two format families, one parsing core:

| source id          | election        | year | family | file, sheet                              |
|--------------------|-----------------|------|--------|------------------------------------------|
| val_2010_riksdag   | riksdag         | 2010 | skv    | 2010_slutligt_valresultat_valdistrikt_R  |
| val_2014_kommun    | kommun          | 2014 | skv    | 2014_kommunval_per_valdistrikt.csv       |
| val_2018_riksdag   | riksdag         | 2018 | xlsx   | 2018_R_per_valdistrikt.xlsx, 'R antal'   |
| val_2018_region    | region (landsting) | 2018 | xlsx | 2018_L_per_valdistrikt.xlsx, 'L antal'  |
| val_2022_riksdag   | riksdag         | 2022 | xlsx   | ri_tab4_2022.xlsx, 'RI_tab4'             |
| val_2022_region    | region          | 2022 | xlsx   | re_tab3_2022.xlsx, 'RE_tab3'             |
| val_2022_kommun    | kommun          | 2022 | xlsx   | ko_tab3_2022.xlsx, 'KO_tab3'             |

`SPECS` holds one `ElectionSpec` per file (source id, kind, year, family, column names); the two
readers (`_rows_skv`, `_rows_xlsx`) yield raw rows, `read_results` turns them into checked
rows of (code, name, eligible, voters, unassigned), and
everything after that is shared.

What is emitted (observation table, `indicators/observations.py`), per election, sex 'total':

* per district: division `valdistrikt_2010` or `valdistrikt_2022` (the polygon edition the district
  is matched to), code = the 8-digit LKFV code *of that polygon*, variables `eligible_<kind>`
  (röstberättigade) and `voters_<kind>` (röstande: every voter, blank and invalid ballots
  included, which is how Valmyndigheten defines valdeltagande). Turnout = voters / eligible is
  left to the build, so the counts stay exact under aggregation.
* division 'city', code 'stockholm':
  - `voters_<kind>_unassigned` (and `eligible_<kind>_unassigned` if the rows carry any, they do
    not in these files): votes that Valmyndigheten does not assign to a valdistrikt. Each file
    marks them by name and a non-district code: 2010 six 'Onsdagsdistrikt' rows (VALDIST 01-06,
    2 digits), 2014 and 2018 six 'Uppsamlingsdistrikt' rows (district code 1-6), 2022 six rows
    'Förtidsröster ej fördelade efter valdistrikt' (code 0180 98 00, once per valkrets). They
    have 0 eligible voters, so district sums of voters (and district turnout) are below the
    official city figures: about 3-6 % of the city's voters are here.
  - `eligible_<kind>_unmatched` / `voters_<kind>_unmatched`: districts that could not be matched
    to a polygon (see below); always emitted, 0 when everything matched.
  - `eligible_<kind>` / `voters_<kind>`: the whole-file city totals (districts + unassigned +
    unmatched), i.e. the official city figures, for reconciliation. Identity checked on load:
    city total = sum over districts + unmatched + unassigned.

Polygon matching. The mirror has valdistrikt polygons for 2010 (Stockholms län, LKFV/VDNAMN) and
2022 (Lkfv/Vdnamn) only. Each result district is matched to a polygon of a candidate edition:

1. code + name: the same 8-digit code and the same name after normalisation (`names_match`:
   case, whitespace, punctuation; norra/södra/östra/västra -> N/S/Ö/V; a trailing 'mm' / 'mfl'
   (med mera / med flera) is dropped; a repeated 'Hässelby 16 Hässelby 16' prefix is collapsed;
   a name cut at its file's column width (the 2022 files cut Stockholm's names at 32 characters)
   matches the full name it starts; a one-letter typo in a word of six or more letters is
   tolerated, so 'Rågsveds N' = 'Rågsved N', but 'Hökarängen N' is not 'Hökarängen V' and
   'Lappkärrsberget' is not 'Lappkärrsberget V' (a split)). A code match whose name differs is
   *not* a match: Stockholm renamed and redrew many districts in 2014, 2018 and 2022 while
   keeping their numbers ('Kista 6 Husby N' 2014 vs 'Kista 6 Lofotenparken' 2022).
2. renumbered: a district whose number changed but whose parish (code digits 5-6) and place
   name did not ('Kista 13 Kista C' 2018 -> 'Kista 21 Kista C' 2022), when that place occurs
   exactly once in the parish on both sides, the polygon is not taken by a code + name match,
   and the district's share of the city's electorate is within 2/3..3/2 of the polygon's share
   in the edition's own election (`Reference`; else refused and noted). Numbers tie to codes:
   in every file the number in the name equals the code's last two digits.

Which edition: 2010 results -> valdistrikt_2010 and 2022 results -> valdistrikt_2022, their own
editions (every district matches). 2014 and 2018 have no polygons of their own; they are matched
against both editions and the whole election goes to the edition that matches more of its
eligible voters: valdistrikt_2022 for both (2014: 430 of 537 districts vs 244 in 2010; 2018: 510
of 573 vs 226-228). Choosing the edition per district was tried and rejected: the 2010 polygons it
adds for 2014 overlapped polygons already chosen from 2022 (18 of 30 by more than 1 % of their
area, e.g. Skarpnäck 15 2010 = Skarpnäck 15 2022 renamed), i.e. they double-cover ground; one
edition per election cannot. Unmatched districts keep their counts in the city `_unmatched` rows;
`matching_report(registry)` gives per-election counts (districts, matched by how, unmatched,
eligible voters/voters unmatched n and %, size outliers) and `district_matches(registry)` the
per-district table with each match's size ratio (for audit: a code + name match is kept even when
the 2022 polygon is much smaller, e.g. 2018 'Matteus 6 Norra station' whose area 2022 split off
new districts; `size_outliers` counts them).

Errors: a missing/renamed column, a truncated or unreadable file, a short row or a non-numeric
count raise `ElectionFileError` (a `SourceError`) naming the file and the column and row. Each
district's voters/eligible must also agree with the file's own turnout column within 0.1 points,
which catches swapped or shifted columns that still parse as numbers.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from data.registry import Registry, SourceError
from indicators.observations import validate

Kind = Literal["riksdag", "region", "kommun"]
KOMMUN = "0180"
CITY_DIVISION, CITY_CODE = "city", "stockholm"
DIVISIONS = ("valdistrikt_2010", "valdistrikt_2022")


class ElectionFileError(SourceError):
    """An election result or valgeografi file does not have the expected layout or content."""


@dataclass(frozen=True)
class ElectionSpec:
    """How to read one result file. Column names are the file's own header texts."""

    source_id: str
    kind: Kind
    year: int
    family: Literal["skv", "xlsx"]
    file: str  # suffix of the registered path
    code_parts: tuple[tuple[str, int], ...]  # (column, digits): concatenated -> 8-digit code
    name: str
    eligible: str
    voters: str
    turnout: str  # the file's own percentage, used to check that the columns are the right ones
    editions: tuple[str, ...]  # candidate polygon editions, in order of preference on ties
    unassigned: str  # regex (on the district name) of rows not assigned to any district
    sheet: str | None = None  # xlsx
    encoding: str | None = None  # skv
    name_width: int | None = None  # the file cuts names at this many characters


_SKV_CODES = (("LAN", 2), ("KOM", 2), ("VALDIST", 4))
_XLSX18_CODES = (("LÄNSKOD", 2), ("KOMMUNKOD", 2), ("VALDISTRIKTSKOD", 4))
_XLSX18 = dict(
    family="xlsx", code_parts=_XLSX18_CODES, name="VALDISTRIKTSNAMN",
    eligible="RÖSTBERÄTTIGADE", voters="RÖSTANDE", turnout="VALDELTAGANDE",
    editions=("valdistrikt_2022", "valdistrikt_2010"), unassigned=r"^uppsamlingsdistrikt$",
)  # fmt: skip
_XLSX22 = dict(
    family="xlsx", code_parts=(("Valdistriktskod", 8),), name="Valdistriktsnamn",
    eligible="Antal röstberättigade", voters="Antal röstande", turnout="Andel röstande",
    editions=("valdistrikt_2022",),
    unassigned=r"^förtidsröster ej fördelade efter valdistrikt$", name_width=32,
)  # fmt: skip

SPECS: tuple[ElectionSpec, ...] = (
    ElectionSpec(
        "val_2010_riksdag", "riksdag", 2010, "skv", "2010_slutligt_valresultat_valdistrikt_R.skv",
        code_parts=_SKV_CODES, name="VALDISTRIKT", eligible="Rostb", voters="Rostande",
        turnout="VDT", editions=("valdistrikt_2010",), unassigned=r"^onsdagsdistrikt$",
        encoding="latin-1",
    ),
    # The 2014 header repeats LÄN/VALDISTRIKT (codes, then names): the second one is 'NAME#2'.
    ElectionSpec(
        "val_2014_kommun", "kommun", 2014, "skv", "2014_kommunval_per_valdistrikt.csv",
        code_parts=(("LÄN", 2), ("KOM", 2), ("VALDISTRIKT", 4)), name="VALDISTRIKT#2",
        eligible="Rostb", voters="Rostande", turnout="VDT",
        editions=("valdistrikt_2022", "valdistrikt_2010"), unassigned=r"^uppsamlingsdistrikt$",
        encoding="utf-8-sig",
    ),
    ElectionSpec("val_2018_riksdag", "riksdag", 2018, file="2018_R_per_valdistrikt.xlsx",
                 sheet="R antal", **_XLSX18),
    ElectionSpec("val_2018_region", "region", 2018, file="2018_L_per_valdistrikt.xlsx",
                 sheet="L antal", **_XLSX18),
    ElectionSpec("val_2022_riksdag", "riksdag", 2022, file="ri_tab4_2022.xlsx", sheet="RI_tab4",
                 **_XLSX22),
    ElectionSpec("val_2022_region", "region", 2022, file="re_tab3_2022.xlsx", sheet="RE_tab3",
                 **_XLSX22),
    ElectionSpec("val_2022_kommun", "kommun", 2022, file="ko_tab3_2022.xlsx", sheet="KO_tab3",
                 **_XLSX22),
)  # fmt: skip


@dataclass(frozen=True)
class Edition:
    """A valdistrikt polygon edition: where its attribute table is and what its fields are."""

    division: str
    source_id: str
    file: str
    code: str
    name: str


EDITIONS: dict[str, Edition] = {
    "valdistrikt_2010": Edition(
        "valdistrikt_2010", "val_2010_valdistrikt_boundaries",
        "valdistrikt_2010_stockholms_lan.geojson", "LKFV", "VDNAMN",
    ),
    "valdistrikt_2022": Edition(
        "valdistrikt_2022", "val_2022_valdistrikt_boundaries",
        "valdistrikt_2022_stockholm.geojson", "Lkfv", "Vdnamn",
    ),
}  # fmt: skip


# --- reading: one core, two format families ----------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    code: str
    name: str
    eligible: int
    voters: int
    unassigned: bool
    where: str  # 'line 12' / 'row 12' of the source file, for messages


def _count(value: object, path: Path, where: str, column: str) -> int:
    """A non-negative whole count from a cell; '' / None are missing, and missing is an error."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    else:
        raise ElectionFileError(
            f"{path.name}: {where}, column {column!r}: {value!r} is not a count"
        )
    if n < 0:
        raise ElectionFileError(f"{path.name}: {where}, column {column!r}: negative count {n}")
    return n


def _percent(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def _header_index(header: Sequence[object], spec: ElectionSpec, path: Path) -> dict[str, int]:
    """Column positions by name; a repeated name's n-th occurrence is 'NAME#n'."""
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if h is None or str(h).strip() == "":
            continue
        key = str(h).strip()
        n = 1
        while (key if n == 1 else f"{key}#{n}") in index:
            n += 1
        index[key if n == 1 else f"{key}#{n}"] = i
    needed = [c for c, _ in spec.code_parts] + [spec.name, spec.eligible, spec.voters, spec.turnout]
    missing = [c for c in needed if c not in index]
    if missing:
        raise ElectionFileError(
            f"{path.name}: column(s) {missing} not in the header "
            f"(found {[str(h) for h in header if h is not None][:60]})"
        )
    return index


def _rows_skv(spec: ElectionSpec, path: Path) -> Iterator[tuple[str, Sequence[object]]]:
    """';'-separated text with a header line (val.se .skv layout)."""
    try:
        with path.open(encoding=spec.encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=";")
            for row in reader:
                yield f"line {reader.line_num}", row
    except UnicodeDecodeError as exc:
        raise ElectionFileError(f"{path.name}: not {spec.encoding} text ({exc})") from None


def _rows_xlsx(spec: ElectionSpec, path: Path) -> Iterator[tuple[str, Sequence[object]]]:
    """One sheet of an xlsx workbook, read streaming (openpyxl read-only)."""
    import openpyxl  # imported here: the skv family does not need it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ElectionFileError(f"{path.name}: not a readable xlsx workbook ({exc})") from None
    try:
        if spec.sheet not in wb.sheetnames:
            raise ElectionFileError(
                f"{path.name}: no sheet {spec.sheet!r} (sheets: {wb.sheetnames})"
            )
        try:
            for i, row in enumerate(wb[spec.sheet].iter_rows(values_only=True), start=1):
                yield f"row {i}", row
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ElectionFileError(
                f"{path.name}: sheet {spec.sheet!r} is truncated or "
                f"unreadable ({type(exc).__name__}: {exc})"
            ) from None
    finally:
        wb.close()


_READERS: dict[str, Callable[[ElectionSpec, Path], Iterator[tuple[str, Sequence[object]]]]] = {
    "skv": _rows_skv,
    "xlsx": _rows_xlsx,
}


def read_results(spec: ElectionSpec, path: Path) -> list[ResultRow]:
    """The Stockholm rows of one result file, checked; unassigned rows are flagged, not dropped."""
    rows = _READERS[spec.family](spec, Path(path))
    path = Path(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ElectionFileError(f"{path.name}: empty file") from None
    col = _header_index(header, spec, path)
    width = max(col.values()) + 1
    unassigned = re.compile(spec.unassigned, re.IGNORECASE)
    out: list[ResultRow] = []
    for where, row in rows:
        if not any(v not in (None, "") for v in row):
            continue  # blank line / empty trailing sheet row
        if len(row) < width:
            raise ElectionFileError(
                f"{path.name}: {where} has {len(row)} fields, the header {len(header)}: "
                "the file is truncated or malformed"
            )
        parts = []
        for column, digits in spec.code_parts:
            raw = row[col[column]]
            text = str(raw).strip() if raw is not None else ""
            if isinstance(raw, float) and raw.is_integer():
                text = str(int(raw))
            if not text.isdigit() or len(text) > digits:
                raise ElectionFileError(
                    f"{path.name}: {where}, column {column!r}: {raw!r} is not a code of at "
                    f"most {digits} digits"
                )
            parts.append(text.zfill(digits))
        code = "".join(parts)
        if not code.startswith(KOMMUN):
            continue
        name = " ".join(str(row[col[spec.name]] or "").split())
        if not name:
            raise ElectionFileError(f"{path.name}: {where}, column {spec.name!r}: empty name")
        eligible = _count(row[col[spec.eligible]], path, where, spec.eligible)
        voters = _count(row[col[spec.voters]], path, where, spec.voters)
        pct = _percent(row[col[spec.turnout]])
        if eligible > 0 and (pct is None or abs(100 * voters / eligible - pct) > 0.1):
            raise ElectionFileError(
                f"{path.name}: {where}: {spec.voters!r}/{spec.eligible!r} = {voters}/{eligible} "
                f"does not agree with {spec.turnout!r} = {row[col[spec.turnout]]!r}: "
                "columns moved or renamed?"
            )
        out.append(ResultRow(code, name, eligible, voters, bool(unassigned.search(name)), where))
    if not out:
        raise ElectionFileError(f"{path.name}: no rows for kommun {KOMMUN} (truncated file?)")
    districts = [r for r in out if not r.unassigned]
    seen: dict[str, str] = {}
    for r in districts:
        if r.code in seen:
            raise ElectionFileError(
                f"{path.name}: district code {r.code} twice ({seen[r.code]} and {r.where})"
            )
        seen[r.code] = r.where
        if r.eligible == 0:
            raise ElectionFileError(
                f"{path.name}: {r.where}: district {r.code} {r.name!r} has 0 eligible voters "
                f"but its name does not mark it as unassigned ({spec.unassigned!r})"
            )
    return out


def read_edition(edition: Edition, path: Path) -> pd.DataFrame:
    """Codes and names of an edition's Stockholm polygons (GeoJSON properties, no geometry)."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
        features = data["features"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ElectionFileError(f"{path.name}: not a GeoJSON FeatureCollection ({exc})") from None
    codes, names = [], []
    for i, feat in enumerate(features):
        props = feat.get("properties") or {}
        for field in (edition.code, edition.name):
            if field not in props:
                raise ElectionFileError(f"{path.name}: feature {i} has no property {field!r}")
        code = str(props[edition.code]).strip()
        if not code.startswith(KOMMUN):
            continue
        if len(code) != 8 or not code.isdigit():
            raise ElectionFileError(f"{path.name}: feature {i}: {edition.code} {code!r} is not "
                                    "an 8-digit code")  # fmt: skip
        codes.append(code)
        names.append(" ".join(str(props[edition.name] or "").split()))
    df = pd.DataFrame({"code": codes, "name": names})
    dup = df["code"].duplicated()
    if dup.any():
        raise ElectionFileError(f"{path.name}: code {df.loc[dup, 'code'].iloc[0]} twice")
    if df.empty:
        raise ElectionFileError(f"{path.name}: no polygons of kommun {KOMMUN}")
    return df


# --- names -------------------------------------------------------------------------------------

_DIRECTIONS = {"norra": "n", "södra": "s", "östra": "ö", "västra": "v"}
_NAME_RE = re.compile(r"^(?P<parish>\D+?) (?P<num>\d+)(?: (?P<place>.*))?$")


def _basic(name: str) -> str:
    """Lower case, NFC, punctuation as spaces, single spaces."""
    s = unicodedata.normalize("NFC", name).lower()
    s = re.sub(r"[.,:;/()\-–—'\"]+", " ", s)
    return " ".join(s.split())


def normalise_name(name: str) -> str:
    """The comparable form of a valdistrikt name (see module docstring)."""
    s = _basic(name)
    s = re.sub(r" (m ?m|m ?fl)$", "", s)  # 'med mera' / 'med flera': a qualifier, not a place
    s = " ".join(_DIRECTIONS.get(t, t) for t in s.split())
    m = _NAME_RE.match(s)
    if m and m["place"]:  # 'hässelby 16 hässelby 16 backlura s' -> 'hässelby 16 backlura s'
        head = f"{m['parish']} {m['num']}"
        place = m["place"]
        while place.startswith(head + " "):
            place = place[len(head) + 1 :]
        s = f"{head} {place}"
    return s


def split_name(name: str) -> tuple[str, str] | None:
    """(parish, place) of a normalised 'Parish N Place' name, or None."""
    m = _NAME_RE.match(normalise_name(name))
    if not m or not m["place"]:
        return None
    return m["parish"], m["place"]


def _one_edit(a: str, b: str) -> bool:
    """True if a and b differ by exactly one insertion, deletion or substitution."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :] if len(a) < len(b) else a[i + 1 :] == b[i + 1 :]


def names_match(a: str, b: str, width_a: int | None = None, width_b: int | None = None) -> bool:
    """Whether two names of a valdistrikt denote the same district (see module docstring).

    `width_a`/`width_b`: the column width at which the name's file cuts names, if it does.
    """
    na, nb = normalise_name(a), normalise_name(b)
    if na == nb:
        return True
    for x, y, w in ((a, b, width_a), (b, a, width_b)):
        cut = bool(w) and len(x) >= w - 1  # (a trailing space of the cut may have been stripped)
        if cut and (
            _basic(y).startswith(_basic(x)) or normalise_name(y).startswith(normalise_name(x))
        ):
            return True
    ta, tb = na.split(), nb.split()
    if len(ta) == len(tb):
        diff = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
        if len(diff) == 1:
            x, y = diff[0]
            return min(len(x), len(y)) >= 6 and _one_edit(x, y)
    return False


# --- matching ----------------------------------------------------------------------------------


SIZE_BAND = (2 / 3, 3 / 2)


@dataclass(frozen=True)
class Reference:
    """Eligible voters per polygon in an edition's own election (2010 for valdistrikt_2010, 2022
    for valdistrikt_2022), to check that a matched district is about the size of its polygon."""

    source_id: str
    eligible: dict[str, int]  # polygon code -> eligible voters
    total: int  # the city's eligible voters in that file


def _size_ratio(eligible: int, total: int, poly: str, ref: Reference | None) -> float:
    """A district's share of its city's electorate over its polygon's share in the reference."""
    if ref is None or not ref.eligible.get(poly) or not total:
        return float("nan")
    return (eligible / total) / (ref.eligible[poly] / ref.total)


def match_districts(
    districts: pd.DataFrame,
    polygons: pd.DataFrame,
    name_width: int | None = None,
    reference: Reference | None = None,
    total: int = 0,
) -> pd.DataFrame:
    """Match result districts (code, name, eligible) to one edition's polygons (code, name).

    Returns one row per district: code, poly_code (None if unmatched), poly_name, how
    ('code+name', 'renumbered' or ''), size_ratio (`_size_ratio`, NaN without a reference) and
    note (why a candidate was refused). A renumbered candidate is taken only if its size ratio
    lies in SIZE_BAND (or is unknown); code + name matches are kept whatever their size.
    """
    poly_name = dict(zip(polygons["code"], polygons["name"], strict=True))
    n = len(districts)
    codes, names = list(districts["code"]), list(districts["name"])
    eligible = [int(e) for e in districts["eligible"]]
    got: list[str | None] = [None] * n
    how, note = [""] * n, [""] * n
    taken: set[str] = set()
    for i, (code, name) in enumerate(zip(codes, names, strict=True)):
        if code in poly_name and names_match(name, poly_name[code], name_width):
            got[i], how[i] = code, "code+name"
            taken.add(code)
        elif code in poly_name:
            note[i] = f"same code, other name: {poly_name[code]!r}"

    def keyed(cs: Sequence[str], ns: Sequence[str]) -> dict[tuple[str, str], list[str]]:
        keys: dict[tuple[str, str], list[str]] = {}
        for code, name in zip(cs, ns, strict=True):
            parts = split_name(name)
            if parts:  # parish by its code digits, place by its normalised name
                keys.setdefault((code[:6], parts[1]), []).append(code)
        return keys

    if name_width is None:  # a name cut short is no key to match on
        res_keys = keyed(codes, names)
        poly_keys = keyed(list(polygons["code"]), list(polygons["name"]))
        row_of = {c: i for i, c in enumerate(codes)}
        for key, res_codes in res_keys.items():
            polys = poly_keys.get(key, [])
            if len(res_codes) != 1 or len(polys) != 1:
                continue
            i, target = row_of[res_codes[0]], polys[0]
            if how[i] or target in taken:
                continue
            ratio = _size_ratio(eligible[i], total, target, reference)
            if math.isnan(ratio) or SIZE_BAND[0] <= ratio <= SIZE_BAND[1]:  # NaN or in band
                got[i], how[i], note[i] = target, "renumbered", ""
                taken.add(target)
            else:
                note[i] = f"renumbered to {target} {poly_name[target]!r} refused: size {ratio:.2f}"
    return pd.DataFrame(
        {
            "code": codes,
            "poly_code": got,
            "poly_name": [poly_name.get(c) if c else None for c in got],
            "how": how,
            "size_ratio": [
                _size_ratio(e, total, c, reference) if c else float("nan")
                for e, c in zip(eligible, got, strict=True)
            ],
            "note": note,
        }
    )


# --- one election, then all --------------------------------------------------------------------


@dataclass(frozen=True)
class ElectionResult:
    spec: ElectionSpec
    observations: pd.DataFrame
    matches: pd.DataFrame  # one row per result district
    report: dict[str, object]


def _editions(registry: Registry, divisions: Sequence[str]) -> dict[str, pd.DataFrame]:
    return {
        d: read_edition(EDITIONS[d], registry.file(EDITIONS[d].source_id, EDITIONS[d].file))
        for d in divisions
    }


def _pct(part: float, whole: float) -> float:
    return round(100 * part / whole, 2) if whole else float("nan")


def load_election(
    spec: ElectionSpec,
    rows: Sequence[ResultRow],
    editions: dict[str, pd.DataFrame],
    references: dict[str, Reference] | None = None,
) -> ElectionResult:
    """Match one election's rows (`read_results`) to polygons and build its observations.

    `editions`: division -> polygons (`read_edition`); `references`: division -> Reference.
    """
    references = references or {}
    res = pd.DataFrame([r.__dict__ for r in rows])
    dist = res[~res["unassigned"]].reset_index(drop=True)
    un = res[res["unassigned"]]
    total = int(res["eligible"].sum())
    per_edition = {
        d: match_districts(dist, editions[d], spec.name_width, references.get(d), total)
        for d in spec.editions
    }
    # One edition per election: the one matching the most eligible voters (ties: spec order).
    # Mixing editions per district was tried and rejected: the polygons so chosen overlapped.
    matched_eligible = {
        d: int(dist.loc[m["poly_code"].notna().to_numpy(), "eligible"].sum())
        for d, m in per_edition.items()
    }
    edition = sorted(spec.editions, key=lambda d: (-matched_eligible[d], spec.editions.index(d)))[0]
    best = per_edition[edition]
    chosen = pd.concat(
        [dist[["code", "name", "eligible", "voters"]], best.drop(columns="code")], axis=1
    )
    ok = chosen["poly_code"].notna()
    chosen.insert(4, "division", chosen["poly_code"].where(~ok, edition))
    dup = chosen[ok].duplicated("poly_code", keep=False)
    if dup.any():  # cannot happen by construction; guard the invariant anyway
        raise ElectionFileError(f"{spec.source_id}: two districts matched to one polygon: "
                                f"{chosen[ok][dup].head(4).to_dict('records')}")  # fmt: skip

    k = spec.kind
    m_ok = chosen[ok]
    parts = [
        pd.DataFrame({"division": edition, "code": m_ok["poly_code"],
                      "variable": f"{what}_{k}", "value": m_ok[what]})
        for what in ("eligible", "voters")
    ]  # fmt: skip
    city = {
        f"voters_{k}_unassigned": int(un["voters"].sum()),
        f"eligible_{k}_unmatched": int(chosen.loc[~ok, "eligible"].sum()),
        f"voters_{k}_unmatched": int(chosen.loc[~ok, "voters"].sum()),
        f"eligible_{k}": total,
        f"voters_{k}": int(res["voters"].sum()),
    }
    if un["eligible"].sum() > 0:
        city[f"eligible_{k}_unassigned"] = int(un["eligible"].sum())
    for what in ("eligible", "voters"):
        assembled = (
            int(m_ok[what].sum())
            + city[f"{what}_{k}_unmatched"]
            + city.get(f"{what}_{k}_unassigned", 0)
        )
        if assembled != city[f"{what}_{k}"]:  # pragma: no cover - arithmetic invariant
            raise AssertionError(f"{spec.source_id}: {what} does not add up")
    parts.append(pd.DataFrame({"division": CITY_DIVISION, "code": CITY_CODE,
                               "variable": list(city), "value": list(city.values())}))  # fmt: skip
    obs = pd.concat(parts, ignore_index=True).assign(
        source_id=spec.source_id, year=spec.year, sex="total", citation=""
    )
    obs = validate(obs, spec.source_id)

    voters = city[f"voters_{k}"]
    ratio = m_ok["size_ratio"]
    report = {
        "source_id": spec.source_id,
        "kind": k,
        "year": spec.year,
        "edition": edition,
        "districts": len(chosen),
        "matched": int(ok.sum()),
        "matched_code_name": int((chosen["how"] == "code+name").sum()),
        "matched_renumbered": int((chosen["how"] == "renumbered").sum()),
        "refused_renumbered": int(chosen["note"].str.contains("refused").sum()),
        "size_outliers": int(((ratio < SIZE_BAND[0]) | (ratio > SIZE_BAND[1])).sum()),
        **{
            f"matched_in_{d}": int(per_edition[d]["poly_code"].notna().sum())
            if d in per_edition else None  # not a candidate edition
            for d in DIVISIONS
        },
        "unmatched": int((~ok).sum()),
        "eligible": total,
        "voters": voters,
        "turnout_pct": _pct(voters, total),
        "eligible_unmatched": city[f"eligible_{k}_unmatched"],
        "eligible_unmatched_pct": _pct(city[f"eligible_{k}_unmatched"], total),
        "voters_unmatched": city[f"voters_{k}_unmatched"],
        "voters_unmatched_pct": _pct(city[f"voters_{k}_unmatched"], voters),
        "unassigned_rows": len(un),
        "voters_unassigned": city[f"voters_{k}_unassigned"],
        "voters_unassigned_pct": _pct(city[f"voters_{k}_unassigned"], voters),
        "turnout_districts_pct": _pct(m_ok["voters"].sum(), m_ok["eligible"].sum()),
    }  # fmt: skip
    matches = chosen.assign(source_id=spec.source_id, kind=k, year=spec.year)
    return ElectionResult(spec, obs, matches, report)


def _references(
    specs: Sequence[ElectionSpec], rows: dict[ElectionSpec, list[ResultRow]]
) -> dict[str, dict[Kind, Reference]]:
    """division -> kind -> Reference, from the elections held on that division's own edition."""
    out: dict[str, dict[Kind, Reference]] = {}
    for spec in specs:
        if len(spec.editions) != 1:
            continue
        elig = {r.code: r.eligible for r in rows[spec] if not r.unassigned}
        total = sum(r.eligible for r in rows[spec])
        out.setdefault(spec.editions[0], {})[spec.kind] = Reference(spec.source_id, elig, total)
    return out


@functools.lru_cache(maxsize=4)
def _load_all(
    registry: Registry, specs: tuple[ElectionSpec, ...] = SPECS
) -> tuple[ElectionResult, ...]:
    editions = _editions(registry, sorted({d for s in specs for d in s.editions}))
    rows = {s: read_results(s, registry.file(s.source_id, s.file)) for s in specs}
    refs = _references(specs, rows)
    out = []
    for s in specs:
        # size reference: the same kind of election on the edition, else riksdag, else any
        by_kind = {d: refs.get(d, {}) for d in s.editions}
        chosen = {
            d: kinds.get(s.kind) or kinds.get("riksdag") or next(iter(kinds.values()), None)
            for d, kinds in by_kind.items()
        }
        out.append(load_election(s, rows[s], editions, {d: r for d, r in chosen.items() if r}))
    return tuple(out)


def load(registry: Registry, specs: Sequence[ElectionSpec] = SPECS) -> pd.DataFrame:
    """All elections' observations (module docstring), concatenated and validated."""
    results = _load_all(registry, tuple(specs))
    return validate(pd.concat([r.observations for r in results], ignore_index=True))


def matching_report(registry: Registry, specs: Sequence[ElectionSpec] = SPECS) -> pd.DataFrame:
    """Per election: districts, matched (how, to which edition), unmatched, eligible voters and
    voters unmatched (n and %), unassigned votes, city turnout; see `load_election`."""
    report = pd.DataFrame([r.report for r in _load_all(registry, tuple(specs))])
    cols = [f"matched_in_{d}" for d in DIVISIONS]
    report[cols] = report[cols].astype("Int64")
    return report


def district_matches(registry: Registry, specs: Sequence[ElectionSpec] = SPECS) -> pd.DataFrame:
    """Per result district: code, name, counts, the division and polygon it went to, how, its
    size ratio and a note on refused candidates (for audit)."""
    return pd.concat([r.matches for r in _load_all(registry, tuple(specs))], ignore_index=True)
