"""A plain-text account of a build: what each rule moved, what is missing, what reconciles.

`skillnader build` prints it; the data page shows the same numbers from the same tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def summary(build_dir: Path) -> str:
    info = json.loads((build_dir / "build_info.json").read_text(encoding="utf-8"))
    ind = pd.read_parquet(build_dir / "indicators.parquet")
    rep = pd.read_parquet(build_dir / "crosswalk_report.parquet")
    rec = pd.read_parquet(build_dir / "reconciliation.parquet")
    obs = pd.read_parquet(build_dir / "observations.parquet")
    unmatched = pd.read_parquet(build_dir / "unmatched_units.parquet")
    lines = [
        f"data version {info['data_version']} (sources {info['source_fingerprint']}), "
        f"built in {info['seconds']} s from {info['raw_dir']}",
        f"{ind['indicator_id'].nunique()} indicators, {len(ind)} district values; "
        f"{int((~ind['mappable']).sum())} kept off maps (coverage < 95 % or sparse series)",
        "",
        "Crosswalks (population moved away from each unit's largest-overlap district):",
    ]
    lines.append(f"  {'from':<17}{'to':<7}{'units':>6}{'split':>7}{'people in split':>17}"
                 f"{'moved':>10}{'moved %':>9}")
    for _, r in rep.iterrows():
        pct = r["pct_population_moved"]
        lines.append(
            f"  {r['from_division']:<17}{r['to_division']:<7}{int(r['units']):>6}"
            f"{int(r['units_split']):>7}{_fmt_int(r['population_in_split_units']):>17}"
            f"{_fmt_int(r['population_moved']):>10}"
            + (f"{pct:>8.2f}%" if pd.notna(pct) else f"{'-':>9}")
        )
    lines.append("  (people: residents for areas, eligible voters for election districts, "
                 "pupils for schools)")
    lines += ["", "Elections: voters that no district can hold"]
    city = obs[obs["division"] == "city"]
    for (year, var), g in city.groupby(["year", "variable"]):
        if var.endswith(("_unassigned", "_unmatched")) and g["value"].sum() > 0:
            base = var.rsplit("_", 1)[0]
            total = city[(city["year"] == year) & (city["variable"] == base)]["value"].sum()
            share = f" ({100 * g['value'].sum() / total:.1f} %)" if total else ""
            lines.append(f"  {year} {var}: {_fmt_int(g['value'].sum())}{share}")
    lines += ["", "Population summed from source units vs official city totals:"]
    for _, r in rec.dropna(subset=["built", "official"]).iterrows():
        lines.append(
            f"  {int(r['year'])}: {_fmt_int(r['built'])} vs {_fmt_int(r['official'])} "
            f"({r['difference_pct']:+.2f} %)"
        )
    if len(unmatched):
        lines += ["", "Units outside (or partly outside) the districts:"]
        for _, r in unmatched.iterrows():
            lines.append(f"  {r['from_division']} {r['from_code']} -> {r['to_division']}: "
                         f"{100 * float(r['covered_share']):.0f} % inside")
    return "\n".join(lines)
