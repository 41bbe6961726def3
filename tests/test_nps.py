"""Tests of feedback_lib.survey.score: reference values, hand computations, edge cases, invariants."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feedback_lib as fl
from feedback_lib.errors import (
    FeedbackLibError,
    ParameterError,
    SchemaError,
    SmallSampleWarning,
)
from feedback_lib.survey.score import (
    NPSResult,
    nps,
    nps_category,
    nps_change,
    nps_sample_size,
)


def sample(promoters: int, passives: int, detractors: int) -> list[int]:
    return [10] * promoters + [7] * passives + [0] * detractors


# --- reference values: metric-definitions.md section 2.7 (brendan-r/NPS R package) -------------


def test_wald_reference_n400():
    # n = 400, 50% P, 20% D: NPS 30, Var = 0.5 + 0.2 - 0.3^2 = 0.61,
    # SE = sqrt(0.61 / 400) = 0.03905 (3.905 points), 95% MOE = 1.96 * 3.905 = 7.65 (~7.7) points
    r = nps(sample(200, 120, 80), method="wald")
    assert r.score == 30.0
    assert r.std_error == pytest.approx(100 * math.sqrt(0.61 / 400))
    assert round(r.std_error, 3) == 3.905
    assert round((r.ci_high - r.ci_low) / 2, 1) == 7.7
    assert (r.ci_high + r.ci_low) / 2 == pytest.approx(30.0)
    assert (r.n, r.promoters, r.passives, r.detractors) == (400, 200, 120, 80)


def test_weekly_change_reference():
    # NPS 30 (n 100, 50% P / 20% D) vs 17 (n 100, 42% P / 25% D):
    # Var1 = 0.61, Var2 = 0.42 + 0.25 - 0.17^2 = 0.6411
    # SE_diff = sqrt(0.61/100 + 0.6411/100) = 0.111853; 95% half-width = 1.96 * 11.1853 = 21.92
    # z = 13 / 11.1853 = 1.1622 -> p = 0.245: not significant
    c = nps_change(sample(50, 30, 20), sample(42, 33, 25))
    assert c.difference == pytest.approx(-13.0)
    assert c.std_error == pytest.approx(100 * math.sqrt(0.0061 + 0.006411))
    assert round((c.ci_high - c.ci_low) / 2, 1) == 21.9
    assert c.ci_low < 0 < c.ci_high
    assert c.p_value == pytest.approx(0.2451, abs=1e-4)
    assert c.p_value > 0.05 and not c.significant
    assert (c.before, c.after) == pytest.approx((30.0, 17.0))


def test_change_accepts_results_and_is_antisymmetric():
    a, b = sample(50, 30, 20), sample(42, 33, 25)
    from_results = nps_change(nps(a), nps(b))
    assert from_results.difference == pytest.approx(nps_change(a, b).difference)
    assert from_results.p_value == pytest.approx(nps_change(a, b).p_value)
    swapped = nps_change(b, a)
    assert swapped.difference == pytest.approx(13.0)
    assert swapped.p_value == pytest.approx(from_results.p_value)


def test_change_significant_with_large_samples():
    # the same 13-point move with n = 1000 each: SE_diff = sqrt(0.61/1000 + 0.6411/1000) = 3.537
    # z = 13 / 3.537 = 3.675 -> p = 0.000238
    c = nps_change(sample(500, 300, 200), sample(420, 330, 250))
    assert c.p_value == pytest.approx(0.000238, rel=0.01)
    assert c.significant


def test_change_of_degenerate_samples():
    with pytest.warns(SmallSampleWarning):
        same = nps_change([10] * 5, [9] * 5)
        opposite = nps_change([10] * 5, [0] * 5)
    assert (same.difference, same.p_value) == (0.0, 1.0)
    assert (opposite.difference, opposite.p_value) == (-200.0, 0.0)


# --- adjusted-Wald, by hand -------------------------------------------------------------------


def test_adjusted_wald_by_hand():
    # 8 promoters, 1 passive, 1 detractor (n 10). Add 3/4 to P and D, 3 to n:
    # p = 8.75/13 = 0.673077, d = 1.75/13 = 0.134615, centre = 0.538462
    # Var = 0.673077 + 0.134615 - 0.538462^2 = 0.807692 - 0.289941 = 0.517751
    # SE = sqrt(0.517751 / 13) = 0.199567; half-width = 1.959964 * 0.199567 = 0.391144
    # interval = [0.147318, 0.929605] -> [14.73, 92.96] points; score stays the plain 70
    with pytest.warns(SmallSampleWarning):
        r = nps(sample(8, 1, 1))
    assert r.method == "adjusted-wald"
    assert r.score == 70.0
    assert r.std_error == pytest.approx(19.9567, abs=1e-3)
    assert r.ci_low == pytest.approx(14.7318, abs=1e-3)
    assert r.ci_high == pytest.approx(92.9605, abs=1e-3)


def test_all_promoters():
    # Wald: Var = 1 + 0 - 1 = 0, so SE 0 and a degenerate interval [100, 100] (documented)
    wald = nps([10] * 20, method="wald", min_n=1)
    assert (wald.score, wald.std_error, wald.ci_low, wald.ci_high) == (100.0, 0.0, 100.0, 100.0)
    # adjusted: p = 20.75/23 = 0.902174, d = 0.75/23 = 0.032609, centre 0.869565
    # Var = 0.934783 - 0.756144 = 0.178639; SE = sqrt(0.178639/23) = 0.088130
    # interval 0.869565 -+ 1.959964 * 0.088130 = [0.696833, 1.042297] -> [69.68, 100 (clipped)]
    adj = nps([10] * 20, min_n=1)
    assert adj.ci_low == pytest.approx(69.683, abs=1e-2)
    assert adj.ci_high == 100.0
    assert adj.std_error == pytest.approx(8.8130, abs=1e-3)


def test_single_response():
    # n = 1 promoter: Wald SE 0. Adjusted: p = 1.75/4, d = 0.75/4, centre 0.25,
    # Var = 0.625 - 0.0625 = 0.5625, SE = sqrt(0.5625/4) = 0.375, 0.25 -+ 0.734986
    with pytest.warns(SmallSampleWarning, match="fewer than min_n=30"):
        r = nps([9])
    assert r.n == 1 and r.score == 100.0
    assert r.std_error == pytest.approx(37.5)
    assert (r.ci_low, r.ci_high) == pytest.approx((-48.4986, 98.4986), abs=1e-3)
    with pytest.warns(SmallSampleWarning):
        assert nps([9], method="wald").std_error == 0.0


def test_confidence_changes_width():
    s = sample(200, 120, 80)
    r90, r99 = nps(s, confidence=0.90, method="wald"), nps(s, confidence=0.99, method="wald")
    # 90%: z = 1.644854 -> half-width 6.42; 99%: z = 2.575829 -> 10.06
    assert (r90.ci_high - r90.ci_low) / 2 == pytest.approx(1.644854 * 3.905125, abs=1e-3)
    assert (r99.ci_high - r99.ci_low) / 2 == pytest.approx(2.575829 * 3.905125, abs=1e-3)


# --- weighted (revenue-weighted) NPS ----------------------------------------------------------


def test_weighted_kish():
    # weights 1, 3, 2, 4 on scores 10, 10, 0, 8: W = 10, P = 4, D = 2, Q = 4 -> NPS 20
    # Kish n_eff = 10^2 / (1 + 9 + 4 + 16) = 3.3333; Var = 0.4 + 0.2 - 0.2^2 = 0.56
    # Wald SE = sqrt(0.56 / 3.3333) = 0.409878
    with pytest.warns(SmallSampleWarning):
        r = nps([10, 10, 0, 8], weights=[1, 3, 2, 4], method="wald")
    assert r.score == pytest.approx(20.0)
    assert (r.n, r.promoters, r.passives, r.detractors) == (10.0, 4.0, 4.0, 2.0)
    assert r.n_responses == 4
    assert r.n_effective == pytest.approx(10 / 3)
    assert r.std_error == pytest.approx(40.9878, abs=1e-3)


def test_equal_weights_match_unweighted():
    s = sample(200, 120, 80)
    plain = nps(s)
    weighted = nps(s, weights=np.full(len(s), 250.0))
    assert weighted.score == pytest.approx(plain.score)
    assert weighted.ci_low == pytest.approx(plain.ci_low)
    assert weighted.ci_high == pytest.approx(plain.ci_high)
    assert weighted.n_effective == pytest.approx(400)


def test_zero_weight_drops_response():
    s = sample(200, 120, 80)
    with_extra = nps(s + [0], weights=[1.0] * 400 + [0.0])
    assert with_extra.score == pytest.approx(nps(s).score)
    assert with_extra.ci_low == pytest.approx(nps(s).ci_low)


@pytest.mark.parametrize("weights, match", [([1.0, -1.0], "negative"), ([1.0, np.nan], "missing"),
                                            ([1.0], "one weight per score"), ([0.0, 0.0], "sum to 0")])
def test_bad_weights(weights, match):
    with pytest.raises(FeedbackLibError, match=match):
        nps([9, 3], weights=weights)


# --- bootstrap --------------------------------------------------------------------------------


def test_bootstrap_is_seeded_and_close_to_wald():
    s = sample(200, 120, 80)
    a, b = nps(s, method="bootstrap"), nps(s, method="bootstrap")
    assert a == b
    assert a.score == 30.0
    assert a.std_error == pytest.approx(3.905, abs=0.3)  # Wald SE 3.905 (n = 400)
    assert a.ci_low == pytest.approx(22.35, abs=1.0) and a.ci_high == pytest.approx(37.65, abs=1.0)
    assert nps(s, method="bootstrap", seed=1) != a


def test_weighted_bootstrap():
    s = sample(50, 30, 20)
    r = nps(s, weights=np.ones(100), method="bootstrap", n_boot=500)
    assert r == nps(s, weights=np.ones(100), method="bootstrap", n_boot=500)
    assert r.std_error == pytest.approx(7.81, abs=0.8)  # Wald SE sqrt(0.61/100) = 7.81
    with pytest.raises(ParameterError, match="n_boot"):
        nps(s, weights=np.ones(100), method="bootstrap", n_boot=1)


# --- input errors -----------------------------------------------------------------------------


def test_empty_input():
    with pytest.raises(FeedbackLibError, match="no scores"):
        nps([])


def test_invalid_scores_name_positions_and_values():
    with pytest.raises(SchemaError) as info:
        nps([9, 11, 7.5, np.nan, 3, -1])
    message = str(info.value)
    assert "2 values outside 0-10 (positions 2, 6; e.g. 11, -1)" in message
    assert "1 value not an integer (position 3; e.g. 7.5)" in message
    assert "1 value missing (position 4" in message
    assert isinstance(info.value, ValueError)
    failures = info.value.failures
    assert failures.sort_values("row")["row"].tolist() == [2, 3, 4, 6]


def test_invalid_scores_from_nullable_and_text():
    with pytest.raises(SchemaError, match="missing"):
        nps(pd.Series([9, None, 3], dtype="Int64"))
    with pytest.raises(SchemaError, match=r"not a number \(position 2; e.g. ten\)"):
        nps(["9", "ten"])
    with pytest.raises(SchemaError, match="1-D"):
        nps([[9, 10], [3, 4]])


def test_accepts_nullable_int_series_and_numeric_strings():
    assert nps(pd.Series([10, 9, 0, 7] * 10, dtype="Int64")).score == 25.0  # (20 - 10) / 40
    assert nps(np.array(["10", "9", "0", "7"] * 10)).score == 25.0


def test_bad_parameters():
    with pytest.raises(ParameterError, match="method must be one of"):
        nps([9] * 40, method="tago")
    with pytest.raises(FeedbackLibError, match="confidence"):
        nps([9] * 40, confidence=95)


def test_to_frame_and_top_level_names():
    r = nps(sample(50, 30, 20))
    frame = r.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "score"] == 30.0
    assert fl.nps is nps and fl.nps_change is nps_change and fl.NPSResult is NPSResult
    assert nps_change(sample(50, 30, 20), sample(50, 30, 20)).to_frame().loc[0, "p_value"] == 1.0


def test_nps_category():
    s = pd.Series([0, 6, 7, 8, 9, 10], index=list("abcdef"))
    cats = nps_category(s)
    assert cats.tolist() == ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    assert list(cats.index) == list("abcdef")


# --- sample size ------------------------------------------------------------------------------


def test_sample_size_by_hand():
    # n = (z_0.975 + z_0.8)^2 (Var1 + Var2) / delta^2
    #   = (1.959964 + 0.841621)^2 * (0.61 + 0.61) / 0.10^2 = 7.848879 * 1.22 / 0.01 = 957.56 -> 958
    assert nps_sample_size(change=10) == 958
    # detect 13 points (the weekly example): 7.848879 * 1.22 / 0.0169 = 566.6 -> 567 per week
    assert nps_sample_size(change=13) == 567
    # 90% power, 50/50 promoters/detractors (Var = 1): (1.959964 + 1.281552)^2 * 2 / 0.2^2 = 525.4
    assert nps_sample_size(change=-20, power=0.9, promoters=0.5, detractors=0.5) == 526


def test_sample_size_gives_the_power_it_promises():
    n = nps_sample_size(change=10)
    se = math.sqrt(2 * 0.61 / n)
    from scipy.stats import norm
    assert norm.cdf(0.10 / se - 1.959964) == pytest.approx(0.80, abs=0.002)


@pytest.mark.parametrize("kwargs", [dict(change=0), dict(change=10, power=1.2),
                                    dict(change=10, promoters=60, detractors=20),
                                    dict(change=10, promoters=1.0, detractors=0.0)])
def test_sample_size_rejects(kwargs):
    with pytest.raises(ParameterError):
        nps_sample_size(**kwargs)


# --- properties -------------------------------------------------------------------------------

scores_strategy = st.lists(st.integers(0, 10), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(scores=scores_strategy, method=st.sampled_from(["wald", "adjusted-wald"]),
       seed=st.integers(0, 2**31))
def test_properties(scores, method, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        r = nps(scores, method=method)
        shuffled = nps(list(np.random.default_rng(seed).permutation(scores)), method=method)
    assert -100 <= r.ci_low <= r.ci_high <= 100
    assert -100 <= r.score <= 100 and r.std_error >= 0
    assert r.promoters + r.passives + r.detractors == r.n == len(scores)
    assert shuffled == r
    if method == "wald":
        assert r.ci_low <= r.score + 1e-9 and r.score - 1e-9 <= r.ci_high
    else:
        assert r.ci_high > r.ci_low  # adjusted-Wald never collapses


@settings(max_examples=40, deadline=None)
@given(scores=st.lists(st.integers(0, 10), min_size=2, max_size=100),
       scale=st.floats(0.01, 1e6))
def test_weight_scale_invariance(scores, scale):
    w = np.linspace(1, 3, len(scores))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        a, b = nps(scores, weights=w), nps(scores, weights=w * scale)
    assert b.score == pytest.approx(a.score, abs=1e-9)
    assert (b.ci_low, b.ci_high) == pytest.approx((a.ci_low, a.ci_high), abs=1e-9)
    assert b.n_effective == pytest.approx(a.n_effective)


# --- adjusted-Wald change test and the minimum sample for a comparison -------------------------


def test_adjusted_wald_change_by_hand():
    # The Enterprise week of issue 14: last week one detractor (NPS -100), this week 3 promoters
    # and 1 passive (NPS +75). Adjusted: before p = 0.75/4, d = 1.75/4, n 4 -> Var 0.5625;
    # after p = 3.75/7, d = 0.75/7, n 7 -> Var 0.459184. SE = sqrt(0.5625/4 + 0.459184/7)
    # = 0.454118; adjusted difference 0.428571 + 0.25 = 0.678571; z = 1.4943, p = 0.1351.
    with pytest.warns(SmallSampleWarning):
        c = nps_change([0], [10, 10, 10, 7], method="adjusted-wald")
    assert c.difference == 175.0  # the plain difference is reported
    assert c.std_error == pytest.approx(45.4118, abs=1e-3)
    assert c.p_value == pytest.approx(0.1351, abs=1e-3)
    assert (c.n_before, c.n_after) == (1.0, 4.0)
    assert not c.comparable and not c.significant
    with pytest.warns(SmallSampleWarning):
        wald = nps_change([0], [10, 10, 10, 7])
    assert wald.p_value < 0.001  # what the old report called "statistically significant"
    assert not wald.significant  # below MIN_N_COMPARE, never significant whatever the method


def test_never_significant_below_minimum():
    assert fl.survey.score.MIN_N_COMPARE >= 10
    with pytest.warns(SmallSampleWarning):
        tiny = nps_change([0] * 9, [10] * 200, method="adjusted-wald")
        enough = nps_change([0] * 10, [10] * 200, method="adjusted-wald")
    assert tiny.p_value < 1e-6 and not tiny.significant
    assert enough.significant
    with pytest.raises(ParameterError, match="min_n_compare"):
        nps_change([0] * 10, [10] * 10, min_n_compare=5)
    with pytest.raises(ParameterError, match="method"):
        nps_change([0] * 10, [10] * 10, method="bootstrap")


def _exact_size(n: int, promoters: float, detractors: float, method: str) -> float:
    """P(p < 0.05) under H0 (both weeks share the mix), summing all trinomial outcome pairs."""
    from scipy.stats import multinomial

    from feedback_lib.survey.score import change_test

    outcomes = np.array([(a, b, n - a - b) for a in range(n + 1) for b in range(n + 1 - a)])
    prob = multinomial.pmf(outcomes, n, [promoters, detractors, 1 - promoters - detractors])
    p, d = outcomes[:, 0] / n, outcomes[:, 1] / n
    p_value = change_test(p[:, None], d[:, None], n, p[None, :], d[None, :], n, confidence=0.95,
                          method=method)[3]
    return float((prob[:, None] * prob[None, :] * (p_value < 0.05)).sum())


@pytest.mark.parametrize("mix", [(0.5, 0.2), (0.3, 0.3), (0.6, 0.1), (0.4, 0.4), (0.8, 0.1)])
def test_adjusted_wald_change_keeps_its_size_at_the_minimum(mix):
    # exact false-alarm rates at n = 10 per week (computed for MIN_N_COMPARE's documentation):
    # adjusted-Wald 0.012-0.051, Wald 0.076-0.084
    adjusted = _exact_size(10, *mix, "adjusted-wald")
    assert 0.005 < adjusted <= 0.055
    assert _exact_size(10, *mix, "wald") > 0.07
