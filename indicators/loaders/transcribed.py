"""Published district figures transcribed by hand from official publications (../transcribed).

Three tidy CSVs, one per theme, each a registered source with one file:
  transcribed_democracy_population -> democracy_population.csv
  transcribed_health_upbringing    -> health_upbringing.csv
  transcribed_work_housing         -> work_housing.csv
with the header `indicator_id, indicator_sv, area, unit, geography, district, sex, year, value,
source_publisher, source_title, source_url, source_location, definition_note`.

Each row becomes one observation: variable = indicator_id, value as published (percent stays
percent), citation = "publisher, title, location, url" of that row.

- geography -> division and code:
    city -> 'city', code 'stockholm' (district must name the city);
    sdo14_2007 / sdo13_2020 / sdo11_2023 -> 'sdo14' / 'sdo13' / 'sdo11', code via
      geo.names.resolve_district;
    sdo18_1999 -> 'sdo18' (the 18 stadsdelsområden of 1999-2006, checked against SDO18_NAMES),
    stadsdel -> 'stadsdel' (checked against the 117 stadsdelar of the city map when given);
      both with code = ascii slug of the name ('Södra Ängby' -> 'sodra_angby').
  A district that does not resolve is an error naming file, row and name; nothing is dropped.
- sex: total / women / men -> total / female / male.
- year: a plain year '2013'. A school year '2012/13' is taken as its spring year (2013), the
  convention of the Skolverket loader; a period such as '2011-2013' is refused (a pooled value
  is not a yearly observation).
- value: a plain decimal number with a point; anything else is an error naming file, row and
  column.
- Two rows for the same (indicator, district, year, sex): equal values are kept once (both
  citations kept); different values are resolved in favour of the row from the publication
  that also gives the series' other districts that year (so a district and the city are
  compared within one publication), and the other reading is named in the citation. Anything
  else is an error.

- Secondary sources: `is_secondary` is true when the publisher says 'secondary', or is a
  news outlet, blog or Wikipedia, or the note says SECONDARY SOURCE / WIKIPEDIA. Many news rows
  do not say 'secondary' in source_publisher (e.g. 'Dagens Nyheter (news report ...)'), so
  the literal test alone (`secondary_marked`) misses them.
- area: the CSVs' areas map onto the catalog's five (AREA_MAP); 'population' -> democracy.

`series_metadata` describes each indicator_id (divisions, years, districts per year, whether
any row comes from a secondary source) for the catalog and the data page.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from data.registry import Registry
from geo.names import UnknownDistrictError, resolve_district
from indicators.observations import validate

FILES: dict[str, str] = {
    "transcribed_democracy_population": "democracy_population.csv",
    "transcribed_health_upbringing": "health_upbringing.csv",
    "transcribed_work_housing": "work_housing.csv",
}
HEADER = (
    "indicator_id",
    "indicator_sv",
    "area",
    "unit",
    "geography",
    "district",
    "sex",
    "year",
    "value",
    "source_publisher",
    "source_title",
    "source_url",
    "source_location",
    "definition_note",
)
OPTIONAL = ("definition_note",)
GEOGRAPHY_DIVISION: dict[str, str] = {
    "city": "city",
    "sdo18_1999": "sdo18",
    "sdo14_2007": "sdo14",
    "sdo13_2020": "sdo13",
    "sdo11_2023": "sdo11",
    "stadsdel": "stadsdel",
}
SEX: dict[str, str] = {"total": "total", "women": "female", "men": "male"}
CITY_CODE = "stockholm"
CITY_NAMES = ("Stockholm", "Stockholms stad", "Stockholms kommun", "Hela staden")
# The 18 stadsdelsområden of 1999-2006 (before the 2007 merges into 14).
SDO18_NAMES = (
    "Kista",
    "Rinkeby",
    "Spånga-Tensta",
    "Hässelby-Vällingby",
    "Bromma",
    "Kungsholmen",
    "Norrmalm",
    "Östermalm",
    "Maria-Gamla stan",
    "Katarina-Sofia",
    "Enskede-Årsta",
    "Vantör",
    "Skarpnäck",
    "Farsta",
    "Älvsjö",
    "Hägersten",
    "Liljeholmen",
    "Skärholmen",
)
# The CSVs' `area` -> the catalog's five areas. 'population' goes to democracy, where the
# catalog keeps the built population indicators.
AREA_MAP: dict[str, str] = {
    "health": "health",
    "upbringing": "upbringing",
    "work": "work",
    "housing": "housing",
    "democracy": "democracy",
    "population": "democracy",
}
# A row is from a secondary source when its publisher says so ("(secondary: Mitt i)"), or names
# a news outlet, blog or encyclopedia as the publisher, or its note flags it.
SECONDARY_PUBLISHER = re.compile(
    r"\bsecondary\b|^\s*(wikipedia|blog\b|mitt i\b|dagens nyheter|dagens arena|buzzter|"
    r"jellypages|nyhetsbyr[åa]n|newsworthy)",
    re.IGNORECASE,
)
SECONDARY_NOTE = re.compile(r"\bSECONDARY SOURCE\b|\bWIKIPEDIA\b")
STADSDELAR_SOURCE = "stockholm_stadsdelar_boundaries"

ROW_COLUMNS = (
    *HEADER,
    "source_id",
    "file",
    "row",
    "division",
    "code",
    "year_int",
    "sex_code",
    "number",
    "citation",
    "secondary",
    "secondary_marked",
)


class TranscribedError(ValueError):
    """A transcribed table breaks its format; the message names file, row and column."""


def slug(name: str) -> str:
    """ASCII slug of a place name: 'Södra Ängby' -> 'sodra_angby'."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def is_secondary(publisher: str, note: str = "") -> bool:
    """True for rows quoting the official figure through news, blogs or Wikipedia."""
    return bool(SECONDARY_PUBLISHER.search(publisher or "") or SECONDARY_NOTE.search(note or ""))


