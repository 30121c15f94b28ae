"""SCB PxWeb tables per RegSO: CSV exports and PxWebApi v1 JSON responses.

Two parsing cores, each source-agnostic, and one loader on top of them:

- `read_pxweb_csv(path)`: a PxWeb CSV export (header row, dimension columns, then one column per
  year named "<contents> <year>", then optional footnote lines after a blank row) -> long table.
- `parse_pxweb_json(obj)`: a PxWebApi v1 "json" response (`columns`, `data[{key, values}]`)
  -> long table. The same function serves a recorded response and a later live API call.
- `load(registry)`: the observation table (indicators/observations.py) for the sources below,
  Stockholm only, division `regso`, code = RegSO code such as `0180R001`.

Sources and variables (all `division='regso'`):

- scb_regso_population_birth_region (2020-2023, 31 Dec): `population` (persons, födelseregion
  'totalt'), `population_foreign_born` (persons born outside Sweden = 'totalt' - 'Sverige').
  The export has kön 'totalt' only, so only `sex='total'` is produced.
- scb_regso_dwellings_tenure (2020-2023): `dwellings_rental` (hyresrätt), `dwellings_condo`
  (bostadsrätt), `dwellings_owner` (äganderätt), `dwellings_tenure_unknown` (uppgift saknas),
  all counts of dwellings (lägenheter); `dwellings_total` = the sum of the four, derived here
  because the export has no total row (a 'totalt' row, if a later export has one, is used as is).
- scb_regso_wage_income (2020-2023): `wage_income_mean_tkr`, SCB's "medelvärde för samtliga"
  of inkomstkomponent löneinkomst, in thousand SEK (tkr). "För samtliga" = over all persons in
  the table's population, including those with no wage income. The file carries NO denominator
  (no number of persons), so aggregating RegSO to districts can only weight by another
  population (the build weights by `population`) and is an approximation. The export has kön
  'totalt' only. Its price basis is not stated in the export; 97 % of all RegSO fall from 2022
  to 2023 (the Stockholm sum of means by 4.8 %) while nominal wages rose, which looks like
  SCB's usual fixed prices of the latest year: check before presenting a trend.
- scb_regso_socioeconomic_area_type (2022): `area_type`, the number 1-5 of SCB/Delmos'
  områdestyp from the socio-economic index (per the file's own footnote):
  1 = områden med stora socioekonomiska utmaningar (major socio-economic challenges),
  2 = områden med socioekonomiska utmaningar (socio-economic challenges),
  3 = socioekonomiskt blandade områden (socio-economically mixed),
  4 = områden med goda socioekonomiska förutsättningar (good conditions),
  5 = områden med mycket goda socioekonomiska förutsättningar (very good conditions).
  The types are bands of standard deviations from the national index mean; 1 and 2 together are
  "områden med socioekonomiska utmaningar". A class, not a quantity: never sum or average it.
- scb_regso_population_age_sex_2024 (PxWebApi v1 JSON, 2024, 31 Dec): `population`,
  `population_0_19`, `population_65plus`, `population_80plus` (persons), by sex
  (Kon 1 = male, 2 = female, 1+2 = total).

RegSO edition. The CSV exports (2020-2023) name regions 'Kommun (RegSO name)' in the original
RegSO edition (SCB's DeSO 2018 -> RegSO key calls it RegSO 2020): all 3,363 names in each export
equal the key's (Kommunnamn, RegSO_2020) pairs after `normalise_regso_name` (the exports keep
a trailing space in 29 names and write one Sotenäs name with hyphens for the key's en dashes).
The JSON uses RegSO 2025 codes (`0180R001_RegSO2025`). In Stockholm both editions have the
same 127 areas with the same code <-> name pairs (key vs the RegSO 2025 GeoPackage). From
2023 (2020 edition) to 2024 (2025 edition) no RegSO falls by more than 3.5 %; the large gains
(Sundby +964 = +32 %, Bromsten +1,083, Bandhagen +748, Enskedefältet +279) are matched by
no loss nearby, so they look like new housing, not a moved boundary. The mirror holds no
RegSO 2020 or DeSO 2018 geometry, so an exact boundary comparison is not possible here; the
loader therefore treats both as division `regso`, resolves CSV names to codes through the RegSO
2025 boundary file, and `RegsoNames` raises on any name it cannot resolve.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from data.registry import Registry
from indicators.observations import validate

DIVISION = "regso"
STOCKHOLM = "stockholm"  # normalised kommun name in 'Kommun (RegSO name)'

BIRTH_REGION = "scb_regso_population_birth_region"
DWELLINGS = "scb_regso_dwellings_tenure"
WAGE_INCOME = "scb_regso_wage_income"
AREA_TYPE = "scb_regso_socioeconomic_area_type"
AGE_SEX_2024 = "scb_regso_population_age_sex_2024"
BOUNDARIES = "scb_regso_2025_boundaries"
SOURCES = (BIRTH_REGION, DWELLINGS, WAGE_INCOME, AREA_TYPE, AGE_SEX_2024)

# PxWeb's markers for a value that is not published: '..' = not available / too uncertain,
# '.' = cannot occur. Such cells become missing (NaN in the long tables, no observation row).
MISSING_MARKERS = frozenset({"..", "."})

_YEAR_HEADER = re.compile(r"^(?P<contents>.*?)\s*(?P<year>(?:19|20)\d{2})$")
_REGION = re.compile(r"^(?P<kommun>[^()]+?)\s*\((?P<name>.*)\)\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\-]")

SEXES = {"totalt": "total", "kvinnor": "female", "män": "male", "man": "male"}


class PxWebError(ValueError):
    """A PxWeb file or response that does not have the expected shape; names file and place."""


class UnknownRegsoError(PxWebError):
    """A RegSO name (or code) that the RegSO 2025 boundary file does not know."""


# --- parsing core 1: PxWeb CSV exports ------------------------------------------------------


def _number(text: str, where: str, decimal_comma: bool = False) -> float:
    """A published number, NaN for PxWeb's missing markers; raises naming `where` otherwise."""
    s = text.strip()
    if s in MISSING_MARKERS:
        return math.nan
    if not s:
        raise PxWebError(f"empty value {where}")
    if decimal_comma:
        s = s.replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(s) or ("," in s and not decimal_comma):
        raise PxWebError(f"value {text!r} is not a number {where}")
    return float(s.replace(",", "."))


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # PxWeb's "ANSI" exports are Windows-1252; every byte decodes, so this cannot fail.
        return raw.decode("cp1252")


