"""Tests of the shifted-beta-geometric model (feedback_lib.churn.sbg)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from feedback_lib.churn.sbg import SBGModel, cohort_survivors, fit_sbg, fit_sbg_cohorts
from feedback_lib.errors import FeedbackLibError, SmallSampleWarning

# Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1),
# Table 1: customers alive at the start of years 0..12 of two cohorts of 1,000.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def test_fader_hardie_2007_regular_segment():
    m = fit_sbg(REGULAR[:8])  # fitted on years 0-7 as in the paper
    # Fader & Hardie (2007): regular alpha = 0.704, beta = 1.182
    assert m.alpha == pytest.approx(0.704, abs=5e-4)
    assert m.beta == pytest.approx(1.182, abs=5e-4)
    assert (m.n, m.events) == (1000, 1000 - 241)


def test_fader_hardie_2007_high_end_segment():
    m = fit_sbg(HIGH_END[:8])
    # Fader & Hardie (2007): high end alpha = 0.668, beta = 3.806
    assert m.alpha == pytest.approx(0.668, abs=5e-4)
    assert m.beta == pytest.approx(3.806, abs=5e-4)


@pytest.mark.parametrize("data", [REGULAR, HIGH_END])
def test_projection_tracks_the_held_out_years(data):
    """The paper's point: fitted on 7 years, the sBG projects years 8-12 closely.

    Our projections: regular 220, 204, 191, 180, 170 (actual 223 ... 173); high end 460 ... 378
    (actual 468 ... 394, 4.1% low in year 12). The constant-churn (geometric) maximum-likelihood
    fit to the same seven years, the model that ignores heterogeneity, misses by far more.
    """
    m = fit_sbg(data[:8])
    projected = 1000 * m.survival(np.arange(8, 13))
    np.testing.assert_allclose(projected, data[8:], rtol=0.05)
    churn = (data[0] - data[7]) / sum(data[:7])  # geometric MLE: churners / customer-years at risk
    geometric = 1000 * (1 - churn) ** np.arange(8, 13)
    assert np.abs(projected - data[8:]).sum() < 0.5 * np.abs(geometric - data[8:]).sum()


def test_log_likelihood_by_hand():
    m = fit_sbg(REGULAR[:8])
    s = np.asarray(REGULAR[:8], float)
    t = np.arange(1, 8)
    by_hand = np.sum((s[:-1] - s[1:]) * np.log(m.churn_probability(t))) + s[-1] * np.log(m.survival(7))
    assert m.log_likelihood == pytest.approx(by_hand, rel=1e-10)


def test_closed_forms_at_alpha_beta_one():
    # Beta(1, 1) churn probabilities: S(t) = 1 / (t + 1), retention r(t) = t / (t + 1), P(T = t) = 1 / (t (t + 1))
    m = SBGModel(1.0, 1.0, 0.0, 1, 1, ())
    t = np.arange(1, 6)
    np.testing.assert_allclose(m.survival(t), 1 / (t + 1))
    np.testing.assert_allclose(m.retention_rate(t), t / (t + 1))
    np.testing.assert_allclose(m.churn_probability(t), 1 / (t * (t + 1)))
    assert m.expected_lifetime() == np.inf  # the mean of 1 / theta diverges for alpha <= 1
    assert m.mean_churn == 0.5


def test_expected_lifetime_and_derl_against_series_sums():
    m = SBGModel(2.5, 4.0, 0.0, 1, 1, ())
    t = np.arange(0, 20000)
    surv = np.exp(betaln(m.alpha, m.beta + t) - betaln(m.alpha, m.beta))
    assert m.expected_lifetime() == pytest.approx((2.5 + 4.0 - 1) / 1.5)
    assert m.expected_lifetime() == pytest.approx(surv.sum(), rel=1e-3)  # slowly converging tail
    # DERL after n - 1 = 2 renewals: sum_{k >= 1} S(n - 1 + k) / S(n - 1) / (1 + d)^(k - 1)
    d, n = 0.1, 3
    k = np.arange(1, 2000)
    series = np.sum(surv[n - 1 + k] / surv[n - 1] / (1 + d) ** (k - 1))
    assert m.derl(d, renewals=n - 1) == pytest.approx(series, rel=1e-10)


def test_retention_rate_rises_with_tenure_for_a_heterogeneous_cohort():
    m = fit_sbg(REGULAR[:8])
    r = m.retention_rate(np.arange(1, 13))
    assert np.all(np.diff(r) > 0)
    # retention = ratio of consecutive survival values
    np.testing.assert_allclose(r, m.survival(np.arange(1, 13)) / m.survival(np.arange(0, 12)))


def test_pooled_cohorts_of_different_lengths_recover_parameters():
    truth = SBGModel(0.9, 2.2, 0.0, 1, 1, ())
    rows = []
    for c, (size, length) in enumerate([(200_000, 10), (300_000, 6), (500_000, 3)]):
        s = size * truth.survival(np.arange(length + 1))  # expected counts: the MLE is the truth
        rows += [(c, t, v) for t, v in enumerate(s)]
    m = fit_sbg_cohorts(pd.DataFrame(rows, columns=["cohort", "period", "survivors"]))
    assert m.alpha == pytest.approx(0.9, rel=1e-4) and m.beta == pytest.approx(2.2, rel=1e-4)
    assert m.n == 1_000_000 and len(m.cohorts) == 3


def test_two_identical_cohorts_fit_like_one():
    half = [x / 2 for x in REGULAR[:8]]
    table = pd.DataFrame({"cohort": [1] * 8 + [2] * 8, "period": list(range(8)) * 2, "survivors": half * 2})
    pooled, single = fit_sbg_cohorts(table), fit_sbg(REGULAR[:8])
    assert pooled.alpha == pytest.approx(single.alpha, rel=1e-5)
    assert pooled.beta == pytest.approx(single.beta, rel=1e-5)


def test_projection_interval_brackets_the_fit_and_narrows_with_more_customers():
    small = fit_sbg(REGULAR[:8]).projection(12, n_boot=100, seed=1)
    big = fit_sbg([10 * x for x in REGULAR[:8]]).projection(12, n_boot=100, seed=1)
    assert (small["survival_low"] <= small["survival"]).all() and (small["survival"] <= small["survival_high"]).all()
    width_small = (small["survival_high"] - small["survival_low"]).iloc[12]
    width_big = (big["survival_high"] - big["survival_low"]).iloc[12]
    assert width_big < 0.5 * width_small  # ~ 1 / sqrt(10)
    # the held-out year-12 survivors (173 of 1,000) fall inside the 95% projection interval
    assert small["survival_low"].iloc[12] <= 0.173 <= small["survival_high"].iloc[12]
    assert np.isnan(small["retention_rate"].iloc[0])
    pd.testing.assert_frame_equal(small, fit_sbg(REGULAR[:8]).projection(12, n_boot=100, seed=1))


def test_cohort_survivors_from_lifetimes():
    lt = pd.DataFrame({
        "account_id": list("abcdef"),
        "start_month": pd.to_datetime(["2024-01-01"] * 4 + ["2024-03-01"] * 2),
        # as_of is April 2024: January's censored accounts have 4 paid months, March's have 2
        "duration_months": [1, 3, 4, 4, 1, 2],
        "churned": [True, True, False, False, True, False],
    })
    out = cohort_survivors(lt)
    jan = out[out["cohort"] == "2024-01-01"]["survivors"].tolist()
    mar = out[out["cohort"] == "2024-03-01"]["survivors"].tolist()
    assert jan == [4, 3, 3, 2]  # alive at t <=> more than t paid months
    assert mar == [2, 1]


def test_fit_errors_and_warnings():
    with pytest.raises(FeedbackLibError, match="increase"):
        fit_sbg([100, 80, 90])
    with pytest.raises(FeedbackLibError, match="at least two"):
        fit_sbg([100])
    with pytest.raises(FeedbackLibError, match="nobody churned"):
        fit_sbg([100, 100, 100])
    with pytest.raises(FeedbackLibError, match="first period"):
        fit_sbg([100, 0, 0])
    with pytest.warns(SmallSampleWarning):
        fit_sbg([20, 15, 12, 10])
    with pytest.raises(FeedbackLibError, match="without gaps"):
        fit_sbg_cohorts(pd.DataFrame({"cohort": [1, 1], "period": [0, 2], "survivors": [10, 5]}))
    with pytest.raises(FeedbackLibError, match="periods must be >= 1"):
        fit_sbg(REGULAR[:8]).retention_rate(0)
