"""Carry observations from their source units to districts, as the catalog declares.

One function, `aggregate`, serves every indicator: the crosswalk (geo/crosswalk.py) says which
share of each source unit lies in each district, the indicator's aggregation kind says how the
shares combine. Numerators and denominators are summed before any ratio is taken, so a district
value is the pooled rate of its units, never a mean of rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.catalog import Indicator

SDO_ORDER = ("sdo14", "sdo13", "sdo11")
KEY = ["to_code", "year", "sex"]
# Below this share of its reference population, a district value is kept off maps.
MIN_COVERAGE = 0.95
# weighted_mean: pupil/population weights are used in a year when at least this share of the
# units with values have one; otherwise every unit counts equally that year (see catalog).
MIN_WEIGHT_SHARE = 0.9


def needed_variables(ind: Indicator) -> list[str]:
    a = ind.aggregation
    names = [a.variable, a.numerator, a.denominator, a.weight]
    return [n for n in names if n]


def _wide(obs: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Observations of one division as one row per (code, year, sex), one column per variable."""
    sub = obs[obs["variable"].isin(variables)]
    wide = sub.pivot_table(
        index=["code", "year", "sex"], columns="variable", values="value", aggfunc="first"
    )
    for v in variables:
        if v not in wide.columns:
            wide[v] = np.nan
    return wide.reset_index()


def _with_total_weight(wide: pd.DataFrame, weight: str) -> pd.DataFrame:
    """Sex-specific rows without their own weight borrow the unit's total weight."""
    total = wide.loc[wide["sex"] == "total", ["code", "year", weight]].rename(
        columns={weight: "_w_total"}
    )
    wide = wide.merge(total, on=["code", "year"], how="left")
    wide[weight] = wide[weight].fillna(wide["_w_total"])
    return wide.drop(columns="_w_total")


def _unit_terms(ind: Indicator, wide: pd.DataFrame) -> pd.DataFrame:
    """Per source unit: the additive numerator `n` and denominator `d` of the indicator."""
    a = ind.aggregation
    if a.kind == "sum":
        out = wide.assign(n=wide[a.variable], d=np.nan)
    elif a.kind == "ratio":
        out = wide.assign(n=wide[a.numerator], d=wide[a.denominator])
        out = out[out["n"].notna() & out["d"].notna()]
    elif a.kind == "weighted_mean":
        wide = _with_total_weight(wide, a.weight)
        has_value = wide[a.variable].notna()
        share = wide.loc[has_value].groupby("year")[a.weight].apply(lambda s: s.notna().mean())
        equal_years = share[share < MIN_WEIGHT_SHARE].index
        w = wide[a.weight].where(~wide["year"].isin(equal_years), 1.0)
        out = wide.assign(d=w, n=w * wide[a.variable], equal_weights=wide["year"].isin(equal_years))
    else:  # published, on its own division: each district is its own single unit
        out = wide.assign(n=wide[a.variable], d=1.0)
    return out[out["n"].notna()]