def read_pxweb_csv(path: str | Path) -> pd.DataFrame:
    """Parse a PxWeb CSV export into a long table.

    Columns: the dimension columns as in the header (a blank header becomes `column_<i>`),
    then `contents` (the header text before the year, e.g. 'Antal'; '' if the header is just
    the year), `year` (int) and `value` (float; NaN for '..' and '.').  `df.attrs` holds
    `dims` (the dimension column names), `notes` (footnote lines after the data) and `path`.

    Comma- and semicolon-separated exports are read (semicolon ones with decimal commas), with
    any of the line ends '\n', '\r\n', '\r\r\n'.
    Raises PxWebError naming the file and line for a ragged or cut row, an unterminated quote,
    a header without year columns, an empty cell, a value that is not a number, or a data row
    after the blank row that ends the table (so no data hides among the footnotes).
    """
    path = Path(path)
    # One line end for '\n', '\r\n' and the doubled '\r\r\n' of three mirror exports
    # (re-saved on Windows), which a CSV reader would otherwise see as a blank row per line.
    text = re.sub(r"\r+\n?", "\n", _decode(path))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise PxWebError(f"{path.name}: empty file") from None
    except csv.Error as exc:
        raise PxWebError(f"{path.name}: unreadable header ({exc})") from None
    header = [h.strip() for h in header]
    year_cols = [i for i, h in enumerate(header) if _YEAR_HEADER.match(h)]
    if not year_cols:
        raise PxWebError(f"{path.name}: no year columns in header {header}")
    first_year = year_cols[0]
    if year_cols != list(range(first_year, len(header))):
        raise PxWebError(
            f"{path.name}: expected dimension columns followed by year columns, got {header}"
        )
    dims = [h or f"column_{i}" for i, h in enumerate(header[:first_year])]
    if len(set(dims)) != len(dims):
        raise PxWebError(f"{path.name}: repeated column names in header {header}")
    periods = []
    for h in header[first_year:]:
        m = _YEAR_HEADER.match(h)
        assert m is not None
        periods.append((m["contents"].strip(), int(m["year"])))

    width = len(header)
    records: list[tuple] = []
    notes: list[str] = []
    in_notes = False
    try:
        for row in reader:
            line = reader.line_num
            if in_notes:
                if len(row) == width and all(c.strip() for c in row[first_year:]):
                    raise PxWebError(
                        f"{path.name} line {line}: a data row after the blank row that ends "
                        "the table (stray blank line?)"
                    )
                note = " ".join(c.strip() for c in row if c.strip())
                if note:
                    notes.append(note)
                continue
            if not any(c.strip() for c in row):
                in_notes = True  # PxWeb puts a blank row between the table and its footnotes
                continue
            if len(row) != width:
                raise PxWebError(
                    f"{path.name} line {line}: {len(row)} fields, header has {width} "
                    f"(truncated or damaged row: {row!r})"
                )
            keys = tuple(c.strip() for c in row[:first_year])
            for j, (contents, year) in enumerate(periods):
                col = header[first_year + j]
                value = _number(
                    row[first_year + j],
                    f"in {path.name} line {line}, column {col!r}",
                    decimal_comma=delimiter == ";",
                )
                records.append((*keys, contents, year, value))
    except csv.Error as exc:
        raise PxWebError(
            f"{path.name} line {reader.line_num}: {exc} (truncated file or unbalanced quote)"
        ) from None
    if not records:
        raise PxWebError(f"{path.name}: no data rows")
    df = pd.DataFrame.from_records(records, columns=[*dims, "contents", "year", "value"])
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df.attrs.update(dims=dims, notes=notes, path=str(path))
    return df


