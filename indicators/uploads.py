"""User uploads: an analyst's own indicator (values per district) from a CSV or XLSX file.

`parse_upload(filename, content, lang)` never raises on anything in the file: it returns an
`UploadResult` holding either the tidy table

    division, district_code, district_name, year, sex, value

with what was detected about the file (`Detected`), or every problem found (`Problem`: row as
the user sees it in the file, header = row 1; column header; cell reference; message in Swedish
or English). Warnings (a missing value, an ignored column) travel with an accepted table.

What the user types in the form (title, unit, direction, decimals) is `UploadMeta`; use
`validate_meta(data, lang)` to get translated problems instead of a pydantic error.

Rules and limits (module constants, so tests and deployments can change them):
- The file size is checked before anything else (MAX_BYTES). XLSX is a zip: its declared
  uncompressed size, compression ratio and member count are checked before openpyxl opens it
  (zipfile never inflates a member past its declared size, so the declared sizes bound the
  work). Macro workbooks (.xlsm, or any zip carrying vbaProject.bin) and old binary .xls are
  refused. The workbook is opened read-only with `data_only=False` so that formula cells are
  *seen* (with data_only=True openpyxl silently returns the cached result, or None when the
  writer never computed one) and refused, naming the cell: we cannot recompute them and will
  not trust a cached number.
- CSV: UTF-8 with or without BOM, UTF-16/32 with BOM (UTF-16 without BOM when its NUL pattern
  is unmistakable), else Windows-1252 if every byte decodes and every non-ASCII character is a
  letter or common typographic sign; otherwise "wrong encoding". Comma, semicolon or tab
  separated (detected from the field counts; an Excel "sep=;" first line is honoured).
- Cells that look like spreadsheet formulas (text starting with = + - @, tab or CR, that is not
  a number) are *refused*, not neutralised: no district name, year, sex or division starts
  like that, so such a cell is either a mistake or an attack, and the user should hear about
  it. Nothing typed in a cell is stored anyway: districts are stored under the gazetteer's
  canonical name, values as numbers, so an upload cannot carry a payload into a later export.
- District names of any common spelling resolve through one function, `resolve_area`, which
  uses geo.names (normalise, resolve_district) for the SDO divisions and the built geojson
  names (RegSO, basområden) or the stadsdel boundary file for the rest; codes work too.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
import logging
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from data.registry import PROJECT_ROOT
from geo.names import (
    DISTRICT_NAMES,
    DIVISION_CODES,
    SDO_DIVISIONS,
    District,
    UnknownDistrictError,
    normalise,
    resolve_district,
)

log = logging.getLogger(__name__)

# --- limits -----------------------------------------------------------------------------------

MAX_BYTES = 5 * 1024 * 1024  # the upload itself, checked before any parsing
MAX_ROWS = 100_000  # data rows (419 basområden x 80 years x 3 sexes fits)
MAX_COLUMNS = 50
HEADER_SEARCH_ROWS = 10  # the header may sit below a title: searched in the first rows
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
XLSX_MAX_RATIO = 100  # total uncompressed / total compressed
XLSX_MAX_MEMBERS = 500
MAX_ERRORS = 1000  # listed; more are summed up in one last problem
MAX_WARNINGS = 200
YEAR_MIN, YEAR_MAX = 1900, 2100
MAX_CELL_ECHO = 60  # characters of a user's cell quoted back in a message

# Built geometry of the mapped divisions (indicators.build.BUILD_DIR / "geo"; not imported from
# there to keep this module free of the build's geopandas import).
BUILD_GEO_DIR = PROJECT_ROOT / "data" / "build" / "geo"

LANGS = ("sv", "en")
Lang = Literal["sv", "en"]
SEXES = ("total", "female", "male")
TABLE_COLUMNS = ("division", "district_code", "district_name", "year", "sex", "value")

# Divisions an upload may use, in the order automatic detection prefers them.
DIVISION_PREFERENCE = ("sdo11", "sdo13", "sdo14", "regso", "stadsdel", "basomrade")
DIVISION_LABELS: dict[str, dict[str, str]] = {
    "sdo11": {"sv": "stadsdelsområden från 2023 (11)", "en": "districts from 2023 (11)"},
    "sdo13": {"sv": "stadsdelsområden 2020–2023 (13)", "en": "districts 2020–2023 (13)"},
    "sdo14": {"sv": "stadsdelsområden 2007–2020 (14)", "en": "districts 2007–2020 (14)"},
    "regso": {"sv": "RegSO-områden", "en": "RegSO areas"},
    "stadsdel": {"sv": "stadsdelar", "en": "neighbourhoods (stadsdelar)"},
    "basomrade": {"sv": "basområden", "en": "basic areas (basområden)"},
}

# --- messages ---------------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    "internal_error": {
        "sv": "Filen kunde inte läsas på grund av ett fel hos oss. Försök igen eller spara "
        "filen som CSV UTF-8.",
        "en": "The file could not be read because of an error on our side. Try again or save "
        "the file as CSV UTF-8.",
    },
    "file_too_large": {
        "sv": "Filen är {size}, större än gränsen {limit}.",
        "en": "The file is {size}, over the limit of {limit}.",
    },
    "empty_file": {"sv": "Filen är tom.", "en": "The file is empty."},
    "unsupported_type": {
        "sv": "Filtypen {ext} stöds inte. Ladda upp CSV (.csv, .txt) eller Excel (.xlsx).",
        "en": "File type {ext} is not supported. Upload CSV (.csv, .txt) or Excel (.xlsx).",
    },
    "old_excel": {
        "sv": "Filen är i det gamla Excel-formatet (.xls) eller lösenordsskyddad. Spara den "
        "som .xlsx utan lösenord, eller som CSV UTF-8.",
        "en": "The file is in the old Excel format (.xls) or password protected. Save it as "
        ".xlsx without a password, or as CSV UTF-8.",
    },
    "macro_file": {
        "sv": "Excel-filer med makron tas inte emot. Spara som .xlsx (utan makron) eller CSV.",
        "en": "Excel files with macros are not accepted. Save as .xlsx (without macros) or "
        "CSV.",
    },
    "not_xlsx": {
        "sv": "Filen går inte att läsa som en Excel-fil (.xlsx). Spara om den i Excel eller "
        "som CSV UTF-8.",
        "en": "The file cannot be read as an Excel file (.xlsx). Save it again from Excel or "
        "as CSV UTF-8.",
    },
    "xlsx_too_big": {
        "sv": "Excel-filen packas upp till {size}, mer än gränsen {limit}.",
        "en": "The Excel file unpacks to {size}, over the limit of {limit}.",
    },
    "xlsx_ratio": {
        "sv": "Excel-filen är misstänkt hårt packad (1:{ratio}, högst 1:{limit}) och öppnas "
        "inte.",
        "en": "The Excel file is suspiciously compressed (1:{ratio}, at most 1:{limit}) and "
        "is not opened.",
    },
    "xlsx_members": {
        "sv": "Excel-filen innehåller {n} delar, fler än {limit}; den öppnas inte.",
        "en": "The Excel file holds {n} parts, more than {limit}; it is not opened.",
    },
    "no_sheet": {
        "sv": "Excel-filen har inget kalkylblad med data.",
        "en": "The Excel file has no worksheet with data.",
    },
    "other_sheets": {
        "sv": "Bara bladet {sheet} lästes; övriga blad ({others}) ignorerades.",
        "en": "Only the sheet {sheet} was read; the other sheets ({others}) were ignored.",
    },
    "wrong_encoding": {
        "sv": "Fel teckenkodning: filen går inte att läsa som text ({detail}). Spara den som "
        "”CSV UTF-8” (Excel: Spara som → CSV UTF-8).",
        "en": "Wrong encoding: the file cannot be read as text ({detail}). Save it as "
        "“CSV UTF-8” (Excel: Save as → CSV UTF-8).",
    },
    "csv_error": {
        "sv": "Raden kan inte läsas som CSV ({detail}); resten av filen lästes inte.",
        "en": "The row cannot be read as CSV ({detail}); the rest of the file was not read.",
    },
    "too_many_rows": {
        "sv": "Filen har fler än {limit} datarader.",
        "en": "The file has more than {limit} data rows.",
    },
    "too_many_columns": {
        "sv": "Raden har {n} kolumner; högst {limit} tas emot.",
        "en": "The row has {n} columns; at most {limit} are accepted.",
    },
    "no_header": {
        "sv": "Hittar ingen rubrikrad bland de {n} första raderna. Filen behöver kolumnerna "
        "område (t.ex. {district}), år ({year}) och värde ({value}).{hint}",
        "en": "No header row found in the first {n} rows. The file needs the columns "
        "district (e.g. {district}), year ({year}) and value ({value}).{hint}",
    },
    "single_column_hint": {
        "sv": " Filen ser ut att ha en enda kolumn: avgränsa med semikolon, komma eller tab.",
        "en": " The file seems to have a single column: separate with semicolons, commas or "
        "tabs.",
    },
    "missing_column": {
        "sv": "Kolumnen för {role} saknas i rubrikraden. Godkända rubriker: {names}.",
        "en": "The header row has no column for {role}. Accepted headers: {names}.",
    },
    "duplicate_column": {
        "sv": "Både {a} och {b} ser ut att vara kolumnen för {role}; ta bort eller döp om den "
        "ena.",
        "en": "Both {a} and {b} look like the column for {role}; remove or rename one.",
    },
    "ignored_column": {
        "sv": "Kolumnen {name} används inte och ignorerades.",
        "en": "The column {name} is not used and was ignored.",
    },
    "rows_above_header": {
        "sv": "Raderna ovanför rubrikraden (rad {header}) ignorerades.",
        "en": "The rows above the header row (row {header}) were ignored.",
    },
    "ragged_row": {
        "sv": "Raden har {n} fält men rubrikraden har {m}.{hint}",
        "en": "The row has {n} fields but the header row has {m}.{hint}",
    },
    "decimal_comma_hint": {
        "sv": " Decimalkomma i en kommaavgränsad fil? Avgränsa med semikolon eller sätt "
        "värdena inom citattecken.",
        "en": " A decimal comma in a comma-separated file? Separate with semicolons or quote "
        "the values.",
    },
    "cells_outside_header": {
        "sv": "Cellen {cell} ligger utanför rubrikradens kolumner och ignorerades.",
        "en": "The cell {cell} lies outside the header row's columns and was ignored.",
    },
    "formula_cell": {
        "sv": "Cellen {cell} innehåller en formel ({formula}). Klistra in värden i stället "
        "(Klistra in special → Värden).",
        "en": "The cell {cell} contains a formula ({formula}). Paste values instead (Paste "
        "special → Values).",
    },
    "formula_like": {
        "sv": "Cellen {cell} börjar med {char} och ser ut som en formel ({text}); sådana "
        "celler tas inte emot.",
        "en": "The cell {cell} starts with {char} and looks like a formula ({text}); such "
        "cells are not accepted.",
    },
    "missing_district": {"sv": "Området saknas.", "en": "The district is missing."},
    "unknown_district": {
        "sv": "Okänt område {name} (rad {where}) bland {division}. Närmast: {suggestions}.",
        "en": "Unknown area {name} (row {where}) among {division}. Closest: {suggestions}.",
    },
    "unknown_area": {
        "sv": "Okänt område {name} (rad {where}). Närmast: {suggestions}.",
        "en": "Unknown area {name} (row {where}). Closest: {suggestions}.",
    },
    "district_other_division": {
        "sv": "Området {name} (rad {where}) finns inte bland {division} som resten av filen "
        "använder, men bland {other}. Ladda upp en indelning åt gången.",
        "en": "The area {name} (row {where}) is not among the {division} that the rest of the "
        "file uses, but among the {other}. Upload one division at a time.",
    },
    "mojibake": {
        "sv": "Områdesnamnet {name} (rad {where}) ser ut att ha fel teckenkodning (menas "
        "{fixed}?). Spara filen som CSV UTF-8.",
        "en": "The area name {name} (row {where}) looks wrongly encoded ({fixed}?). Save the "
        "file as CSV UTF-8.",
    },
    "city_total": {
        "sv": "Raden gäller hela staden ({name}) och hoppades över.",
        "en": "The row is for the whole city ({name}) and was skipped.",
    },
    "missing_year": {"sv": "Året saknas.", "en": "The year is missing."},
    "bad_year": {
        "sv": "{value} är inte ett årtal (ett heltal som 2023).",
        "en": "{value} is not a year (a whole number like 2023).",
    },
    "year_range": {
        "sv": "Året {year} ligger utanför {lo}–{hi}.",
        "en": "The year {year} is outside {lo}–{hi}.",
    },
    "missing_value": {
        "sv": "Värdet saknas ({raw}) och lämnas ute.",
        "en": "The value is missing ({raw}) and is left out.",
    },
    "bad_value": {
        "sv": "{value} är inte ett tal.",
        "en": "{value} is not a number.",
    },
    "bad_sex": {
        "sv": "Okänt kön {value}. Använd totalt, kvinnor eller män.",
        "en": "Unknown sex {value}. Use total, women or men.",
    },
    "bad_division": {
        "sv": "Okänd indelning {value}. Använd {known}.",
        "en": "Unknown division {value}. Use {known}.",
    },
    "division_unavailable": {
        "sv": "Indelningen {division} går inte att använda här just nu.",
        "en": "The division {division} cannot be used here at the moment.",
    },
    "mixed_division": {
        "sv": "Filen blandar indelningar ({values}); ladda upp en indelning åt gången.",
        "en": "The file mixes divisions ({values}); upload one division at a time.",
    },
    "duplicate_row": {
        "sv": "Raden upprepar {district} {year} ({sex}) från rad {first}.",
        "en": "The row repeats {district} {year} ({sex}) from row {first}.",
    },
    "no_rows": {"sv": "Filen har inga datarader.", "en": "The file has no data rows."},
    "no_values": {
        "sv": "Filen har inga värden: alla saknas.",
        "en": "The file has no values: all are missing.",
    },
    "more_errors": {
        "sv": "Ytterligare {n} fel visas inte.",
        "en": "{n} more errors are not shown.",
    },
    "more_warnings": {
        "sv": "Ytterligare {n} varningar visas inte.",
        "en": "{n} more warnings are not shown.",
    },
    # form metadata
    "meta_required": {"sv": "Fyll i fältet.", "en": "Fill in the field."},
    "meta_too_long": {
        "sv": "Högst {limit} tecken.",
        "en": "At most {limit} characters.",
    },
    "meta_markup": {
        "sv": "Tecknen < och > är inte tillåtna.",
        "en": "The characters < and > are not allowed.",
    },
    "meta_formula": {
        "sv": "Får inte börja med =, +, - eller @.",
        "en": "Must not start with =, +, - or @.",
    },
    "meta_control": {
        "sv": "Innehåller otillåtna styrtecken.",
        "en": "Contains forbidden control characters.",
    },
    "meta_newline": {"sv": "Ska vara en enda rad.", "en": "Must be a single line."},
    "meta_choice": {"sv": "Välj ett av: {choices}.", "en": "Choose one of: {choices}."},
    "meta_int": {"sv": "Ange ett heltal.", "en": "Enter a whole number."},
    "meta_range": {
        "sv": "Ange ett heltal {lo}–{hi}.",
        "en": "Enter a whole number {lo}–{hi}.",
    },
    "meta_extra": {"sv": "Okänt fält.", "en": "Unknown field."},
    "meta_invalid": {"sv": "Ogiltigt värde.", "en": "Invalid value."},
}

ROLE_LABELS = {
    "district": {"sv": "område", "en": "district"},
    "year": {"sv": "år", "en": "year"},
    "value": {"sv": "värde", "en": "value"},
    "sex": {"sv": "kön", "en": "sex"},
    "division": {"sv": "indelning", "en": "division"},
}
SEX_LABELS = {
    "total": {"sv": "totalt", "en": "total"},
    "female": {"sv": "kvinnor", "en": "women"},
    "male": {"sv": "män", "en": "men"},
}


def _lang(lang: str | None) -> Lang:
    return "en" if lang == "en" else "sv"


class _Q(str):
    """A user's text in a message: quoted (and shortened) per language when rendered."""