def _combine(terms: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    a = ind.aggregation
    g = terms.groupby(KEY, as_index=False).agg(n=("n", "sum"), d=("d", "sum"))
    if a.kind == "sum" or (a.kind == "published" and a.additive):
        g["value"], g["numerator"], g["denominator"] = g["n"], np.nan, np.nan
    elif a.kind == "ratio":
        g["value"] = a.scale * g["n"] / g["d"]
        g["numerator"], g["denominator"] = g["n"], g["d"]
    else:  # weighted_mean, or published values merged by weight
        g["value"] = a.scale * g["n"] / g["d"]
        g["numerator"], g["denominator"] = np.nan, g["d"]
    g = g.replace([np.inf, -np.inf], np.nan).dropna(subset=["value"])
    return g.drop(columns=["n", "d"])


def aggregate(
    ind: Indicator,
    obs: pd.DataFrame,
    crosswalk: pd.DataFrame,
    to_division: str,
    reference: pd.Series | None = None,
    merge_weights: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """District values of `ind` on `to_division` from observations of one source division.

    obs: observations of one source division (already filtered to the indicator's sources).
    crosswalk: rows (from_code, to_code, weight) from that division to `to_division`.
    reference: per source unit code, the reference size for coverage (population in a
      reference year); units count equally when None.
    merge_weights: for published values merged to later divisions, (code, year, sex, weight)
      on the source division.
    Returns columns to_code, year, sex, value, numerator, denominator, coverage.
    """
    a = ind.aggregation
    variables = needed_variables(ind)
    wide = _wide(obs, variables)
    if a.kind == "published" and merge_weights is not None and not a.additive:
        mw = merge_weights.rename(columns={"weight": "_mw"})
        wide = wide.merge(mw, on=["code", "year", "sex"], how="left")
        # A district that merges with no other passes through unchanged, weight or not.
        parts = crosswalk.groupby("to_code")["from_code"].transform("nunique")
        alone = wide["code"].isin(set(crosswalk.loc[parts == 1, "from_code"]))
        wide.loc[alone, "_mw"] = wide.loc[alone, "_mw"].fillna(1.0)
        wide = wide.assign(n=wide[a.variable] * wide["_mw"], d=wide["_mw"])
        terms = wide[wide["n"].notna()]
        kind_for_combine = ind.model_copy(
            update={"aggregation": a.model_copy(update={"kind": "weighted_mean"})}
        )
    else:
        terms = _unit_terms(ind, wide)
        kind_for_combine = ind
    cw = crosswalk[["from_code", "to_code", "weight"]]
    terms = terms.merge(cw, left_on="code", right_on="from_code", how="inner")
    for col in ("n", "d"):
        terms[col] = terms[col] * terms["weight"]
    result = _combine(terms, kind_for_combine)
    if a.kind == "published" and (merge_weights is not None or a.additive):
        result = _drop_partial_merges(result, terms, crosswalk)
    return result.assign(coverage=_coverage(terms, crosswalk, reference, result))


def _drop_partial_merges(
    result: pd.DataFrame, terms: pd.DataFrame, crosswalk: pd.DataFrame
) -> pd.DataFrame:
    """A merged district needs every one of its parts: half a district is not the district."""
    parts = crosswalk.groupby("to_code")["from_code"].nunique().rename("parts").reset_index()
    have = terms.groupby(KEY)["from_code"].nunique().rename("have").reset_index()
    have = have.merge(parts, on="to_code")
    complete = have.loc[have["have"] == have["parts"], KEY]
    return result.merge(complete, on=KEY, how="inner")


def _coverage(
    terms: pd.DataFrame,
    crosswalk: pd.DataFrame,
    reference: pd.Series | None,
    result: pd.DataFrame,
) -> np.ndarray:
    """Share of each district's reference size that lies in units with a value.

    A code 'a+b' is a unit of an older edition that later split into a and b: it counts with
    the reference of its parts, and only the current units make up the district's full size.
    """
    cw = crosswalk[["from_code", "to_code", "weight"]].copy()
    current = ~cw["from_code"].str.contains("+", regex=False)
    if reference is None:
        reference = pd.Series(1.0, index=cw.loc[current, "from_code"].unique())
    ref = reference

    def size(code: str) -> float:
        return float(sum(ref.get(p, 0.0) for p in code.split("+")))

    sizes = {c: size(c) for c in cw["from_code"].unique()}
    cw["ref"] = cw["from_code"].map(sizes).astype(float) * cw["weight"]
    full = cw[current].groupby("to_code")["ref"].sum()
    # a district made only of old-edition units (the unit itself, on its own division)
    full = full.reindex(cw["to_code"].unique()).fillna(cw.groupby("to_code")["ref"].sum())
    seen = terms[["from_code", "to_code", "year", "sex", "weight"]].drop_duplicates()
    seen = seen.assign(
        ref=seen["from_code"].map(sizes).astype(float).fillna(0.0) * seen["weight"]
    )
    covered = seen.groupby(KEY)["ref"].sum()
    idx = pd.MultiIndex.from_frame(result[KEY])
    full_ref = full.reindex(result["to_code"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = covered.reindex(idx).to_numpy() / full_ref
    return np.clip(np.nan_to_num(cov, nan=0.0), 0.0, 1.0)