# --- parsing core 2: PxWebApi v1 JSON ------------------------------------------------------


def parse_pxweb_json(obj: Mapping[str, Any] | str | bytes) -> pd.DataFrame:
    """Parse a PxWebApi v1 'json' response into a long table.

    `obj` is the decoded response (or its text). Columns of type 'd' and 't' (dimensions and
    time) become string columns named by their `code`, in response order; each 'c' column
    (contents) gives one row per data key, with `contents` = its code and `value` = float
    (NaN for '..' and '.'). `df.attrs` holds `columns` (code -> text), `metadata`, `comments`.
    Raises PxWebError naming the data row for a key or values of the wrong length or a value
    that is not a number.
    """
    if isinstance(obj, (str, bytes)):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise PxWebError(f"PxWebApi response is not JSON ({exc})") from None
    if not isinstance(obj, Mapping) or "columns" not in obj or "data" not in obj:
        raise PxWebError("PxWebApi v1 response must have 'columns' and 'data'")
    columns = obj["columns"]
    dims = [c["code"] for c in columns if c.get("type") in ("d", "t")]
    contents = [c["code"] for c in columns if c.get("type") == "c"]
    if not contents:
        raise PxWebError("PxWebApi response has no contents ('c') column")
    if len(set(dims)) != len(dims) or set(dims) & {"contents", "value"}:
        raise PxWebError(f"PxWebApi response has unusable dimension codes {dims}")
    records: list[tuple] = []
    for i, item in enumerate(obj["data"]):
        key, values = item.get("key"), item.get("values")
        if not isinstance(key, list) or len(key) != len(dims):
            raise PxWebError(f"PxWebApi data[{i}]: key {key!r} does not match dimensions {dims}")
        if not isinstance(values, list) or len(values) != len(contents):
            raise PxWebError(
                f"PxWebApi data[{i}]: values {values!r} do not match contents {contents}"
            )
        for code, v in zip(contents, values, strict=True):
            value = _number(str(v), f"in PxWebApi data[{i}] {key}, contents {code!r}")
            records.append((*(str(k) for k in key), code, value))
    df = pd.DataFrame.from_records(records, columns=[*dims, "contents", "value"])
    df["value"] = df["value"].astype("float64")
    df.attrs.update(
        columns={c["code"]: c.get("text", "") for c in columns},
        metadata=obj.get("metadata", []),
        comments=obj.get("comments", []),
    )
    return df


