"""Tests of retention value projections (feedback_lib.valuation.projections)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_lib._util.stats import Proportion, wilson_interval
from feedback_lib.errors import FeedbackLibError, ParameterError, SmallSampleWarning
from feedback_lib.valuation.projections import (
    compounding_improvement,
    observed_churn,
    project_arr,
    retention_scenario,
    value_of_churn_point,
)


def test_project_arr_closed_form_without_bookings():
    out = project_arr(2_000_000.0, churn=0.12, expansion=0.05, years=5)
    np.testing.assert_allclose(out["arr"], 2_000_000.0 * 0.93 ** np.arange(6))
    assert (out["arr"] == out["arr_low"]).all() and (out["arr"] == out["arr_high"]).all()


def test_project_arr_with_bookings_by_hand():
    # 1000 -> 1000 * 0.9 + 100 = 1000 -> steady state when bookings replace churn exactly
    assert project_arr(1000.0, churn=0.1, new_arr=100.0, years=3)["arr"].tolist() == pytest.approx([1000.0] * 4)
    # g = 1: linear growth
    assert project_arr(1000.0, churn=0.1, expansion=0.1, new_arr=50.0, years=2)["arr"].tolist() == pytest.approx([1000, 1050, 1100])


def test_project_arr_carries_the_churn_interval():
    p = wilson_interval(30, 200)  # 15% churn, Wilson 95% interval
    out = project_arr(1000.0, churn=p, years=3)
    assert out["arr"].iloc[3] == pytest.approx(1000 * 0.85**3)
    assert out["arr_low"].iloc[3] == pytest.approx(1000 * (1 - p.ci_high) ** 3)
    assert out["arr_high"].iloc[3] == pytest.approx(1000 * (1 - p.ci_low) ** 3)


def test_retention_scenario_by_hand():
    s = retention_scenario(1000.0, churn=0.2, churn_change=-0.05, expansion=0.1, expansion_change=0.02, years=2)
    # current g = 0.9, scenario g = 0.97
    assert s.table["current"].tolist() == pytest.approx([1000, 900, 810])
    assert s.table["scenario"].tolist() == pytest.approx([1000, 970, 940.9])
    assert s.arr_gain == pytest.approx(130.9)
    # trapezoid revenue: year 1 (0 + 70) / 2, year 2 (70 + 130.9) / 2
    assert s.revenue_gain == pytest.approx(35 + 100.45)
    d = retention_scenario(1000.0, churn=0.2, churn_change=-0.05, years=2, discount_rate=0.1)
    # current 1000, 800, 640; scenario 1000, 850, 722.5
    assert d.revenue_gain == pytest.approx((0 + 50) / 2 / 1.1 + (50 + 82.5) / 2 / 1.1**2)


def test_value_of_one_churn_point_closed_form():
    v = value_of_churn_point(5_000_000.0, churn=0.15, years=5)
    assert v.arr_gain == pytest.approx(5_000_000.0 * (0.86**5 - 0.85**5))
    assert v.point == 0.01 and v.churn == 0.15 and v.years == 5
    p = Proportion(share=0.15, ci_low=0.10, ci_high=0.20, n=400, successes=60)
    w = value_of_churn_point(5_000_000.0, churn=p, years=5)
    # gain at the two ends of the churn interval: lower churn leaves a bigger base to save
    assert w.arr_gain_low == pytest.approx(5_000_000.0 * (0.81**5 - 0.80**5))
    assert w.arr_gain_high == pytest.approx(5_000_000.0 * (0.91**5 - 0.90**5))
    assert w.arr_gain_low < w.arr_gain < w.arr_gain_high
    assert list(w.to_frame().columns)[:3] == ["arr_gain", "arr_gain_low", "arr_gain_high"]


def test_compounding_improvement_by_hand():
    t = compounding_improvement(1000.0, churn=0.2, improvement_per_week=0.01, weeks=2, years=1)
    assert len(t) == 53 and t["churn_rate"].tolist()[:4] == pytest.approx([0.2, 0.19, 0.18, 0.18])
    # week 1 at 19%, week 2 onwards at 18% a year
    expected = 1000 * 0.81 ** (1 / 52) * 0.82 ** (51 / 52)
    assert t["improved"].iloc[-1] == pytest.approx(expected)
    assert t["current"].iloc[-1] == pytest.approx(800.0)
    # no improvement: the constant path
    flat = compounding_improvement(1000.0, churn=0.2, improvement_per_week=0.0, years=2)
    np.testing.assert_allclose(flat["improved"], flat["current"])
    assert flat["current"].iloc[-1] == pytest.approx(640.0)


def test_compounding_improvement_of_a_tenth_of_a_point_a_week():
    # 0.1 point a week for a year takes 20% annual churn to 14.8%: ARR after two years, by hand
    t = compounding_improvement(1.0, churn=0.2, improvement_per_week=0.001, weeks=52, years=2)
    rates = np.r_[0.2 - 0.001 * np.arange(1, 53), np.full(52, 0.2 - 0.052)]
    assert t["churn_rate"].iloc[-1] == pytest.approx(0.148)
    assert t["improved"].iloc[-1] == pytest.approx(np.prod((1 - rates) ** (1 / 52)))
    assert t["gain"].iloc[-1] == pytest.approx(np.prod((1 - rates) ** (1 / 52)) - 0.64)


def test_scenario_interval_where_the_floor_at_zero_churn_bites():
    # churn 5% (interval 0-10%) and a 5-point cut: at 0% churn the cut saves nothing, at 5% it saves the most
    p = Proportion(share=0.05, ci_low=0.0, ci_high=0.10, n=1000, successes=50)
    s = retention_scenario(1000.0, churn=p, churn_change=-0.05, years=1)
    assert s.arr_gain == pytest.approx(50.0)
    assert s.arr_gain_low == pytest.approx(0.0) and s.arr_gain_high == pytest.approx(50.0)


def test_compounding_interval_from_proportion():
    p = Proportion(share=0.2, ci_low=0.15, ci_high=0.25, n=500, successes=100)
    t = compounding_improvement(1000.0, churn=p, improvement_per_week=0.001)
    last = t.iloc[-1]
    assert last["gain_low"] <= last["gain"] <= last["gain_high"]


def test_observed_churn_by_hand():
    rev = pd.DataFrame({
        "account_id": ["a", "b", "c", "d", "a", "b", "e"],
        "month": pd.to_datetime(["2024-06-01"] * 4 + ["2025-06-01"] * 3),
        "mrr": [100.0, 300.0, 100.0, 0.0, 150.0, 0.0, 50.0],  # d paid nothing in June 2024
    })
    logo = observed_churn(rev, as_of="2025-06-30")
    # start base a, b, c; still paying a: 2 of 3 churned (b has a zero row, c has none)
    assert (logo.share, logo.n, logo.successes) == (pytest.approx(2 / 3), 3, 2)
    ref = wilson_interval(2, 3)
    assert (logo.ci_low, logo.ci_high) == (ref.ci_low, ref.ci_high)
    rev_churn = observed_churn(rev, as_of="2025-06-30", weight="mrr")
    assert rev_churn.share == pytest.approx(400 / 500) and rev_churn.successes == 400.0
    # ratio-estimator SE by hand: residuals y - R x = (0 - 80, 300 - 240, 100 - 80) for x = 100, 300, 100
    se = np.sqrt((80**2 + 60**2 + 20**2) / (3 * 2)) / (500 / 3)
    assert rev_churn.ci_high == pytest.approx(min(1.0, 0.8 + 1.959964 * se), rel=1e-6)
    assert rev_churn.ci_low == pytest.approx(0.8 - 1.959964 * se, rel=1e-6)


def test_errors_and_small_sample_warning():
    with pytest.raises(ParameterError, match="churn"):
        project_arr(1000.0, churn=1.5)
    with pytest.raises(ParameterError, match="years"):
        project_arr(1000.0, churn=0.1, years=0)
    with pytest.raises(ParameterError, match="arr"):
        project_arr(-5.0, churn=0.1)
    with pytest.raises(ParameterError, match="improvement_per_week"):
        compounding_improvement(1000.0, churn=0.1, improvement_per_week=-0.01)
    with pytest.warns(SmallSampleWarning, match="12 accounts"):
        project_arr(1000.0, churn=wilson_interval(3, 12))
    rev = pd.DataFrame({"account_id": ["a"], "month": pd.to_datetime(["2025-06-01"]), "mrr": [1.0]})
    with pytest.raises(FeedbackLibError, match="no account paid"):
        observed_churn(rev, as_of="2025-06-30")
    with pytest.raises(ParameterError, match="weight"):
        observed_churn(rev, as_of="2025-06-30", weight="seats")


@settings(max_examples=60, deadline=None)
@given(
    churn=st.floats(0.0, 0.9), lo=st.floats(0.0, 1.0), hi=st.floats(0.0, 1.0),
    change=st.floats(-0.3, 0.0), years=st.integers(1, 10),
)
def test_scenario_gain_interval_contains_the_point(churn, lo, hi, change, years):
    p = Proportion(share=churn, ci_low=churn * lo, ci_high=churn + (1 - churn) * hi, n=1000, successes=0)
    s = retention_scenario(1000.0, churn=p, churn_change=change, years=years)
    assert s.arr_gain_low - 1e-9 <= s.arr_gain <= s.arr_gain_high + 1e-9
    assert s.revenue_gain_low - 1e-9 <= s.revenue_gain <= s.revenue_gain_high + 1e-9
    assert s.arr_gain >= -1e-9  # less churn never loses ARR
