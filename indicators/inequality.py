"""How far apart the districts are, and whether the gap widens.

For district values x_i with weights w_i (normalised to sum 1) and weighted mean m:
  range = max - min, ratio = max / min (positive values only),
  cv = sqrt(sum w_i (x_i - m)^2) / m, theil = sum w_i (x_i / m) ln(x_i / m) (positive values).
Weights are the indicator's own denominator where it has one (eligible voters for turnout),
else the district's population; an inequality measure has no direction, "worse" does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ("min", "max", "range", "ratio", "cv", "theil")

# Trend verdict (documented in the data page): compare the population-weighted CV of the first
# and last year with values. The gap "widens" when CV grew by more than REL_CHANGE of its first
# value AND at least half of the year-to-year steps went the same way; "narrows" likewise;
# otherwise "no clear change". Fewer than two years: "too few years".
REL_CHANGE = 0.05


def measures(values: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[ok], w[ok]
    out = dict.fromkeys(MEASURES, np.nan)
    if len(x) < 2:
        return out
    w = w / w.sum()
    m = float(np.sum(w * x))
    out["min"], out["max"] = float(x.min()), float(x.max())
    out["range"] = out["max"] - out["min"]
    positive = bool((x > 0).all())
    if positive:
        out["ratio"] = out["max"] / out["min"]
    if m > 0:
        out["cv"] = float(np.sqrt(np.sum(w * (x - m) ** 2)) / m)
    if positive and m > 0:
        r = x / m
        out["theil"] = float(np.sum(w * r * np.log(r)))
    return out


def inequality_table(values: pd.DataFrame) -> pd.DataFrame:
    """Long table (indicator_id, division, year, sex, measure, value, n_districts).

    `values` has indicator_id, division, year, sex, value, weight (one row per district).
    """
    rows = []
    for (ind, div, year, sex), g in values.groupby(
        ["indicator_id", "division", "year", "sex"], sort=True
    ):
        ms = measures(g["value"].to_numpy(), g["weight"].to_numpy())
        n = int(g["value"].notna().sum())
        rows += [(ind, div, year, sex, k, v, n) for k, v in ms.items()]
    return pd.DataFrame(
        rows,
        columns=["indicator_id", "division", "year", "sex", "measure", "value", "n_districts"],
    )


def verdict(years: np.ndarray, cv: np.ndarray) -> str:
    """widening / narrowing / no clear change / too few years, by the rule above."""
    order = np.argsort(years)
    y = np.asarray(cv, dtype=float)[order]
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return "too few years"
    change = (y[-1] - y[0]) / abs(y[0]) if y[0] != 0 else np.inf * np.sign(y[-1] - y[0])
    steps = np.sign(np.diff(y))
    if change > REL_CHANGE and (steps > 0).mean() >= 0.5:
        return "widening"
    if change < -REL_CHANGE and (steps < 0).mean() >= 0.5:
        return "narrowing"
    return "no clear change"


def verdict_table(ineq: pd.DataFrame) -> pd.DataFrame:
    """Per (indicator_id, division, sex): first/last year and CV, and the verdict."""
    cv = ineq[(ineq["measure"] == "cv") & ineq["value"].notna()]
    rows = []
    for (ind, div, sex), g in cv.groupby(["indicator_id", "division", "sex"]):
        g = g.sort_values("year")
        rows.append(
            {
                "indicator_id": ind,
                "division": div,
                "sex": sex,
                "first_year": int(g["year"].iloc[0]),
                "last_year": int(g["year"].iloc[-1]),
                "first_cv": float(g["value"].iloc[0]),
                "last_cv": float(g["value"].iloc[-1]),
                "n_years": len(g),
                "verdict": verdict(g["year"].to_numpy(), g["value"].to_numpy()),
            }
        )
    return pd.DataFrame(rows)