# --- RegSO names -> codes ------------------------------------------------------------------


def normalise_regso_name(name: str) -> str:
    """The one key RegSO names are compared by: Unicode NFC, case-folded, every dash as '-',
    no spaces around dashes, runs of spaces as one, trimmed. Accents are kept (Öst- != Ost-)."""
    text = unicodedata.normalize("NFC", str(name)).casefold()
    text = _DASHES.sub("-", text)
    text = re.sub(r"\s*-\s*", "-", text)
    return " ".join(text.split())


# Spellings in a source -> the RegSO 2025 name, for what normalisation alone does not reach.
# Empty on purpose: every Stockholm name in the 2020-2023 exports equals its RegSO 2025 name.
REGSO_NAME_VARIANTS: dict[str, str] = {}


@dataclass(frozen=True)
class RegsoNames:
    """RegSO name <-> code for Stockholm, from the RegSO 2025 boundary file's attributes."""

    codes: Mapping[str, str]  # normalised name -> code
    names: Mapping[str, str]  # code -> name as SCB spells it

    @classmethod
    def from_frame(cls, df: pd.DataFrame, variants: Mapping[str, str] | None = None) -> RegsoNames:
        for col in ("regsokod", "regsonamn"):
            if col not in df.columns:
                raise PxWebError(f"RegSO boundary attributes lack column {col!r}")
        names = dict(zip(df["regsokod"].astype(str), df["regsonamn"].astype(str), strict=True))
        codes: dict[str, str] = {}
        for code, name in names.items():
            key = normalise_regso_name(name)
            if key in codes:
                raise PxWebError(
                    f"RegSO names {names[codes[key]]!r} ({codes[key]}) and {name!r} ({code}) "
                    "normalise to the same key"
                )
            codes[key] = code
        for variant, canonical in (REGSO_NAME_VARIANTS if variants is None else variants).items():
            target = codes.get(normalise_regso_name(canonical))
            if target is None:
                raise PxWebError(f"REGSO_NAME_VARIANTS maps {variant!r} to unknown {canonical!r}")
            codes[normalise_regso_name(variant)] = target
        return cls(codes=codes, names=names)

    @classmethod
    def from_registry(cls, registry: Registry) -> RegsoNames:
        import pyogrio

        path = registry.file(BOUNDARIES)
        df = pyogrio.read_dataframe(path, read_geometry=False, columns=["regsokod", "regsonamn"])
        return cls.from_frame(df)

    def code(self, name: str, where: str = "") -> str:
        code = self.codes.get(normalise_regso_name(name))
        if code is None:
            raise UnknownRegsoError(
                f"unknown RegSO name {name!r}{' ' + where if where else ''}: not among the "
                f"{len(self.names)} RegSO 2025 names of Stockholm (add a REGSO_NAME_VARIANTS entry "
                "only if it is the same area under another spelling)"
            )
        return code


def split_region(label: str, where: str = "") -> tuple[str, str]:
    """'Kommun (RegSO name)' -> (kommun, RegSO name); raises naming the label."""
    m = _REGION.match(label)
    if not m:
        raise PxWebError(f"region {label!r}{' ' + where if where else ''} is not 'Kommun (RegSO)'")
    return m["kommun"].strip(), m["name"].strip()


# --- the loader ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvSpec:
    source_id: str
    file: str
    dims: tuple[str, ...]  # expected dimension headers; the first is the region
    contents: str  # expected header text before the year


_SPECS = {
    BIRTH_REGION: _CsvSpec(
        BIRTH_REGION, "regso_folkmangd_fodelseregion_2020_2023.csv",
        ("region", "födelseregion", "kön"), "Antal",
    ),
    DWELLINGS: _CsvSpec(
        DWELLINGS, "regso_bostader_upplatelseform_2020_2023.csv",
        ("region", "upplåtelseform"), "Antal",
    ),
    WAGE_INCOME: _CsvSpec(
        WAGE_INCOME, "regso_loneinkomst_2020_2023.csv",
        ("region", "inkomstkomponent", "kön"), "Medelvärde för samtliga, tkr",
    ),
    AREA_TYPE: _CsvSpec(AREA_TYPE, "regso_socioekonomisk_index_2022.csv", ("column_0",), ""),
}

