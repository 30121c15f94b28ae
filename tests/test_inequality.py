import math

import numpy as np
import pandas as pd
import pytest

from indicators.inequality import inequality_table, measures, verdict


def test_equal_values_have_no_inequality():
    m = measures(np.array([5.0, 5.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    assert m["range"] == 0 and m["ratio"] == 1 and m["cv"] == 0 and m["theil"] == pytest.approx(0)


def test_known_values():
    # two districts, weights 1:3, values 10 and 20 -> mean 17.5
    m = measures(np.array([10.0, 20.0]), np.array([1.0, 3.0]))
    assert m["min"] == 10 and m["max"] == 20 and m["range"] == 10 and m["ratio"] == 2
    mean = 17.5
    sd = math.sqrt(0.25 * (10 - mean) ** 2 + 0.75 * (20 - mean) ** 2)
    assert m["cv"] == pytest.approx(sd / mean)
    theil = 0.25 * (10 / mean) * math.log(10 / mean) + 0.75 * (20 / mean) * math.log(20 / mean)
    assert m["theil"] == pytest.approx(theil)


def test_ratio_and_theil_need_positive_values():
    m = measures(np.array([-1.0, 3.0]), np.array([1.0, 1.0]))
    assert math.isnan(m["ratio"]) and math.isnan(m["theil"]) and m["range"] == 4


def test_one_district_is_no_comparison():
    assert all(math.isnan(v) for v in measures(np.array([3.0]), np.array([1.0])).values())


@pytest.mark.parametrize(
    ("cv", "expected"),
    [
        ([0.10, 0.11, 0.12, 0.13], "widening"),
        ([0.13, 0.12, 0.11, 0.10], "narrowing"),
        ([0.10, 0.12, 0.09, 0.101], "no clear change"),
        ([0.10], "too few years"),
    ],
)
def test_verdict_rule(cv, expected):
    assert verdict(np.arange(len(cv)), np.array(cv)) == expected


def test_inequality_table_long_format():
    df = pd.DataFrame({"indicator_id": "x", "division": "sdo11", "year": 2022, "sex": "total",
                       "value": [1.0, 2.0, 4.0], "weight": [1.0, 1.0, 1.0]})
    tab = inequality_table(df).set_index("measure")["value"]
    assert tab["ratio"] == 4 and tab["range"] == 3