def parse_year(text: str) -> int:
    """'2013' -> 2013; school year '2012/13' -> 2013; raises ValueError on anything else."""
    t = str(text).strip()
    if re.fullmatch(r"\d{4}", t):
        return int(t)
    m = re.fullmatch(r"(\d{4})/(\d{2}|\d{4})", t)
    if m:
        spring = int(m.group(1)) + 1
        end = m.group(2)
        if (len(end) == 2 and int(end) == spring % 100) or int(end) == spring:
            return spring
        raise ValueError(f"{t!r} is not a school year (its years are not consecutive)")
    if re.fullmatch(r"\d{4}\s*[-–]\s*\d{2,4}", t):
        raise ValueError(f"{t!r} is a period, not a year; transcribe one row per year")
    raise ValueError(f"{t!r} is not a year")


def parse_value(text: str) -> float:
    t = str(text).strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", t):
        raise ValueError(f"{t!r} is not a number (use a plain decimal with a point)")
    return float(t)


def citation(row: dict) -> str:
    parts = [
        row[c].strip()
        for c in ("source_publisher", "source_title", "source_location", "source_url")
    ]
    return ", ".join(p for p in parts if p)


def _district(row: dict, division: str, stadsdelar: set[str] | None) -> str:
    """The code of the row's district in `division`; raises UnknownDistrictError."""
    name = row["district"].strip()
    if division == "city":
        if slug(name) not in {slug(n) for n in CITY_NAMES}:
            raise UnknownDistrictError(f"{name!r} is not the city (expected 'Stockholm')")
        return CITY_CODE
    if division == "sdo18":
        if slug(name) not in {slug(n) for n in SDO18_NAMES}:
            raise UnknownDistrictError(
                f"unknown district name {name!r} for division sdo18 (known: "
                f"{', '.join(SDO18_NAMES)})"
            )
        return slug(name)
    if division == "stadsdel":
        if stadsdelar is not None and slug(name) not in stadsdelar:
            raise UnknownDistrictError(f"unknown stadsdel {name!r} (not on the city's map)")
        return slug(name)
    return resolve_district(name, division).code


def read_rows(path: Path, source_id: str, stadsdelar: Iterable[str] | None = None) -> pd.DataFrame:
    """Every row of one transcribed CSV, checked and parsed (ROW_COLUMNS).

    stadsdelar: names of the known stadsdelar (any spelling); stadsdel rows are checked against
    them when given. Raises TranscribedError naming file, row (as a spreadsheet numbers it:
    the header is row 1) and column.
    """
    path = Path(path)
    name = path.name
    known_stadsdelar = {slug(n) for n in stadsdelar} if stadsdelar is not None else None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscribedError(f"{name}: cannot read ({exc})") from exc
    if not text:
        raise TranscribedError(f"{name}: empty file")
    if not text.endswith("\n"):
        raise TranscribedError(f"{name}: does not end with a line break (file cut short?)")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    records = []
    try:
        header = next(reader)
        if tuple(h.strip() for h in header) != HEADER:
            got = [h.strip() for h in header]
            diff = [
                f"column {i + 1} is {g!r}, expected {w!r}"
                for i, (g, w) in enumerate(zip(got, HEADER, strict=False))
                if g != w
            ]
            if len(got) != len(HEADER):
                diff.append(f"{len(got)} columns, expected {len(HEADER)}")
            raise TranscribedError(f"{name}: row 1 (header): {'; '.join(diff)}")
        for n, fields in enumerate(reader, start=2):
            if not fields:
                raise TranscribedError(f"{name}: row {n} is empty")
            if len(fields) != len(HEADER):
                raise TranscribedError(
                    f"{name}: row {n} has {len(fields)} fields, expected {len(HEADER)} "
                    f"(file cut short, or an unquoted comma?)"
                )
            records.append(
                _parse_row(
                    dict(zip(HEADER, fields, strict=True)), n, name, source_id, known_stadsdelar
                )
            )
    except csv.Error as exc:
        raise TranscribedError(f"{name}: row {reader.line_num}: {exc} (file cut short?)") from exc
    if not records:
        raise TranscribedError(f"{name}: no data rows")
    df = pd.DataFrame(records, columns=list(ROW_COLUMNS))
    _check_series_consistency(df, name)
    return df