TENURE = {
    "hyresrätt": "dwellings_rental",
    "bostadsrätt": "dwellings_condo",
    "äganderätt": "dwellings_owner",
    "uppgift saknas": "dwellings_tenure_unknown",
    "totalt": "dwellings_total",
}


def _stockholm_rows(
    df: pd.DataFrame, spec: _CsvSpec, names: RegsoNames
) -> pd.DataFrame:
    """Check the header against the spec, keep Stockholm and add the RegSO `code`."""
    path = Path(df.attrs["path"]).name
    if tuple(df.attrs["dims"]) != spec.dims:
        raise PxWebError(
            f"{path}: columns {df.attrs['dims']} before the years, expected {list(spec.dims)} "
            "(renamed or missing column)"
        )
    found = set(df["contents"])
    if found != {spec.contents}:
        raise PxWebError(
            f"{path}: year columns are {sorted(found)!r} + year, expected {spec.contents!r} + year"
        )
    region = spec.dims[0]
    labels = pd.Series(df[region].unique())
    parts = {lab: split_region(lab, f"in {path} column {region!r}") for lab in labels}
    keep = {lab for lab, (kommun, _) in parts.items() if normalise_regso_name(kommun) == STOCKHOLM}
    if not keep:
        raise PxWebError(f"{path}: no Stockholm rows in column {region!r}")
    codes = {lab: names.code(parts[lab][1], f"(row {lab!r} in {path})") for lab in keep}
    out = df[df[region].isin(keep)].copy()
    out["code"] = out[region].map(codes)
    found_codes = set(codes.values())
    missing = sorted(set(names.names) - found_codes)
    if missing:
        shown = ", ".join(f"{c} {names.names[c]}" for c in missing[:10])
        raise PxWebError(f"{path}: {len(missing)} Stockholm RegSO have no rows: {shown}")
    if len(found_codes) != len(keep):
        raise PxWebError(f"{path}: two region labels resolve to the same RegSO code")
    return out


def _map_values(series: pd.Series, mapping: Mapping[str, str], what: str, path: str) -> pd.Series:
    keys = series.str.strip().str.casefold()
    unknown = sorted(set(keys) - set(mapping))
    if unknown:
        raise PxWebError(f"{path}: unknown {what} {unknown} (known: {sorted(mapping)})")
    return keys.map(mapping)


def _observations(df: pd.DataFrame, source_id: str) -> pd.DataFrame:
    out = df.loc[df["value"].notna(), ["code", "year", "sex", "variable", "value"]]
    return out.assign(source_id=source_id, division=DIVISION, citation="")


def _pivot(df: pd.DataFrame, index: list[str], columns: str, path: str) -> pd.DataFrame:
    """Wide table; raises naming the first repeated row instead of silently picking one."""
    dup = df.duplicated([*index, columns], keep=False)
    if dup.any():
        row = df.loc[dup, [*index, columns]].iloc[0].to_dict()
        raise PxWebError(f"{path}: repeated rows for {row}")
    return df.pivot(index=index, columns=columns, values="value")


def _birth_region(df: pd.DataFrame, path: str) -> pd.DataFrame:
    df = df.assign(sex=_map_values(df["kön"], SEXES, "kön", path))
    region = _map_values(df["födelseregion"], {"totalt": "total", "sverige": "sweden"},
                         "födelseregion", path)
    wide = _pivot(df.assign(region=region), ["code", "year", "sex"], "region", path)
    for col in ("total", "sweden"):
        if col not in wide.columns:
            raise PxWebError(f"{path}: no födelseregion rows for {col!r}")
    wide = wide.reset_index()
    pop = wide.assign(variable="population", value=wide["total"])
    foreign = wide.assign(variable="population_foreign_born", value=wide["total"] - wide["sweden"])
    bad = foreign["value"] < 0
    if bad.any():
        row = foreign[bad].iloc[0]
        raise PxWebError(f"{path}: born in Sweden exceeds total for {row['code']} {row['year']}")
    return pd.concat([pop, foreign], ignore_index=True)