class _Size(int):
    """A size in bytes in a message: formatted per language when rendered."""


def _quote(text: Any, lang: Lang) -> str:
    """A user's text quoted back, shortened and without control characters."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    if len(s) > MAX_CELL_ECHO:
        s = s[: MAX_CELL_ECHO - 1] + "…"
    return f"”{s}”" if lang == "sv" else f"“{s}”"


def _fmt_size(n: int, lang: Lang) -> str:
    text = f"{n / 1024 / 1024:.1f} MB" if n >= 100 * 1024 else f"{math.ceil(n / 1024)} kB"
    return text.replace(".", ",") if lang == "sv" else text


def _fmt_rows(rows: Iterable[int], limit: int = 8) -> str:
    rows = list(rows)
    text = ", ".join(str(r) for r in rows[:limit])
    return text + (", …" if len(rows) > limit else "")


def _show(value: Any, lang: Lang) -> Any:
    if isinstance(value, _Q):
        return _quote(value, lang)
    if isinstance(value, _Size):
        return _fmt_size(value, lang)
    if isinstance(value, dict) and lang in value:
        return value[lang]
    if isinstance(value, tuple):
        return ", ".join(str(_show(v, lang)) for v in value)
    return value


@dataclass(frozen=True)
class Problem:
    """One problem found in an upload.

    row: the row as the user sees it in the file (header = row 1 when it is the first line;
    in a CSV a record, as a spreadsheet shows it, so a quoted cell spanning two lines is one
    row); None for the whole file. rows: every row the problem concerns (an unknown name used in
    several rows is one problem). column: the column's header as written in the file. cell: a
    spreadsheet reference like "C7". severity "warning" does not stop an upload.
    """

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    severity: Literal["error", "warning"] = "error"
    rows: tuple[int, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def text(self, lang: str) -> str:
        """The message in another language (the UI's language may change after parsing)."""
        return _render(self.code, _lang(lang), self.params)


def _render(code: str, lang: Lang, params: Mapping[str, Any]) -> str:
    return MESSAGES[code][lang].format(**{k: _show(v, lang) for k, v in params.items()})


def _column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Detected:
    """What parse_upload found out about the file (also when it has errors)."""

    file_type: Literal["csv", "xlsx"] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    layout: Literal["long", "wide"] | None = None
    columns: dict[str, str] = field(default_factory=dict)  # role -> header as in the file
    ignored_columns: list[str] = field(default_factory=list)
    division: str | None = None
    division_source: Literal["parameter", "column", "detected"] | None = None
    n_rows: int = 0
    n_districts: int = 0
    years: list[int] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    unit_hint: str | None = None  # from a header like "Värde (%)" or values like "12 %"
    suggested_title: str | None = None
    suggested_decimals: int | None = None

    def division_label(self, lang: str) -> str | None:
        return DIVISION_LABELS[self.division][_lang(lang)] if self.division else None


@dataclass
class UploadResult:
    """`table` is set when the upload has no errors; problems may then hold warnings."""

    table: pd.DataFrame | None
    detected: Detected
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.table is not None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# --- the gazetteer: every known area name, one resolve function --------------------------------


@dataclass(frozen=True)
class AreaIndex:
    """Names and codes of one non-SDO division (RegSO, stadsdel, basområde)."""

    division: str
    names: dict[str, str]  # code -> display name, in order
    by_key: dict[str, str]  # normalised name or casefolded code -> code

    @classmethod
    def build(cls, division: str, pairs: Iterable[tuple[str, str]]) -> AreaIndex:
        names = {str(c): str(n) for c, n in pairs}
        by_key: dict[str, str] = {}
        seen: Counter[str] = Counter(_name_key(n) for n in names.values())
        for code, name in names.items():
            by_key[code.casefold()] = code
            if seen[_name_key(name)] == 1:  # an ambiguous name resolves only by its code
                by_key[_name_key(name)] = code
        return cls(division, names, by_key)


def _spaced(name: str) -> str:
    """Punctuation to spaces before geo.names.normalise, which drops non-ASCII dashes (en dash,
    U+2212) without a space: 'Hägersten–Liljeholmen' would become 'hagerstenliljeholmen'."""
    return re.sub(r"[^\w]+", " ", str(name))


def _name_key(name: str) -> str:
    key = normalise(_spaced(name))
    return re.sub(r"\bs t\b", "sankt", key)  # "S:t Göran" = "Sankt Göran"


class Gazetteer:
    """Known areas of each division an upload may use. SDO names come from geo.names."""

    def __init__(self, indexes: Mapping[str, AreaIndex] | None = None) -> None:
        self.indexes = dict(indexes or {})

    @property
    def divisions(self) -> tuple[str, ...]:
        have = set(SDO_DIVISIONS) | set(self.indexes)
        return tuple(d for d in DIVISION_PREFERENCE if d in have)

    def names(self, division: str) -> dict[str, str]:
        if division in DIVISION_CODES:
            return {c: DISTRICT_NAMES[c] for c in DIVISION_CODES[division]}
        return self.indexes[division].names

    def resolve(self, name: str, division: str) -> District | None:
        """The area `name` (any common spelling, or its code) denotes in `division`, or None."""
        text = str(name).strip()
        if not text or division not in self.divisions:
            return None
        if division in DIVISION_CODES:
            try:
                return resolve_district(_spaced(text), division)
            except UnknownDistrictError:
                # Genitive before a stripped suffix: "Östermalms stadsdelsområde".
                key = normalise(_spaced(text))
                if key.endswith("s") and len(key) > 3:
                    try:
                        return resolve_district(key[:-1], division)
                    except UnknownDistrictError:
                        return None
                return None
        index = self.indexes[division]
        code = index.by_key.get(text.casefold()) or index.by_key.get(_name_key(text))
        return District(division, code, index.names[code]) if code else None

    def suggest(self, name: str, divisions: Iterable[str], n: int = 3) -> list[str]:
        """The n known names closest to `name` (difflib on normalised names)."""
        choices: dict[str, str] = {}
        for d in divisions:
            for display in self.names(d).values():
                choices.setdefault(_name_key(display), display)
        keys = difflib.get_close_matches(_name_key(name), list(choices), n=n, cutoff=0.0)
        return [choices[k] for k in keys]


def _geojson_index(division: str, geo_dir: Path) -> AreaIndex | None:
    path = geo_dir / f"{division}.geojson"
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        return AreaIndex.build(division, ((f["id"], f["properties"]["name"]) for f in features))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("upload names: no %s names from %s (%s)", division, path, exc)
        return None


def _stadsdel_index() -> AreaIndex | None:
    """Stadsdel names from the registered boundary file, named as geo.boundaries names them."""
    try:
        import pyogrio

        from data.registry import Registry
        from geo.boundaries import STADSDEL_SOURCE, slug, stadsdel_name

        path = Registry().file(STADSDEL_SOURCE, "stadsdelar.shp")
        raw = pyogrio.read_dataframe(path, read_geometry=False, columns=["name"], encoding="latin1")
        names = [stadsdel_name(n) for n in raw["name"]]
        return AreaIndex.build("stadsdel", sorted((slug(n), n) for n in names))
    except Exception as exc:  # no raw data on this machine: uploads just lack stadsdelar
        log.warning("upload names: no stadsdel names (%s)", exc)
        return None


def load_gazetteer(geo_dir: Path = BUILD_GEO_DIR, stadsdelar: bool = True) -> Gazetteer:
    indexes = {}
    for division in ("regso", "basomrade"):
        index = _geojson_index(division, geo_dir)
        if index is not None:
            indexes[division] = index
    if stadsdelar:
        index = _stadsdel_index()
        if index is not None:
            indexes["stadsdel"] = index
    return Gazetteer(indexes)


@cache
def default_gazetteer() -> Gazetteer:
    """Loaded once per process (the built geojson names and the stadsdel file)."""
    return load_gazetteer()


def resolve_area(name: str, division: str, gazetteer: Gazetteer | None = None) -> District | None:
    """THE name resolver for uploads: any spelling or code of an area in `division`, or None."""
    return (gazetteer or default_gazetteer()).resolve(name, division)


# --- column headers ---------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _header_key(text: str) -> str:
    """Accent-, case- and punctuation-free key of a header or a short label; '(...)' dropped."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", text).split())


_ROLE_HEADERS: dict[str, tuple[str, ...]] = {
    "district": (
        "district", "districts", "district name", "district code", "area", "area name",
        "area code", "omrade", "omraden", "omradesnamn", "omrade namn", "omradeskod",
        "stadsdel", "stadsdelar", "stadsdelsnamn", "stadsdelsomrade", "stadsdelsomraden",
        "stadsdelsomradesnamn", "stadsdelsnamnd", "stadsdelsnamnder", "stadsdelsnamndsomrade",
        "sdo", "sdn", "sdf", "regso", "regsonamn", "regso namn", "regsokod", "regso kod",
        "regso code", "regso name", "basomrade", "basomraden", "basomradesnamn",
        "basomradeskod", "baskod", "baskod2010", "basn2010", "geografi", "geography",
        "region", "namn", "name", "kod", "code", "neighbourhood", "neighborhood", "borough",
    ),
    "year": ("year", "years", "ar", "artal", "period", "tid", "time", "yr", "statistikar"),
    "value": (
        "value", "values", "varde", "varden", "val", "andel", "antal", "procent", "percent",
        "percentage", "%", "share", "count", "number", "amount", "belopp", "matt", "measure",
        "rate", "kvot", "ratio", "indikator", "indicator", "indicator value", "estimate",
    ),
    "sex": ("sex", "kon", "gender", "genus"),
    "division": (
        "division", "indelning", "omradesindelning", "omradestyp", "area type", "level", "niva",
        "geographic level", "division code",
    ),
}
HEADER_ROLES = {k: role for role, keys in _ROLE_HEADERS.items() for k in keys}
SHOWN_HEADERS = {
    "district": "område, stadsdelsområde, stadsdel, regso, basområde, district, area",
    "year": "år, year",
    "value": "värde, andel, antal, value",
    "sex": "kön, sex",
    "division": "indelning, division",
}
# A header that says which division its names are in.
_HEADER_DIVISION_HINT = (
    (re.compile(r"^regso"), ("regso",)),
    (re.compile(r"^bas"), ("basomrade",)),
    (re.compile(r"^(stadsdelsomr|stadsdelsnamnd|sdo|sdn|sdf)"), ("sdo11", "sdo13", "sdo14")),
)


def _year_header(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{4}(\.0+)?\s*", value):
        year = int(float(value))
    else:
        return None
    return year if YEAR_MIN <= year <= YEAR_MAX else None


# --- cell values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """An XLSX formula cell (refused)."""

    text: str


_MISSING = {"", ".", "..", "...", "…", "-", "–", "—", "−", "x", "na", "n/a", "nan"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACE_CHARS = " \u00a0\u202f\u2009\u2007\u2008\u200a"
_MINUS_CHARS = "-\u2212\u2013\u2012\ufe63\uff0d"
_NUM_PLAIN = re.compile(r"[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+")
_NUM_SPACED = re.compile(rf"[0-9]{{1,3}}(?:[{_SPACE_CHARS}][0-9]{{3}})+(?:[.,][0-9]+)?")
_NUM_DOT_GROUPS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[0-9]{1,3}(?:\.[0-9]{3}){2,}")
_NUM_COMMA_GROUPS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+|[0-9]{1,3}(?:,[0-9]{3}){2,}")
_NUM_EXP = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]{1,3}")


def parse_number(text: str) -> float | None:
    """A number as people write it, or None.

    '12,5' and '12.5' are 12.5 (one comma is a Swedish decimal comma, so '1,234' is 1.234);
    '12 345,6' (space, no-break or narrow no-break space groups), '1.234.567', '1.234,5',
    '1,234.5', '1,5E+03', '−3' (U+2212) and a trailing '%' ('12,5 %' is 12.5) are understood.
    Infinity, NaN and anything else are not numbers.
    """
    s = str(text).strip()
    if s.endswith("%"):
        s = s[:-1].rstrip()
    negative = False
    if s[:1] and (s[0] in _MINUS_CHARS or s[0] == "+"):
        negative = s[0] in _MINUS_CHARS
        s = s[1:].lstrip()
    if not s:
        return None
    if _NUM_SPACED.fullmatch(s):
        s = "".join(ch for ch in s if ch not in _SPACE_CHARS).replace(",", ".")
    elif _NUM_PLAIN.fullmatch(s) or _NUM_EXP.fullmatch(s):
        s = s.replace(",", ".")
    elif _NUM_DOT_GROUPS.fullmatch(s):
        s = s.replace(".", "").replace(",", ".")
    elif _NUM_COMMA_GROUPS.fullmatch(s):
        s = s.replace(",", "")
    else:
        return None
    try:
        value = float(s)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return -value if negative else value


@lru_cache(maxsize=1024)
def _year_number(text: str) -> float | None:
    return parse_number(text) if "%" not in text else None


def _decimals_of(raw: Any) -> int:
    if isinstance(raw, str):
        m = re.search(r"[.,]([0-9]+)\s*%?\s*$", raw.strip())
        return len(m.group(1)) if m and not re.search(r"[eE]", raw) else 0
    if isinstance(raw, float) and not raw.is_integer():
        return len(f"{raw:.6f}".rstrip("0").split(".")[1])
    return 0


def _text(value: Any) -> str:
    """A cell as text for names, sexes and divisions."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().casefold() in _MISSING)


def _looks_like_formula(value: Any) -> bool:
    return (
        isinstance(value, str)
        and (value.startswith(("\t", "\r")) or value.lstrip().startswith(_FORMULA_START))
        and not _is_missing(value)
        and parse_number(value) is None
    )


_SEX_VALUES = {
    "total": "total", "totalt": "total", "tot": "total", "alla": "total", "samtliga": "total",
    "bada": "total", "bada konen": "total", "both": "total", "both sexes": "total",
    "all": "total", "t": "total", "kvinnor": "female", "kvinna": "female", "k": "female",
    "flickor": "female", "female": "female", "females": "female", "f": "female",
    "woman": "female", "women": "female", "girls": "female", "kv": "female",
    "man": "male", "men": "male", "male": "male", "males": "male", "m": "male",
    "pojkar": "male", "boys": "male",
}
_DIVISION_VALUES = {
    "sdo11": "sdo11", "sdo13": "sdo13", "sdo14": "sdo14", "regso": "regso",
    "basomrade": "basomrade", "basomraden": "basomrade", "stadsdel": "stadsdel",
    "stadsdelar": "stadsdel",
}
_CITY_TOTALS = {
    "stockholm", "stockholms stad", "stockholms kommun", "stockholm stad", "stockholm kommun",
    "totalt", "total", "summa", "hela staden", "hela stockholm", "samtliga", "staden",
    "stockholm totalt", "stockholms stad totalt", "hela stockholms stad", "city total",
}


def division_from_text(text: Any) -> str | None:
    """'sdo11', 'SDO 11', 'RegSO', 'basområden', 'stadsdelar' -> division code, or None."""
    return _DIVISION_VALUES.get(_header_key(_text(text)).replace(" ", ""))


def _fix_mojibake(text: str) -> str | None:
    """'SpÃ¥nga' (UTF-8 read as Windows-1252) -> 'Spånga', or None."""
    if not re.search("[ÃÂ][\u0080-\u00ff\u0152-\u2122]", text):
        return None
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return None


# --- reading files into rows of cells ---------------------------------------------------------


class _Fatal(Exception):
    """A problem that stops reading the file."""

    def __init__(self, code: str, row: int | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code, self.row, self.params = code, row, params


Rows = list[tuple[int, list[Any]]]  # (row number as the user sees it, cells)

_OK_NON_ASCII = set("\u00a0\u202f–—−…’‘“”´`€£§°±×÷·«»½¼¾²³µ©®™•¨¬¯¸¹ªº¿¡¦")


def _decode(content: bytes) -> tuple[str, str]:
    """(text, encoding) or _Fatal('wrong_encoding')."""
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, encoding in boms:
        if content.startswith(bom):
            try:
                return content.decode(encoding), encoding
            except UnicodeDecodeError:
                raise _Fatal("wrong_encoding", detail=encoding.upper()) from None
    if b"\x00" in content:
        half = max(len(content) // 2, 1)
        even, odd = content[0::2].count(0), content[1::2].count(0)
        encoding = (
            "utf-16-le" if even == 0 and odd > 0.3 * half
            else "utf-16-be" if odd == 0 and even > 0.3 * half
            else None
        )
        if encoding and len(content) % 2 == 0:
            try:
                return content.decode(encoding), encoding
            except UnicodeDecodeError:
                pass
        raise _Fatal("wrong_encoding", detail="NUL")
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("cp1252")
    except UnicodeDecodeError:
        raise _Fatal("wrong_encoding", detail="UTF-8/Windows-1252") from None
    if any(ord(ch) > 127 and not ch.isalpha() and ch not in _OK_NON_ASCII for ch in text):
        raise _Fatal("wrong_encoding", detail="UTF-8/Windows-1252")
    return text, "cp1252"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0].strip()
    m = re.fullmatch(r"sep=(.)", first)
    if m and m.group(1) in ",;\t":
        return m.group(1)

    def score(delim: str) -> tuple:
        try:
            rows = list(islice(csv.reader(io.StringIO(text, newline=""), delimiter=delim), 30))
        except csv.Error:
            return (False, 0, 0, 0)
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        if not widths:
            return (False, 0, 0, 0)
        width, consistent = Counter(widths).most_common(1)[0]
        return (width > 1, consistent, width, ";\t,".index(delim) * -1)

    return max(";\t,", key=score)


def _read_csv(content: bytes, detected: Detected) -> Rows:
    text, encoding = _decode(content)
    detected.file_type, detected.encoding = "csv", encoding
    if _CONTROL.search(text):
        raise _Fatal("wrong_encoding", detail="control characters")
    if re.fullmatch(r"[\s,;]*", text):
        raise _Fatal("empty_file")
    delim = _sniff_delimiter(text)
    detected.delimiter = delim
    sep_line = re.fullmatch(r"sep=.", text.split("\n", 1)[0].strip()) is not None
    rows: Rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _Fatal("too_many_rows", limit=MAX_ROWS)
            _check_width(cells, number)
            rows.append((number, cells))
    except csv.Error as exc:
        raise _Fatal("csv_error", row=number + 1, detail=str(exc)[:100]) from None
    if sep_line:  # Excel's "sep=;" line is not data
        rows = rows[1:]
    return rows


def _check_width(cells: list[Any], number: int) -> None:
    if len(cells) > MAX_COLUMNS:
        used = max((i for i, c in enumerate(cells) if not _is_blank(c)), default=-1) + 1
        if used > MAX_COLUMNS:
            raise _Fatal("too_many_columns", row=number, n=used, limit=MAX_COLUMNS)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_zip(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _Fatal("not_xlsx") from None
    if len(infos) > XLSX_MAX_MEMBERS:
        raise _Fatal("xlsx_members", n=len(infos), limit=XLSX_MAX_MEMBERS)
    if any(i.filename.casefold().endswith("vbaproject.bin") for i in infos):
        raise _Fatal("macro_file")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise _Fatal("xlsx_too_big", size=_Size(total), limit=_Size(XLSX_MAX_UNCOMPRESSED))
    ratio = total / max(packed, 1)
    if ratio > XLSX_MAX_RATIO:
        raise _Fatal("xlsx_ratio", ratio=round(ratio), limit=XLSX_MAX_RATIO)


def _read_xlsx(content: bytes, detected: Detected) -> tuple[Rows, list[str]]:
    """Rows of the first sheet with a recognisable header (else the first sheet)."""
    _check_zip(content)
    detected.file_type = "xlsx"
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=False, keep_links=False
            )
    except Exception:  # openpyxl raises many kinds on a broken file; all mean "not xlsx"
        raise _Fatal("not_xlsx") from None
    try:
        sheets = [ws for ws in wb.worksheets if isinstance(ws, ReadOnlyWorksheet)]
        if not sheets:
            raise _Fatal("no_sheet")
        chosen = sheets[0]
        for ws in sheets:
            if _find_header(_sheet_rows(ws, HEADER_SEARCH_ROWS))[0] is not None:
                chosen = ws
                break
        rows = _sheet_rows(chosen, MAX_ROWS + HEADER_SEARCH_ROWS + 1)
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise _Fatal("too_many_rows", limit=MAX_ROWS)
        detected.sheet = chosen.title
        others = [
            ws.title for ws in sheets
            if ws is not chosen and any(any(not _is_blank(c) for c in r) for _, r in
                                        _sheet_rows(ws, 5))
        ]
        return rows, others
    except _Fatal:
        raise
    except Exception:
        raise _Fatal("not_xlsx") from None
    finally:
        wb.close()


def _sheet_rows(ws: Any, max_row: int) -> Rows:
    """(row number, values) of a sheet, cut at MAX_COLUMNS + 1 columns.

    max_col bounds every row (a lone cell in column XFD would otherwise make a 16 384-wide
    row). The workbook is read with data_only=False, so a formula cell's value is its text
    ('=B2*2') or an ArrayFormula/DataTableFormula: it becomes a Formula, which is refused.
    """
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    rows: Rows = []
    for number, cells in enumerate(
        ws.iter_rows(min_row=1, max_row=max_row, max_col=MAX_COLUMNS + 1, values_only=True),
        start=1,
    ):
        end = len(cells)
        while end and _is_blank(cells[end - 1]):
            end -= 1
        values = [
            Formula(v) if isinstance(v, str) and v.startswith("=")
            else Formula(str(getattr(v, "text", None) or "=")) if isinstance(
                v, ArrayFormula | DataTableFormula)
            else v
            for v in cells[:end]
        ]
        _check_width(values, number)
        rows.append((number, values))
    while rows and not rows[-1][1]:
        rows.pop()
    return rows


def _file_kind(filename: str, content: bytes) -> str:
    ext = Path(str(filename or "")).suffix.casefold()
    if ext in (".xlsm", ".xltm", ".xlam", ".xlsb"):
        raise _Fatal("macro_file" if ext != ".xlsb" else "unsupported_type", ext=ext)
    if content.startswith(b"\xd0\xcf\x11\xe0"):  # OLE: .xls, or an encrypted .xlsx
        raise _Fatal("old_excel")
    if ext == ".xls":
        raise _Fatal("old_excel")
    if content.startswith(b"PK\x03\x04") or content.startswith(b"PK\x05\x06"):
        if ext in ("", ".xlsx", ".xltx", ".csv", ".txt", ".tsv"):
            return "xlsx"
        raise _Fatal("unsupported_type", ext=ext)
    if ext in (".xlsx", ".xltx"):
        raise _Fatal("not_xlsx")
    if ext in ("", ".csv", ".txt", ".tsv", ".tab"):
        return "csv"
    raise _Fatal("unsupported_type", ext=ext or "?")


# --- header ------------------------------------------------------------------------------------


@dataclass
class _Header:
    row: int
    cells: list[Any]
    roles: dict[str, list[int]]  # role -> column indexes
    years: dict[int, int]  # column index -> year (wide layout)


def _find_header(rows: Rows) -> tuple[_Header | None, _Header | None]:
    """(a full header, the best partial one) among the first rows."""
    best: _Header | None = None
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        roles: dict[str, list[int]] = defaultdict(list)
        years: dict[int, int] = {}
        for i, cell in enumerate(cells):
            if isinstance(cell, Formula) or _is_blank(cell):
                continue
            year = _year_header(cell)
            if year is not None:
                years[i] = year
                continue
            role = HEADER_ROLES.get(_header_key(_text(cell)))
            if role:
                roles[role].append(i)
        header = _Header(number, cells, dict(roles), years)
        long_ok = {"district", "year", "value"} <= roles.keys()
        wide_ok = "district" in roles and years and not ({"year", "value"} & roles.keys())
        if long_ok or wide_ok:
            return header, header
        if roles and (best is None or len(roles) > len(best.roles)):
            best = header
    return None, best


# --- metadata from the form -------------------------------------------------------------------

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _clean_text(value: str, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if "<" in value or ">" in value:
        raise PydanticCustomError("meta_markup", "markup is not allowed")
    if not multiline and ("\n" in value or "\r" in value):
        raise PydanticCustomError("meta_newline", "must be one line")
    if any(
        unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value
    ) or _BIDI.search(value):
        raise PydanticCustomError("meta_control", "control characters are not allowed")
    if value.startswith(("=", "+", "-", "@")):
        raise PydanticCustomError("meta_formula", "must not start like a formula")
    return value


class UploadMeta(BaseModel):
    """What the analyst says about the uploaded indicator.

    Markup is *rejected*, not escaped: titles are shown both by Dash components (which escape
    text themselves, so an escaped '&lt;' would show literally) and inside Plotly figures
    (which interpret a subset of HTML such as <b>, <br> and <a href>). Escaping right for one
    is wrong for the other; a title needs no '<' or '>', so they are refused with a message.
    Text starting like a formula (= + - @) is refused for the same reason as formula cells:
    these texts go into CSV/Excel downloads.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=120)
    unit: str = Field(min_length=1, max_length=40)
    direction: Literal["higher_is_better", "lower_is_better", "neutral"] = "neutral"
    decimals: int = Field(default=1, ge=0, le=4)
    description: str = Field(default="", max_length=1000)
    source: str = Field(default="", max_length=300)
    # The catalog area the upload is listed under on the pages (indicators.catalog.AREAS; the
    # pages fall back to the last area for an empty or unknown one).
    area: str = Field(default="", max_length=20, pattern=r"^[a-z]*$")

    @field_validator("title", "unit", "source", mode="before")
    @classmethod
    def _one_line(cls, v: Any) -> Any:
        return _clean_text(v) if isinstance(v, str) else v

    @field_validator("description", mode="before")
    @classmethod
    def _many_lines(cls, v: Any) -> Any:
        return _clean_text(v, multiline=True) if isinstance(v, str) else v

    @field_validator("decimals", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise PydanticCustomError("meta_int", "not a whole number")
        return v


_DIRECTIONS = {
    "sv": "högre är bättre, lägre är bättre, neutral",
    "en": "higher is better, lower is better, neutral",
}


def validate_meta(
    data: Mapping[str, Any], lang: str = "sv"
) -> tuple[UploadMeta | None, list[Problem]]:
    """UploadMeta from form data, or the problems per field (Problem.column = field name)."""
    lang = _lang(lang)
    try:
        return UploadMeta.model_validate(dict(data or {})), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            fieldname = str(err["loc"][0]) if err["loc"] else None
            kind = err["type"]
            ctx = err.get("ctx") or {}
            if kind in ("missing", "string_too_short"):
                code, params = "meta_required", {}
            elif kind == "string_too_long":
                code, params = "meta_too_long", {"limit": ctx.get("max_length")}
            elif kind.startswith("meta_"):
                code, params = kind, {}
            elif kind == "literal_error":
                code, params = "meta_choice", {"choices": _DIRECTIONS}
            elif kind in ("greater_than_equal", "less_than_equal"):
                code, params = "meta_range", {"lo": 0, "hi": 4}
            elif kind.startswith("int_"):
                code, params = "meta_int", {}
            elif kind == "extra_forbidden":
                code, params = "meta_extra", {}
            else:
                code, params = "meta_invalid", {}
            problems.append(
                Problem(code, _render(code, lang, params), column=fieldname, params=params)
            )
        return None, problems


# --- the parser -------------------------------------------------------------------------------


def parse_upload(
    filename: str,
    content: bytes,
    lang: str = "sv",
    division: str | None = None,
    gazetteer: Gazetteer | None = None,
) -> UploadResult:
    """Read an uploaded CSV or XLSX into a tidy table, or list every problem found.

    `division` forces the division (else a division column, else detection: the first of
    DIVISION_PREFERENCE in which every name resolves). Never raises for anything in the file.
    """
    lang = _lang(lang)
    parser = _Parser(filename, content, lang, division, gazetteer)
    try:
        return parser.run()
    except Exception:  # a bug of ours must not become a traceback in the app
        log.exception("parse_upload failed on %r", str(filename)[:200])
        problem = Problem("internal_error", _render("internal_error", lang, {}))
        return UploadResult(None, parser.detected, [problem])


def parse_dash_upload(
    filename: str, contents: str, lang: str = "sv", **kwargs: Any
) -> UploadResult:
    """parse_upload for dcc.Upload's 'data:<type>;base64,<data>' string; the size is checked
    on the encoded length, before decoding."""
    import base64
    import binascii

    lang = _lang(lang)
    data = str(contents or "")
    payload = data.split(",", 1)[1] if data.startswith("data:") and "," in data else data
    approx = len(payload) * 3 // 4
    if approx > MAX_BYTES + 3:
        params = {"size": _Size(approx), "limit": _Size(MAX_BYTES)}
        problem = Problem("file_too_large", _render("file_too_large", lang, params), params=params)
        return UploadResult(None, Detected(), [problem])
    try:
        content = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        params = {"detail": "base64"}
        problem = Problem("wrong_encoding", _render("wrong_encoding", lang, params), params=params)
        return UploadResult(None, Detected(), [problem])
    return parse_upload(filename, content, lang, **kwargs)


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return out if math.isfinite(out) else None


@dataclass
class _Obs:
    row: int
    column: str
    district: str
    year: int | None
    sex: str
    value: float | None


class _Parser:
    def __init__(self, filename, content, lang: Lang, division, gazetteer) -> None:
        self.filename = str(filename or "")[:255]
        self.content = content
        self.lang = lang
        self.division_param = division
        self.gazetteer = gazetteer
        self.detected = Detected()
        self.problems: list[Problem] = []
        self.skip_rows: set[int] = set()  # rows kept out of the table
        self.no_name_rows: set[int] = set()  # rows whose district is not looked up
        self.resolved: dict[str, District | None] = {}

    @property
    def gaz(self) -> Gazetteer:
        return self.gazetteer or default_gazetteer()

    # -- problems --
    def add(
        self,
        code: str,
        row: int | None = None,
        col: int | None = None,
        column: str | None = None,
        severity: Literal["error", "warning"] = "error",
        rows: Iterable[int] = (),
        **params: Any,
    ) -> None:
        cell = f"{_column_letter(col)}{row}" if col is not None and row is not None else None
        params.setdefault("cell", cell)
        self.problems.append(
            Problem(
                code,
                _render(code, self.lang, params),
                row=row,
                column=column,
                cell=cell,
                severity=severity,
                rows=tuple(rows) or ((row,) if row is not None else ()),
                params=params,
            )
        )

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    # -- main --
    def run(self) -> UploadResult:
        try:
            rows, other_sheets = self._read()
        except _Fatal as fatal:
            self.add(fatal.code, row=fatal.row, **fatal.params)
            return self._result(None)
        if not any(any(not _is_blank(c) for c in cells) for _, cells in rows):
            self.add("empty_file")
            return self._result(None)
        if other_sheets:
            self.add("other_sheets", severity="warning", sheet=_Q(self.detected.sheet or ""),
                     others=tuple(_Q(s) for s in other_sheets[:5]))
        return self._result(self._parse_rows(rows))

    def _read(self) -> tuple[Rows, list[str]]:
        content = self.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        content = bytes(content)
        if len(content) > MAX_BYTES:
            raise _Fatal("file_too_large", size=_Size(len(content)), limit=_Size(MAX_BYTES))
        if not content.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
            raise _Fatal("empty_file")
        if _file_kind(self.filename, content) == "xlsx":
            return _read_xlsx(content, self.detected)
        return _read_csv(content, self.detected), []

    def _result(self, table: pd.DataFrame | None) -> UploadResult:
        if table is None and not self.has_errors():
            self.add("no_values")
        errors = [p for p in self.problems if p.severity == "error"]
        warns = [p for p in self.problems if p.severity == "warning"]

        def order(p: Problem) -> tuple:
            return (p.row is not None, p.row or 0, len(p.cell or ""), p.cell or "")

        errors.sort(key=order)
        warns.sort(key=order)
        if len(errors) > MAX_ERRORS:
            params = {"n": len(errors) - MAX_ERRORS}
            errors = errors[:MAX_ERRORS]
            errors.append(
                Problem("more_errors", _render("more_errors", self.lang, params), params=params)
            )
        if len(warns) > MAX_WARNINGS:
            params = {"n": len(warns) - MAX_WARNINGS}
            warns = warns[:MAX_WARNINGS]
            warns.append(Problem("more_warnings", _render("more_warnings", self.lang, params),
                                 severity="warning", params=params))
        return UploadResult(None if errors else table, self.detected, errors + warns)

    # -- header --
    def _parse_rows(self, rows: Rows) -> pd.DataFrame | None:
        header, partial = _find_header(rows)
        if header is None:
            if partial is None:
                single = all(len(c) <= 1 for _, c in rows[:HEADER_SEARCH_ROWS])
                hint = MESSAGES["single_column_hint"] if single else ""
                self.add("no_header", row=1, n=HEADER_SEARCH_ROWS,
                         district=SHOWN_HEADERS["district"], year=SHOWN_HEADERS["year"],
                         value=SHOWN_HEADERS["value"], hint=hint)
                return None
            header = partial
        det = self.detected
        det.header_row = header.row
        wide = bool(header.years) and not ({"year", "value"} & header.roles.keys())
        det.layout = "wide" if wide else "long"
        names = [_text(c) if not isinstance(c, Formula) else "" for c in header.cells]
        if any(n < header.row and any(not _is_blank(c) for c in cells) for n, cells in rows):
            self.add("rows_above_header", severity="warning", header=header.row)

        cols: dict[str, int] = {}
        for role, idxs in header.roles.items():
            cols[role] = idxs[0]
            det.columns[role] = names[idxs[0]]
            for extra in idxs[1:]:
                self.add("duplicate_column", row=header.row, col=extra, column=names[extra],
                         a=_Q(names[idxs[0]]), b=_Q(names[extra]), role=ROLE_LABELS[role])
        for role in ("district",) if wide else ("district", "year", "value"):
            if role not in cols:
                self.add("missing_column", row=header.row, role=ROLE_LABELS[role],
                         names=SHOWN_HEADERS[role])
        used = set(cols.values()) | (set(header.years) if wide else set())
        for i, name in enumerate(names):
            if i not in used and name:
                det.ignored_columns.append(name)
                self.add("ignored_column", row=header.row, col=i, column=name,
                         severity="warning", name=_Q(name))
        if "value" in cols:
            m = re.search(r"\((.*?)\)|\[(.*?)\]", names[cols["value"]])
            if m:
                det.unit_hint = (m.group(1) or m.group(2) or "").strip()[:40] or None
        self._check_formulas(rows, header, used)

        data = [(n, c) for n, c in rows if n > header.row and any(not _is_blank(x) for x in c)]
        if len(data) > MAX_ROWS:
            self.add("too_many_rows", limit=MAX_ROWS)
            return None
        if not data:
            self.add("no_rows")
            return None
        obs = self._observations(data, header, cols, names, used)
        division = self._division(data, cols, names)
        if division is None:
            return None
        return self._table(obs, division, names, cols)

    def _check_formulas(self, rows: Rows, header: _Header, used: set[int]) -> None:
        """Formula cells (XLSX) in the header or the used columns are refused, by cell."""
        names = header.cells
        for number, cells in rows:
            if number < header.row:
                continue
            for i, cell in enumerate(cells):
                if isinstance(cell, Formula) and (number == header.row or i in used):
                    column = _text(names[i]) if i < len(names) and number > header.row else None
                    self.add("formula_cell", row=number, col=i, column=column,
                             formula=_Q(cell.text))
                    self.skip_rows.add(number)
                    self.no_name_rows.add(number)

    # -- rows --
    def _observations(
        self, data: Rows, header: _Header, cols: dict[str, int], names: list[str], used: set
    ) -> list[_Obs]:
        det = self.detected
        width = len(header.cells)
        obs: list[_Obs] = []
        percent = False
        decimals = 0
        d_col, s_col, y_col, v_col = (cols.get(r) for r in ("district", "sex", "year", "value"))
        text_cols = [
            (role, cols[role]) for role in ("district", "sex", "division", "year") if role in cols
        ]
        wide_years = sorted(header.years.items()) if det.layout == "wide" else []
        pad = [None] * (max([width, *used], default=0) + 1)
        for number, cells in data:
            if len(cells) > width and any(not _is_blank(c) for c in cells[width:]):
                if det.file_type == "csv":
                    hint = (
                        MESSAGES["decimal_comma_hint"]
                        if det.delimiter == "," and len(cells) == width + 1 else ""
                    )
                    self.add("ragged_row", row=number, n=len(cells), m=width, hint=hint)
                    self.skip_rows.add(number)
                    self.no_name_rows.add(number)
                    continue
                for i in range(width, len(cells)):
                    if not _is_blank(cells[i]):
                        self.add("cells_outside_header", row=number, col=i, severity="warning")
            if number in self.skip_rows:  # a formula cell, reported by _check_formulas
                continue
            if len(cells) < len(pad):
                cells = [*cells, *pad[len(cells):]]

            bad = False
            for role, i in text_cols:
                v = cells[i]
                if _looks_like_formula(v):
                    self.add("formula_like", row=number, col=i, column=names[i],
                             char=_Q(v.strip()[:1] or v[:1]), text=_Q(v))
                    bad = True
                    if role == "district":
                        self.no_name_rows.add(number)
            district = ""
            if d_col is not None:
                district = _text(cells[d_col])
                if _is_missing(cells[d_col]):
                    self.add("missing_district", row=number, col=d_col, column=names[d_col])
                    self.no_name_rows.add(number)
                    bad = True
                elif number not in self.no_name_rows and _header_key(district) in _CITY_TOTALS:
                    self.add("city_total", row=number, col=d_col, column=names[d_col],
                             severity="warning", name=_Q(district))
                    self.skip_rows.add(number)
                    self.no_name_rows.add(number)
                    continue
            sex = "total"
            if s_col is not None and not _is_missing(cells[s_col]):
                raw_sex = _text(cells[s_col])
                sex = _SEX_VALUES.get(_header_key(raw_sex), "")
                if not sex and not _looks_like_formula(cells[s_col]):
                    self.add("bad_sex", row=number, col=s_col, column=names[s_col],
                             value=_Q(raw_sex))
                    bad = True
            if wide_years:
                year_cells = [(i, y, cells[i]) for i, y in wide_years]
            else:
                year = self._year(cells[y_col] if y_col is not None else None, number, y_col,
                                  names)
                bad = bad or year is None
                year_cells = [(v_col, year, cells[v_col] if v_col is not None else None)]
            if bad or d_col is None:
                self.skip_rows.add(number)
            for i, year, raw in year_cells:
                if i is None:
                    continue
                value = self._value(raw, number, i, names[i], quiet=bad)
                if value is not None and len(obs) < 5000:  # a sample suggests the decimals
                    decimals = max(decimals, _decimals_of(raw))
                    percent = percent or (isinstance(raw, str) and raw.rstrip().endswith("%"))
                if not bad and d_col is not None:
                    obs.append(_Obs(number, names[i], district, year, sex, value))
        if percent and not det.unit_hint:
            det.unit_hint = "%"
        det.suggested_decimals = min(decimals, 4)
        det.suggested_title = _clean_title(Path(self.filename).stem.replace("_", " "))
        return obs

    def _year(self, raw: Any, number: int, i: int | None, names: list[str]) -> int | None:
        if i is None:
            return None
        column = names[i]
        if _is_missing(raw):
            self.add("missing_year", row=number, col=i, column=column)
            return None
        if _looks_like_formula(raw):
            return None  # reported as formula_like
        year: float | None
        if isinstance(raw, bool | datetime | date | time | timedelta):
            year = None
        elif isinstance(raw, int | float):
            year = _finite(raw)
        else:
            year = _year_number(_text(raw))
        if year is None or not year.is_integer():
            self.add("bad_year", row=number, col=i, column=column, value=_Q(_text(raw)))
            return None
        if not YEAR_MIN <= year <= YEAR_MAX:
            self.add("year_range", row=number, col=i, column=column, year=int(year),
                     lo=YEAR_MIN, hi=YEAR_MAX)
            return None
        return int(year)

    def _value(self, raw: Any, number: int, i: int, column: str, quiet: bool) -> float | None:
        """The number in a value cell; None when missing (a warning) or bad (an error)."""
        if _is_missing(raw):
            if not quiet:
                shown = _Q(_text(raw)) if _text(raw) else {"sv": "tom cell", "en": "empty cell"}
                self.add("missing_value", row=number, col=i, column=column, severity="warning",
                         raw=shown)
            return None
        value: float | None
        if isinstance(raw, bool | datetime | date | time | timedelta):
            value = None
        elif isinstance(raw, int | float):
            value = _finite(raw)
        else:
            value = parse_number(_text(raw))
        if value is None:
            if _looks_like_formula(raw):
                self.add("formula_like", row=number, col=i, column=column,
                         char=_Q(str(raw).strip()[:1]), text=_Q(raw))
            else:
                self.add("bad_value", row=number, col=i, column=column, value=_Q(_text(raw)))
            self.skip_rows.add(number)
        return value

    # -- division and names --
    def _division(self, data: Rows, cols: dict[str, int], names: list[str]) -> str | None:
        det = self.detected
        gaz = self.gaz
        available = gaz.divisions
        known = ", ".join(available)
        forced: str | None = None
        if self.division_param:
            forced = division_from_text(self.division_param)
            if forced is None:
                self.add("bad_division", value=_Q(self.division_param), known=known)
                return None
            det.division_source = "parameter"
        elif "division" in cols:
            i = cols["division"]
            seen: dict[str, list[int]] = defaultdict(list)
            for number, cells in data:
                v = cells[i] if i < len(cells) else None
                if _is_missing(v) or _looks_like_formula(v) or isinstance(v, Formula):
                    continue
                d = division_from_text(v)
                if d is None:
                    self.add("bad_division", row=number, col=i, column=names[i],
                             value=_Q(_text(v)), known=known)
                else:
                    seen[d].append(number)
            if len(seen) > 1:
                self.add("mixed_division", row=min(r[0] for r in seen.values()),
                         column=names[i], rows=sorted(r[0] for r in seen.values()),
                         values=", ".join(sorted(seen)))
                return None
            if seen:
                forced = next(iter(seen))
                det.division_source = "column"
        if forced is not None and forced not in available:
            self.add("division_unavailable", division=DIVISION_LABELS[forced])
            return None
        det.division = forced

        d_col = cols.get("district")
        if d_col is None:
            return None
        rows_by_name: dict[str, list[int]] = defaultdict(list)
        for number, cells in data:
            if number not in self.no_name_rows:
                rows_by_name[_text(cells[d_col] if d_col < len(cells) else None)].append(number)
        if not rows_by_name:
            return forced

        candidates = [forced] if forced else self._candidates(available, names[d_col])
        resolved = {d: {n for n in rows_by_name if gaz.resolve(n, d)} for d in candidates}
        full = [d for d in candidates if len(resolved[d]) == len(rows_by_name)]
        division = full[0] if full else max(candidates, key=lambda d: len(resolved[d]))
        any_resolved = bool(resolved[division])
        if any_resolved or forced:
            det.division = division
            det.division_source = det.division_source or "detected"
        self.resolved = {n: gaz.resolve(n, division) for n in rows_by_name}
        for name, numbers in rows_by_name.items():
            if self.resolved[name] is None:
                self._unknown_name(name, numbers, division, d_col, names[d_col],
                                   any_resolved or bool(forced))
        return det.division

    def _candidates(self, available: tuple[str, ...], header_name: str) -> list[str]:
        key = _header_key(header_name).replace(" ", "")
        for pattern, divisions in _HEADER_DIVISION_HINT:
            if pattern.match(key):
                hinted = [d for d in divisions if d in available]
                return hinted + [d for d in available if d not in hinted]
        return list(available)

    def _unknown_name(
        self, name: str, numbers: list[int], division: str, col: int, column: str,
        division_known: bool,
    ) -> None:
        gaz = self.gaz
        where = dict(row=numbers[0], col=col, column=column, rows=numbers,
                     name=_Q(name), where=_fmt_rows(numbers))
        fixed = _fix_mojibake(name)
        if fixed and gaz.resolve(fixed, division):
            self.add("mojibake", fixed=_Q(fixed), **where)
            return
        if not division_known:
            suggestions = ", ".join(gaz.suggest(name, gaz.divisions))
            self.add("unknown_area", suggestions=suggestions, **where)
            return
        others = [d for d in gaz.divisions if d != division and gaz.resolve(name, d)]
        if others:
            self.add("district_other_division", division=DIVISION_LABELS[division],
                     other=tuple(DIVISION_LABELS[d] for d in others), **where)
            return
        self.add("unknown_district", division=DIVISION_LABELS[division],
                 suggestions=", ".join(gaz.suggest(name, [division])), **where)

    # -- table --
    def _table(
        self, obs: list[_Obs], division: str, names: list[str], cols: dict[str, int]
    ) -> pd.DataFrame | None:
        det = self.detected
        records = []
        first_row: dict[tuple, int] = {}
        d_col = cols["district"]
        for o in obs:
            district = self.resolved.get(o.district)
            if o.row in self.skip_rows or o.year is None or district is None:
                continue
            key = (district.code, o.year, o.sex)
            if key in first_row:
                if first_row[key] != o.row:
                    self.add("duplicate_row", row=o.row, col=d_col, column=names[d_col],
                             rows=(first_row[key], o.row), district=district.name, year=o.year,
                             sex=SEX_LABELS[o.sex], first=first_row[key])
                continue
            first_row[key] = o.row
            if o.value is not None:
                records.append((division, district.code, district.name, o.year, o.sex, o.value))
        if not records or self.has_errors():
            return None
        table = pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))
        order = {c: i for i, c in enumerate(self.gaz.names(division))}
        sex_order = {s: i for i, s in enumerate(SEXES)}
        table = table.sort_values(
            ["year", "district_code", "sex"],
            key=lambda s: s.map(order) if s.name == "district_code"
            else s.map(sex_order) if s.name == "sex" else s,
            ignore_index=True,
        )
        table["year"] = table["year"].astype("int16")
        table["value"] = table["value"].astype("float64")
        det.n_rows = len(table)
        det.n_districts = int(table["district_code"].nunique())
        det.years = sorted(int(y) for y in table["year"].unique())
        det.sexes = [s for s in SEXES if s in set(table["sex"])]
        return table


def _clean_title(text: str) -> str | None:
    text = re.sub(r"[<>\x00-\x1f]", " ", text).strip().lstrip("=+-@").strip()
    return " ".join(text.split())[:120] or None


# --- for pages: an upload shown like a built-in indicator --------------------------------------

UPLOAD_SOURCE_ID = "upload"


def as_indicator(meta: UploadMeta, division: str, upload_id: str):
    """A catalog Indicator for an upload (id 'upload_<id>', source id UPLOAD_SOURCE_ID, which
    is not in the source registry: pages must cite uploads by their own text)."""
    from indicators.catalog import Aggregation, Indicator, Text

    definition = meta.description or meta.title
    return Indicator(
        id=f"upload_{re.sub(r'[^a-z0-9_]', '_', upload_id.lower())}",
        title=Text(sv=meta.title, en=meta.title),
        unit=Text(sv=meta.unit, en=meta.unit),
        short_unit=meta.unit if len(meta.unit) <= 6 else "",
        decimals=meta.decimals,
        direction=meta.direction,
        definition=Text(sv=definition, en=definition),
        sources=(UPLOAD_SOURCE_ID,),
        source_division=division,
        aggregation=Aggregation(kind="published", variable="value"),
        mappable=True,
    )


def as_indicator_values(table: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """The table in the built indicators' columns (indicators.build.INDICATOR_COLUMNS)."""
    out = table.loc[:, list(TABLE_COLUMNS)].copy()
    out.insert(0, "indicator_id", indicator_id)
    out["numerator"] = float("nan")
    out["denominator"] = float("nan")
    out["coverage"] = 1.0
    out["mappable"] = True
    out["source_division"] = out["division"]
    out["source_ids"] = UPLOAD_SOURCE_ID
    out["year"] = out["year"].astype("int16")
    return out.reset_index(drop=True)