def _parse_row(row: dict, n: int, name: str, source_id: str, stadsdelar: set[str] | None) -> dict:
    def fail(column: str, problem: str) -> TranscribedError:
        return TranscribedError(
            f"{name}: row {n} ({row.get('indicator_id', '?')}), column {column!r}: {problem}"
        )

    row = {k: v.strip() for k, v in row.items()}
    for col in HEADER:
        if col not in OPTIONAL and not row[col]:
            raise fail(col, "empty")
    if not re.fullmatch(r"[a-z0-9_]+", row["indicator_id"]):
        raise fail("indicator_id", f"{row['indicator_id']!r} is not a lower-case id")
    if row["area"] not in AREA_MAP:
        raise fail("area", f"unknown area {row['area']!r} (known: {', '.join(AREA_MAP)})")
    division = GEOGRAPHY_DIVISION.get(row["geography"])
    if division is None:
        raise fail(
            "geography",
            f"unknown geography {row['geography']!r} (known: {', '.join(GEOGRAPHY_DIVISION)})",
        )
    sex = SEX.get(row["sex"])
    if sex is None:
        raise fail("sex", f"unknown sex {row['sex']!r} (known: {', '.join(SEX)})")
    try:
        year = parse_year(row["year"])
    except ValueError as exc:
        raise fail("year", str(exc)) from None
    try:
        number = parse_value(row["value"])
    except ValueError as exc:
        raise fail("value", str(exc)) from None
    try:
        code = _district(row, division, stadsdelar)
    except (UnknownDistrictError, ValueError) as exc:
        raise fail("district", f"{row['district']!r} cannot be resolved: {exc}") from None
    return {
        **row,
        "source_id": source_id,
        "file": name,
        "row": n,
        "division": division,
        "code": code,
        "year_int": year,
        "sex_code": sex,
        "number": number,
        "citation": citation(row),
        "secondary": is_secondary(row["source_publisher"], row["definition_note"]),
        "secondary_marked": "secondary" in row["source_publisher"].casefold(),
    }


def _check_series_consistency(df: pd.DataFrame, name: str) -> None:
    """One series has one area and one unit; a change means two series under one id."""
    for col in ("area", "unit"):
        n = df.groupby("indicator_id")[col].nunique()
        if (n > 1).any():
            ind = n[n > 1].index[0]
            values = sorted(df.loc[df["indicator_id"] == ind, col].unique())
            raise TranscribedError(f"{name}: indicator {ind!r} has several {col}s: {values}")


KEY = ["indicator_id", "division", "code", "year_int", "sex_code"]