def _dwellings(df: pd.DataFrame, path: str) -> pd.DataFrame:
    df = df.assign(variable=_map_values(df["upplåtelseform"], TENURE, "upplåtelseform", path),
                   sex="total")
    if "dwellings_total" not in set(df["variable"]):
        parts = [v for v in TENURE.values() if v != "dwellings_total"]
        wide = _pivot(df, ["code", "year"], "variable", path)
        missing = [p for p in parts if p not in wide.columns]
        if missing:
            raise PxWebError(f"{path}: no rows for {missing}; cannot derive dwellings_total")
        # min_count: a total only where all four parts are published, never a partial sum
        total = wide[parts].sum(axis=1, min_count=len(parts)).rename("value").reset_index()
        df = pd.concat([df, total.assign(variable="dwellings_total", sex="total")],
                       ignore_index=True)
    return df


def _wage_income(df: pd.DataFrame, path: str) -> pd.DataFrame:
    _map_values(df["inkomstkomponent"], {"löneinkomst": "wage"}, "inkomstkomponent", path)
    return df.assign(sex=_map_values(df["kön"], SEXES, "kön", path),
                     variable="wage_income_mean_tkr")


def _area_type(df: pd.DataFrame, path: str) -> pd.DataFrame:
    v = df["value"].dropna()
    bad = ~v.isin([1, 2, 3, 4, 5])
    if bad.any():
        row = df.loc[v.index[bad][0]]
        raise PxWebError(f"{path}: area type {row['value']!r} for {row['column_0']!r} not in 1-5")
    return df.assign(sex="total", variable="area_type")


_TRANSFORMS = {
    BIRTH_REGION: _birth_region,
    DWELLINGS: _dwellings,
    WAGE_INCOME: _wage_income,
    AREA_TYPE: _area_type,
}


def load_csv_source(registry: Registry, source_id: str, names: RegsoNames) -> pd.DataFrame:
    """Observations of one of the CSV sources, Stockholm only."""
    spec = _SPECS[source_id]
    path = registry.file(source_id, spec.file)
    df = _stockholm_rows(read_pxweb_csv(path), spec, names)
    return validate(_observations(_TRANSFORMS[source_id](df, path.name), source_id), source_id)


# PxWebApi age bands: '-4', '5-9', ..., '80-' and 'totalt'.
_BAND = re.compile(r"^(?P<lo>\d*)-(?P<hi>\d*)$")
AGE_GROUPS: dict[str, tuple[int, int | None]] = {
    "population_0_19": (0, 19),
    "population_65plus": (65, None),
    "population_80plus": (80, None),
}
KON = {"1": "male", "2": "female", "1+2": "total"}


def _band(label: str) -> tuple[int, int | None]:
    m = _BAND.match(label.strip())
    if not m or not (m["lo"] or m["hi"]):
        raise PxWebError(f"age band {label!r} is not like '-4', '5-9' or '80-'")
    return int(m["lo"] or 0), (int(m["hi"]) if m["hi"] else None)


