"""The one observation table that every loader fills.

One row is one published number: `(source_id, division, code, year, sex, variable, value)`.
Numerators and denominators are their own variables (`voters`, `eligible`), so aggregation to
districts can be exact. `citation` carries a per-row citation where a source has one (the
transcribed tables); it is empty otherwise and the source registry cites the whole source.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ("source_id", "division", "code", "year", "sex", "variable", "value", "citation")
SEXES = ("total", "female", "male")
# Source units that loaders may report on. SDO divisions hold values published per district.
DIVISIONS = (
    "city",
    "sdo18",
    "sdo14",
    "sdo13",
    "sdo11",
    "stadsdel",
    "regso",
    "basomrade",
    "valdistrikt_2010",
    "valdistrikt_2022",
    "school",
)


class ObservationError(ValueError):
    """A loader produced a table that breaks the observation contract."""


def empty() -> pd.DataFrame:
    return validate(pd.DataFrame({c: [] for c in COLUMNS}))


def validate(df: pd.DataFrame, source_id: str | None = None) -> pd.DataFrame:
    """Check the contract and return the table with canonical dtypes.

    Raises ObservationError naming the column and an offending row.
    """
    where = f" (source {source_id})" if source_id else ""
    if "citation" not in df.columns:
        df = df.assign(citation="")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ObservationError(f"observation table lacks columns {missing}{where}")
    df = df.loc[:, list(COLUMNS)].copy()
    for col in ("source_id", "division", "code", "sex", "variable"):
        bad = df[col].isna() | (df[col].astype(str).str.len() == 0)
        if bad.any():
            raise ObservationError(f"empty {col} in row {df.index[bad][0]}{where}")
        df[col] = df[col].astype(str)
    unknown = ~df["division"].isin(DIVISIONS)
    if unknown.any():
        raise ObservationError(
            f"unknown division {df.loc[unknown, 'division'].iloc[0]!r}{where}; known: {DIVISIONS}"
        )
    bad_sex = ~df["sex"].isin(SEXES)
    if bad_sex.any():
        raise ObservationError(f"unknown sex {df.loc[bad_sex, 'sex'].iloc[0]!r}{where}")
    year = pd.to_numeric(df["year"], errors="coerce")
    if year.isna().any() or not year.between(1900, 2100).all():
        row = df.index[year.isna() | ~year.between(1900, 2100)][0]
        raise ObservationError(f"year {df.loc[row, 'year']!r} is not a year (row {row}){where}")
    df["year"] = year.astype("int16")
    value = pd.to_numeric(df["value"], errors="coerce")
    if value.isna().any():
        row = df.index[value.isna()][0]
        raise ObservationError(
            f"value {df.loc[row, 'value']!r} is not a number (row {row}, variable "
            f"{df.loc[row, 'variable']}){where}; missing values are left out, not stored"
        )
    df["value"] = value.astype("float64")
    df["citation"] = df["citation"].fillna("").astype(str)
    key = ["source_id", "division", "code", "year", "sex", "variable"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        first = df.loc[dup, key].iloc[0].to_dict()
        raise ObservationError(f"duplicate observation {first}{where}")
    return df.reset_index(drop=True)