def resolve_duplicates(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per observation key; see the module docstring for the rule."""
    dup = rows.duplicated(KEY, keep=False)
    if not dup.any():
        return rows
    keep = rows[~dup]
    resolved = []
    for _, group in rows[dup].groupby(KEY, sort=False):
        where = ", ".join(f"row {r}" for r in group["row"])
        label = (
            f"{group['file'].iloc[0]}: {where} ({group['indicator_id'].iloc[0]}, "
            f"{group['district'].iloc[0]}, {group['year'].iloc[0]}, {group['sex'].iloc[0]})"
        )
        if group["number"].nunique() == 1:
            first = group.iloc[0].copy()
            first["citation"] = " | ".join(dict.fromkeys(group["citation"]))
            resolved.append(first)
            continue
        same_year = rows[
            (rows["indicator_id"] == group["indicator_id"].iloc[0])
            & (rows["year_int"] == group["year_int"].iloc[0])
            & ~rows.index.isin(group.index)
        ]
        pubs = set(zip(same_year["source_title"], same_year["source_url"], strict=True))
        backed = group[
            [
                (t, u) in pubs
                for t, u in zip(group["source_title"], group["source_url"], strict=True)
            ]
        ]
        if len(backed) != 1:
            values = ", ".join(f"{v:g}" for v in group["number"])
            raise TranscribedError(
                f"{label}: the same observation with different values ({values}) and no rule "
                f"to choose one"
            )
        chosen = backed.iloc[0].copy()
        others = group.drop(index=backed.index)
        chosen["citation"] += "".join(
            f" [another source reads {r.number:g}: {r.citation}]" for r in others.itertuples()
        )
        resolved.append(chosen)
    return pd.concat([keep, pd.DataFrame(resolved)]).sort_values(["file", "row"])


def to_observations(rows: pd.DataFrame) -> pd.DataFrame:
    rows = resolve_duplicates(rows)
    obs = pd.DataFrame(
        {
            "source_id": rows["source_id"],
            "division": rows["division"],
            "code": rows["code"],
            "year": rows["year_int"],
            "sex": rows["sex_code"],
            "variable": rows["indicator_id"],
            "value": rows["number"],
            "citation": rows["citation"],
        }
    )
    return validate(obs.reset_index(drop=True))


def load_file(path: Path, source_id: str, stadsdelar: Iterable[str] | None = None) -> pd.DataFrame:
    """Observations of one transcribed CSV."""
    return to_observations(read_rows(path, source_id, stadsdelar))


def stadsdel_names(registry: Registry) -> list[str]:
    """The 117 stadsdelar of the city map (upper case, as the map spells them)."""
    import pyogrio

    dbf = registry.file(STADSDELAR_SOURCE, "stadsdelar.dbf")
    table = pyogrio.read_dataframe(dbf, read_geometry=False, encoding="latin1")
    return [str(n) for n in table["name"]]


def read_all_rows(registry: Registry) -> pd.DataFrame:
    known = stadsdel_names(registry)
    frames = [read_rows(registry.file(sid), sid, known) for sid in FILES]
    rows = pd.concat(frames, ignore_index=True)
    clash = rows.groupby("indicator_id")["source_id"].nunique()
    if (clash > 1).any():
        raise TranscribedError(f"indicator {clash[clash > 1].index[0]!r} is in several files")
    return rows


def load(registry: Registry) -> pd.DataFrame:
    """Observations of all three transcribed tables."""
    return to_observations(read_all_rows(registry))


def _most_common(values: pd.Series) -> str:
    counts = values.value_counts(sort=False)
    return str(counts.idxmax()) if len(counts) else ""


def series_metadata(
    registry: Registry | None = None, rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per indicator_id, in file order.

    Columns: indicator_id, source_id, indicator_sv (most frequent wording), indicator_sv_variants,
    area (the CSV's), catalog_area, unit, definition_note (most frequent), divisions, years,
    districts_per_year ({year: number of districts, city rows not counted}), max_districts
    (the most districts of one division in one year: what a map of the series could show),
    source_division (the division most district rows are on; missing for city-only series),
    sexes, has_city, n_rows, secondary (any row from a secondary source, see is_secondary),
    secondary_marked (any publisher literally saying 'secondary'), publishers.
    """
    if rows is None:
        if registry is None:
            raise ValueError("series_metadata needs a registry or rows")
        rows = read_all_rows(registry)
    rows = resolve_duplicates(rows)
    out = []
    for ind, g in rows.groupby("indicator_id", sort=False):
        districts = g[g["division"] != "city"]
        per_year = (
            districts.drop_duplicates(["year_int", "division", "code"])
            .groupby("year_int")
            .size()
            .to_dict()
        )
        div_counts = districts["division"].value_counts()
        out.append(
            {
                "indicator_id": ind,
                "source_id": g["source_id"].iloc[0],
                "indicator_sv": _most_common(g["indicator_sv"]),
                "indicator_sv_variants": tuple(dict.fromkeys(g["indicator_sv"])),
                "area": g["area"].iloc[0],
                "catalog_area": AREA_MAP[g["area"].iloc[0]],
                "unit": g["unit"].iloc[0],
                "definition_note": _most_common(g["definition_note"]),
                "divisions": tuple(sorted(g["division"].unique())),
                "years": tuple(sorted(int(y) for y in g["year_int"].unique())),
                "districts_per_year": {int(y): int(n) for y, n in sorted(per_year.items())},
                "max_districts": int(
                    districts.drop_duplicates(["year_int", "division", "code"])
                    .groupby(["division", "year_int"])
                    .size()
                    .max()
                    if len(districts)
                    else 0
                ),
                "source_division": div_counts.idxmax() if len(div_counts) else None,
                "sexes": tuple(s for s in ("total", "female", "male") if s in set(g["sex_code"])),
                "has_city": bool((g["division"] == "city").any()),
                "n_rows": len(g),
                "secondary": bool(g["secondary"].any()),
                "secondary_marked": bool(g["secondary_marked"].any()),
                "publishers": tuple(dict.fromkeys(g["source_publisher"])),
            }
        )
    return pd.DataFrame(out)
