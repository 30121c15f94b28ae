"""Aggregation from source units to districts: hand-built cases with known answers, and
properties (hypothesis) that must hold for any data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.aggregate import aggregate
from indicators.catalog import Aggregation, Indicator, Text

T = Text(sv="x", en="x")


def indicator(**agg) -> Indicator:
    return Indicator(
        id="x", title=T, unit=T, decimals=1, direction="neutral", definition=T,
        sources=("s",), source_division="regso", aggregation=Aggregation(**agg),
    )


def obs(rows: list[tuple[str, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"source_id": "s", "division": "regso", "code": c, "year": y, "sex": "total",
          "variable": v, "value": x, "citation": ""} for c, y, v, x in rows]
    )


def xwalk(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["from_code", "to_code", "weight"])


# Two districts; unit b is split 50/50 between them.
CW = xwalk([("a", "D1", 1.0), ("b", "D1", 0.5), ("b", "D2", 0.5), ("c", "D2", 1.0)])


def test_ratio_pools_numerators_and_denominators():
    o = obs([("a", 2022, "v", 10), ("a", 2022, "e", 100),
             ("b", 2022, "v", 60), ("b", 2022, "e", 100),
             ("c", 2022, "v", 30), ("c", 2022, "e", 50)])
    ind = indicator(kind="ratio", numerator="v", denominator="e", scale=100)
    res = aggregate(ind, o, CW, "sdo")
    d1 = res.set_index("to_code").loc["D1"]
    # D1 = (10 + 30) / (100 + 50) -- not the mean of the rates 10 % and 60 %
    assert d1["value"] == pytest.approx(100 * 40 / 150)
    assert d1["numerator"] == pytest.approx(40) and d1["denominator"] == pytest.approx(150)
    assert res.set_index("to_code").loc["D2", "value"] == pytest.approx(100 * 60 / 100)


def test_sum_apportions_split_units():
    o = obs([("a", 2020, "p", 100), ("b", 2020, "p", 40), ("c", 2020, "p", 7)])
    res = aggregate(indicator(kind="sum", variable="p"), o, CW, "sdo").set_index("to_code")
    assert res.loc["D1", "value"] == 120 and res.loc["D2", "value"] == 27


def test_weighted_mean_uses_the_weight_variable():
    o = obs([("a", 2014, "r", 50), ("a", 2014, "p", 300),
             ("c", 2014, "r", 80), ("c", 2014, "p", 100)])
    cw = xwalk([("a", "D", 1.0), ("c", "D", 1.0)])
    res = aggregate(indicator(kind="weighted_mean", variable="r", weight="p"), o, cw, "sdo")
    assert res["value"].iloc[0] == pytest.approx((50 * 300 + 80 * 100) / 400)


def test_coverage_is_share_of_reference_population_with_values():
    o = obs([("a", 2005, "p", 100), ("c", 2005, "p", 7)])  # b has no value in 2005
    ref = pd.Series({"a": 100.0, "b": 40.0, "c": 10.0})
    res = aggregate(indicator(kind="sum", variable="p"), o, CW, "sdo", reference=ref)
    res = res.set_index("to_code")
    assert res.loc["D1", "coverage"] == pytest.approx(100 / 120)
    assert res.loc["D2", "coverage"] == pytest.approx(10 / 30)


def test_missing_values_are_absent_not_zero():
    o = obs([("a", 2022, "v", 10), ("a", 2022, "e", 100)])  # c and b have nothing
    cw = xwalk([("a", "D1", 1.0), ("c", "D2", 1.0)])
    res = aggregate(indicator(kind="ratio", numerator="v", denominator="e"), o, cw, "sdo")
    assert list(res["to_code"]) == ["D1"]


def test_published_merge_needs_every_part():
    ind = indicator(kind="published", variable="s", merge_weight="population")
    o = obs([("alvsjo", 2015, "s", 10.0), ("hl", 2015, "s", 20.0), ("bromma", 2015, "s", 5.0)])
    cw = xwalk([("alvsjo", "ha", 1.0), ("hl", "ha", 1.0), ("bromma", "bromma", 1.0)])
    w = pd.DataFrame({"code": ["alvsjo", "hl"], "year": 2015, "sex": "total", "weight": [1.0, 3.0]})
    res = aggregate(ind, o, cw, "sdo13", merge_weights=w).set_index("to_code")
    assert res.loc["ha", "value"] == pytest.approx((10 + 3 * 20) / 4)
    assert res.loc["bromma", "value"] == 5.0  # unchanged district passes through
    partial = aggregate(ind, o[o["code"] != "hl"], cw, "sdo13", merge_weights=w)
    assert "ha" not in set(partial["to_code"])


units = st.lists(
    st.tuples(st.floats(0, 1e4), st.floats(1, 1e4), st.floats(0.0, 1.0)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(units)
def test_totals_are_preserved_and_pooled_rate_equals_rate_of_sums(data):
    rows, cw_rows = [], []
    for i, (num, den, split) in enumerate(data):
        num = min(num, den)
        rows += [(f"u{i}", 2020, "v", num), (f"u{i}", 2020, "e", den), (f"u{i}", 2020, "p", den)]
        cw_rows += [(f"u{i}", "A", split), (f"u{i}", "B", 1 - split)]
    o, cw = obs(rows), xwalk(cw_rows)
    total = aggregate(indicator(kind="sum", variable="p"), o, cw, "sdo")["value"].sum()
    assert total == pytest.approx(sum(d for _, d, _ in data), rel=1e-9)
    ratio = aggregate(indicator(kind="ratio", numerator="v", denominator="e"), o, cw, "sdo")
    pooled = (ratio["numerator"].sum()) / ratio["denominator"].sum()
    expected = sum(min(n, d) for n, d, _ in data) / sum(d for _, d, _ in data)
    assert pooled == pytest.approx(expected, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1, 1e5), min_size=14, max_size=14))
def test_merging_districts_commutes(pops):
    from geo.names import DIVISION_CODES, MERGES

    codes = DIVISION_CODES["sdo14"]
    o = obs([(c, 2010, "p", p) for c, p in zip(codes, pops, strict=True)])
    ind = indicator(kind="sum", variable="p")

    def cw(src, dst):
        return xwalk([(a, b, 1.0) for a, b in MERGES[(src, dst)].items()])

    direct = aggregate(ind, o, cw("sdo14", "sdo11"), "sdo11").set_index("to_code")["value"]
    step = aggregate(ind, o, cw("sdo14", "sdo13"), "sdo13")
    o13 = obs([(c, 2010, "p", v) for c, v in zip(step["to_code"], step["value"], strict=True)])
    via = aggregate(ind, o13, cw("sdo13", "sdo11"), "sdo11").set_index("to_code")["value"]
    pd.testing.assert_series_equal(direct.sort_index(), via.sort_index(), rtol=1e-12)
    assert np.isclose(direct.sum(), sum(pops))