def age_sex_observations(
    table: pd.DataFrame, names: RegsoNames, source_id: str = AGE_SEX_2024
) -> pd.DataFrame:
    """Observations from `parse_pxweb_json` of SCB's FolkmDesoAldKon per RegSO 2025.

    Checks that every region is a Stockholm RegSO 2025 code, that every Stockholm RegSO is
    there, and that the age bands add up to 'totalt' for every region, sex and year.
    """
    need = {"Region", "Alder", "Kon", "Tid"}
    if not need <= set(table.columns):
        raise PxWebError(f"{source_id}: dimensions {sorted(table.columns)} lack {sorted(need)}")
    if table["contents"].nunique() != 1:
        found = list(table["contents"].unique())
        raise PxWebError(f"{source_id}: expected one contents column, got {found}")
    regions = table["Region"].str.extract(r"^(?P<code>\d{4}R\d{3})_(?P<edition>RegSO\d{4})$")
    bad = regions["code"].isna()
    if bad.any():
        label = table.loc[bad, "Region"].iloc[0]
        raise PxWebError(f"{source_id}: region {label!r} is not a RegSO code")
    editions = set(regions["edition"])
    if editions != {"RegSO2025"}:
        raise PxWebError(f"{source_id}: RegSO edition {sorted(editions)}, expected RegSO2025")
    unknown = sorted(set(regions["code"]) - set(names.names))
    if unknown:
        raise UnknownRegsoError(f"{source_id}: RegSO codes not in the boundary file: {unknown}")
    missing = sorted(set(names.names) - set(regions["code"]))
    if missing:
        raise PxWebError(f"{source_id}: Stockholm RegSO missing: {missing}")
    sex_keys = sorted(set(table["Kon"]) - set(KON))
    if sex_keys:
        raise PxWebError(f"{source_id}: unknown Kon values {sex_keys} (known: {sorted(KON)})")
    df = table.assign(code=regions["code"], sex=table["Kon"].map(KON),
                      year=pd.to_numeric(table["Tid"], errors="coerce"))
    if df["year"].isna().any():
        label = df.loc[df["year"].isna(), "Tid"].iloc[0]
        raise PxWebError(f"{source_id}: Tid {label!r} is not a year")
    total = df[df["Alder"].str.strip().str.casefold() == "totalt"]
    bands = df[df["Alder"].str.strip().str.casefold() != "totalt"]
    spans = {a: _band(a) for a in bands["Alder"].unique()}
    lows = sorted(lo for lo, _ in spans.values())
    if not lows or lows[0] != 0 or sum(hi is None for _, hi in spans.values()) != 1:
        raise PxWebError(f"{source_id}: age bands {sorted(spans)} do not cover 0 to the top")
    key = ["code", "year", "sex"]
    band_sum = bands.groupby(key)["value"].sum(min_count=1)
    total_v = total.set_index(key)["value"]
    diff = (band_sum - total_v).abs()
    if diff.isna().any() or (diff > 0.5).any():
        where = diff[diff.isna() | (diff > 0.5)].index[0]
        raise PxWebError(f"{source_id}: age bands do not add up to 'totalt' for {where}")
    parts = [total.assign(variable="population")]
    for variable, (lo, hi) in AGE_GROUPS.items():
        chosen = [a for a, (blo, bhi) in spans.items()
                  if blo >= lo and (hi is None or (bhi is not None and bhi <= hi))]
        covered = sorted(spans[a] for a in chosen)
        if not covered or covered[0][0] != lo or (hi is None) != (covered[-1][1] is None) or (
            hi is not None and covered[-1][1] != hi
        ):
            raise PxWebError(f"{source_id}: age bands {sorted(spans)} cannot form {variable}")
        sub = bands[bands["Alder"].isin(chosen)]
        summed = sub.groupby(key)["value"].sum(min_count=len(chosen)).reset_index()
        parts.append(summed.assign(variable=variable))
    out = pd.concat(parts, ignore_index=True)
    return validate(_observations(out, source_id), source_id)


def load_age_sex_2024(registry: Registry, names: RegsoNames) -> pd.DataFrame:
    path = registry.file(AGE_SEX_2024)
    try:
        obj = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise PxWebError(f"{path.name}: not JSON ({exc}); truncated?") from None
    try:
        table = parse_pxweb_json(obj)
    except PxWebError as exc:
        raise PxWebError(f"{path.name}: {exc}") from None
    return age_sex_observations(table, names)


def load(registry: Registry | None = None, sources: Iterable[str] = SOURCES) -> pd.DataFrame:
    """The observation table of the SCB RegSO sources (all by default), Stockholm only."""
    registry = registry or Registry()
    names = RegsoNames.from_registry(registry)
    parts = []
    for source_id in sources:
        if source_id == AGE_SEX_2024:
            parts.append(load_age_sex_2024(registry, names))
        elif source_id in _SPECS:
            parts.append(load_csv_source(registry, source_id, names))
        else:
            raise PxWebError(f"source {source_id!r} is not a PxWeb RegSO source")
    return validate(pd.concat(parts, ignore_index=True))
