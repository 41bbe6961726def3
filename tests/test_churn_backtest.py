"""Tests of the churn backtest (feedback_lib.churn.backtest)."""

from __future__ import annotations

import numpy as np
import pytest

import feedback_lib as fl
from feedback_lib.churn.backtest import _auc, _top_decile_churn, backtest


@pytest.fixture(scope="module")
def result(demo):
    # the last cutoff whose 3-month outcome window fits in the data (which ends 2026-09-30)
    return backtest(demo, cutoff="2026-06-30", horizon_months=3)


def test_model_beats_the_segment_baseline_on_the_demo(result):
    m, b = result.metrics.set_index("scorer").loc["model"], result.metrics.set_index("scorer").loc["baseline"]
    figures = (f"n={result.n}, churned={result.events}; AUC model {m.auc:.3f} vs baseline {b.auc:.3f}; "
               f"C {m.concordance:.3f} vs {b.concordance:.3f}; top-decile lift {m.top_decile_lift:.2f} vs "
               f"{b.top_decile_lift:.2f}")
    assert m.auc > b.auc, figures
    assert m.top_decile_lift > b.top_decile_lift, figures
    assert m.concordance > b.concordance, figures
    assert m.auc > 0.6, figures


def test_backtest_bookkeeping(result):
    s = result.scores
    assert result.n == len(s) and result.events == int(s["churned"].sum())
    assert result.cutoff.date().isoformat() == "2026-06-30" and result.horizon_months == 3
    cal = result.calibration
    assert cal["decile"].tolist() == list(range(1, 11))
    assert cal["n"].sum() == result.n and cal["events"].sum() == result.events
    assert cal["predicted"].is_monotonic_increasing
    obs = result.metrics.set_index("scorer")["observed_rate"]
    assert (obs == result.events / result.n).all()
    assert s.loc[s["churned"], "duration_months"].between(1, 3).all()
    assert (s.loc[~s["churned"], "duration_months"] == 3).all()
    # the baseline is one rate per segment
    assert s.groupby("segment")["baseline_probability"].nunique().eq(1).all()
    assert result.metric("auc") == result.metrics.loc[0, "auc"]


def test_backtest_needs_data_after_the_cutoff(demo):
    with pytest.raises(fl.FeedbackLibError, match="outcome window runs to 2026-11-30"):
        backtest(demo, cutoff="2026-08-31", horizon_months=3)
    with pytest.raises(fl.ParameterError, match="horizon_months"):
        backtest(demo, cutoff="2026-06-30", horizon_months=0)


def test_auc_hand_example():
    # the textbook four-point example (also scikit-learn's roc_auc_score docs): 3 of 4 pairs ordered
    assert _auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    # ties count one half
    assert _auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)


def test_top_decile_splits_ties_in_proportion():
    event = np.array([1, 1, 0, 1] + [0] * 16)
    # a constant score carries no information: the top decile has the overall rate, 3 / 20
    assert _top_decile_churn(np.full(20, 0.2), event) == pytest.approx(0.15)
    # 2 slots: the top score (a churner) plus half of each of the two tied next scores (one churner)
    score = np.array([0.9, 0.5, 0.5] + [0.1] * 17)
    assert _top_decile_churn(score, event) == pytest.approx((1 + 0.5 * 1) / 2)
