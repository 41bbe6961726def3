"""Tests of account lifetimes and Kaplan-Meier survival (feedback_lib.churn.kaplan_meier)."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feedback_lib as fl
from feedback_lib.churn.kaplan_meier import kaplan_meier, plot_km
from feedback_lib.churn.lifetimes import account_lifetimes
from feedback_lib.errors import FeedbackLibError, ParameterError, SmallSampleWarning

matplotlib.use("Agg")

# Freireich et al. (1963) remission times in weeks, as tabulated in Kleinbaum & Klein,
# Survival Analysis: A Self-Learning Text (3rd ed., 2012), chapter 1-2. 0 = censored.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_TIMES = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def _revenue(rows: dict[str, list[tuple[str, float]]]) -> pd.DataFrame:
    out = [(acc, pd.Timestamp(m), mrr) for acc, months in rows.items() for m, mrr in months]
    return pd.DataFrame(out, columns=["account_id", "month", "mrr"])


# ----------------------------------------------------------------------------- lifetimes
def test_lifetimes_hand_cases():
    rev = _revenue({
        # paid Jan-Feb, gap in Mar (0), reactivated Apr-Jun: first lifetime is 2 months, churned in March
        "gap": [("2024-01-01", 10), ("2024-02-01", 10), ("2024-03-01", 0), ("2024-04-01", 10),
                ("2024-05-01", 10), ("2024-06-01", 10)],
        # paid Mar-Jun and still paying in June: censored, 4 paid months
        "open": [("2024-03-01", 5), ("2024-04-01", 5), ("2024-05-01", 5), ("2024-06-01", 5)],
        # last paid month April, nothing after: churned in May after 3 months
        "gone": [("2024-02-01", 7), ("2024-03-01", 7), ("2024-04-01", 9)],
        # paid only in the as_of month: censored with 1 month
        "new": [("2024-06-01", 1)],
    })
    lt = account_lifetimes(rev.sample(frac=1, random_state=3), as_of="2024-06-15").set_index("account_id")
    assert lt.loc["gap", ["duration_months", "churned"]].tolist() == [2, True]
    assert lt.loc["gap", "churn_month"] == pd.Timestamp("2024-03-01")
    assert lt.loc["open", ["duration_months", "churned"]].tolist() == [4, False]
    assert pd.isna(lt.loc["open", "churn_month"])
    assert lt.loc["gone", ["duration_months", "churned"]].tolist() == [3, True]
    assert lt.loc["gone", "churn_month"] == pd.Timestamp("2024-05-01")
    assert lt.loc["new", ["duration_months", "churned"]].tolist() == [1, False]
    assert lt.loc["gone", "start_month"] == pd.Timestamp("2024-02-01")
    assert list(lt.reset_index().columns[:4]) == ["account_id", "start_month", "duration_months", "churned"]


def test_lifetimes_ignore_months_after_as_of():
    rev = _revenue({"a": [("2024-01-01", 10), ("2024-02-01", 10), ("2024-03-01", 10)],
                    "b": [("2024-03-01", 10)]})
    lt = account_lifetimes(rev, as_of="2024-02-29")
    # as of February, "a" has paid 2 months and is still paying; "b" has not started
    assert lt["account_id"].tolist() == ["a"]
    assert lt[["duration_months", "churned"]].values.tolist() == [[2, False]]


def test_lifetimes_empty_and_missing_columns():
    empty = pd.DataFrame({"account_id": [], "month": pd.to_datetime([]), "mrr": []})
    assert len(account_lifetimes(empty, as_of="2024-01-31")) == 0
    with pytest.raises(FeedbackLibError, match="mrr"):
        account_lifetimes(empty.drop(columns="mrr"), as_of="2024-01-31")
    with pytest.raises(ParameterError, match="as_of"):
        account_lifetimes(empty, as_of="not a date")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=12), min_size=1, max_size=6))
def test_lifetimes_match_a_loop_over_months(paid_patterns):
    """Vectorised result == a plain loop over each account's months (the contract's wording)."""
    rows, expected = [], {}
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    for i, pattern in enumerate(paid_patterns):
        if not pattern[0]:
            pattern = [True, *pattern[1:]]  # revenue tables start at the first paid month
        acc = f"a{i}"
        last = max(j for j, p in enumerate(pattern) if p)
        rows += [(acc, months[j], 10.0 if pattern[j] else 0.0) for j in range(last + 1)]
        run = next((j for j, p in enumerate(pattern[: last + 1]) if not p), last + 1)
        churned = run <= last or last < 11
        expected[acc] = (run, churned)
    rev = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    lt = account_lifetimes(rev, as_of="2024-12-31")
    got = {r.account_id: (r.duration_months, r.churned) for r in lt.itertuples()}
    assert got == expected
    # tables whose accounts start with an unpaid month take the other code path: same lifetimes
    lead = pd.DataFrame({"account_id": sorted(expected), "month": pd.Timestamp("2023-12-01"), "mrr": 0.0})
    padded = pd.concat([lead, rev]).sort_values(["account_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(account_lifetimes(padded, as_of="2024-12-31"), lt)


# ----------------------------------------------------------------------------- Kaplan-Meier
@pytest.fixture(scope="module")
def leukemia() -> pd.DataFrame:
    return pd.DataFrame({
        "duration_months": SIX_MP_TIMES + PLACEBO_TIMES,
        "churned": SIX_MP_EVENTS + [1] * 21,
        "group": ["6-MP"] * 21 + ["placebo"] * 21,
    })


def test_km_matches_kleinbaum_and_klein_6mp_table(leukemia):
    km = kaplan_meier(leukemia[leukemia.group == "6-MP"])
    curve = km.curves.set_index("time")
    # Kleinbaum & Klein (2012), KM table for the 6-MP group
    for t, s in {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}.items():
        assert curve.loc[t, "survival"] == pytest.approx(s, abs=5e-4), t
    assert curve.loc[6, ["at_risk", "events", "censored"]].tolist() == [21, 3, 1]
    row = km.summary.iloc[0]
    assert (row["n"], row["events"], row["median"]) == (21, 9, 23.0)
    # log(-log) Greenwood band at t = 6, as R survfit(conf.type = "log-log") prints: 0.620 - 0.952
    assert curve.loc[6, "ci_low"] == pytest.approx(0.620, abs=1e-3)
    assert curve.loc[6, "ci_high"] == pytest.approx(0.952, abs=1e-3)
    # median interval (Brookmeyer-Crowley on the same band): lower 13, upper not reached
    assert row["median_ci_low"] == 13.0 and math.isinf(row["median_ci_high"])


def test_km_restricted_mean_by_hand(leukemia):
    km = kaplan_meier(leukemia[leukemia.group == "6-MP"], horizon=23)
    # area under the step curve up to 23 weeks, from the table above
    s = [1, 18 / 21, 18 / 21 * 16 / 17]
    s += [s[-1] * 14 / 15, s[-1] * 14 / 15 * 11 / 12]
    s += [s[-1] * 10 / 11, s[-1] * 10 / 11 * 6 / 7]
    area = 6 * s[0] + 1 * s[1] + 3 * s[2] + 3 * s[3] + 3 * s[4] + 6 * s[5] + 1 * s[6]
    assert km.summary["rmst"].iloc[0] == pytest.approx(area, rel=1e-12)
    assert area == pytest.approx(17.909, abs=1e-3)


def test_km_rmst_standard_error_equals_sample_se_without_censoring():
    # no censoring: KM is the empirical distribution and the RMST variance is sum((x - mean)^2) / n^2
    lt = pd.DataFrame({"duration_months": [1, 2, 3], "churned": [1, 1, 1]})
    with pytest.warns(SmallSampleWarning):
        row = kaplan_meier(lt, horizon=3).summary.iloc[0]
    assert row["rmst"] == pytest.approx(2.0)
    assert row["rmst_se"] == pytest.approx(math.sqrt(2 / 9))


def test_logrank_matches_kleinbaum_and_klein(leukemia):
    km = kaplan_meier(leukemia, by="group")
    lr = km.logrank.iloc[0]
    # Kleinbaum & Klein (2012), chapter 2: log-rank chi-square 16.793 on 1 df, p < 0.0001
    assert lr["test_statistic"] == pytest.approx(16.793, abs=1e-3)
    assert lr["df"] == 1 and lr["p_value"] < 1e-4
    assert km.summary.set_index("group").loc["placebo", "median"] == 8.0
    assert len(km.logrank) == 1  # two groups: no pairwise rows


def test_km_three_groups_adds_pairwise_tests_and_one_group_has_none(leukemia):
    three = leukemia.assign(group=np.where(leukemia.index % 3 == 0, "x", leukemia["group"]))
    km = kaplan_meier(three, by="group")
    assert km.logrank["comparison"].tolist()[0] == "all groups"
    assert len(km.logrank) == 4 and (km.logrank["df"].iloc[1:] == 1).all()
    single = kaplan_meier(leukemia, by=None)
    assert single.logrank.empty and list(single.logrank.columns) == ["comparison", "test_statistic", "df", "p_value"]


def test_km_group_without_events_and_missing_group():
    lt = pd.DataFrame({
        "duration_months": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12] * 2,
        "churned": [0] * 10 + [1] * 10,
        "segment": ["Ent"] * 10 + [None] * 10,
    })
    km = kaplan_meier(lt, by="segment")
    ent = km.summary.set_index("group").loc["Ent"]
    assert ent["events"] == 0 and math.isinf(ent["median"])
    assert (km.curves.query("group == 'Ent'")["survival"] == 1).all()
    assert "(missing)" in set(km.summary["group"])


def test_km_errors():
    with pytest.raises(FeedbackLibError, match="empty"):
        kaplan_meier(pd.DataFrame({"duration_months": [], "churned": []}))
    with pytest.raises(FeedbackLibError, match="segment"):
        kaplan_meier(pd.DataFrame({"duration_months": [1], "churned": [1]}), by="segment")
    with pytest.raises(FeedbackLibError, match=">= 0"):
        kaplan_meier(pd.DataFrame({"duration_months": [1, -2], "churned": [1, 1]}))


def test_plot_km_draws_one_line_per_group_on_given_axes(leukemia):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot_km(kaplan_meier(leukemia, by="group"), ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["6-MP (n=21)", "placebo (n=21)"]
    plt.close(fig)


def test_landmark_lifetimes_follow_accounts_paying_at_the_landmark():
    # a pays Jan-Apr (censored at Apr: Feb, Mar, Apr = 3 paid months from the landmark);
    # b pays Feb-Mar then nothing in Apr (churn: Feb, Mar = 2 paid months, event);
    # c starts after the landmark month and is not followed
    rev = pd.DataFrame({
        "account_id": ["a"] * 4 + ["b"] * 3 + ["c"],
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
                                 "2024-02-01", "2024-03-01", "2024-04-01", "2024-04-01"]),
        "mrr": [10.0, 10.0, 10.0, 10.0, 5.0, 5.0, 0.0, 7.0]})
    groups = pd.DataFrame({"account_id": ["a", "b", "c"], "nps_category": ["promoter", "detractor", "passive"]})
    lt = fl.landmark_lifetimes(rev, landmark="2024-02-10", as_of="2024-04-30", groups=groups)
    assert lt[["account_id", "duration_months", "churned", "nps_category"]].values.tolist() == [
        ["a", 3, False, "promoter"], ["b", 2, True, "detractor"]]
    with pytest.raises(fl.FeedbackLibError, match="after as_of"):
        fl.landmark_lifetimes(rev, landmark="2024-06-01", as_of="2024-04-30")


def test_landmark_survival_by_nps_category_shows_the_planted_detractor_effect():
    # planted: detractors churn 2.5x as fast (demo TRUTH); accounts classified a year before
    # as_of by their latest response and followed for the year after
    ds = fl.generate_demo(seed=42)
    revenue = fl.monthly_revenue(ds.subscriptions, as_of="2026-09-30")
    groups = fl.account_covariates(ds, as_of="2025-09-30")[["account_id", "nps_category"]]
    lt = fl.landmark_lifetimes(revenue, landmark="2025-09-30", as_of="2026-09-30", groups=groups)
    km = fl.kaplan_meier(lt, by="nps_category")
    rmst = km.summary.set_index("group")["rmst"]
    assert rmst["detractor"] < rmst["promoter"] - 1.0, km.summary
    test = km.logrank.set_index("comparison").loc["detractor vs promoter"]
    assert test["p_value"] < 0.01, km.logrank


def test_logrank_p_and_group_rmst_are_defined_for_one_group():
    lt = pd.DataFrame({"duration_months": [1, 2, 3, 4], "churned": [True, False, True, False], "g": ["a"] * 4})
    with pytest.warns(SmallSampleWarning, match="fewer than 10"):
        km = kaplan_meier(lt, by="g")
    assert math.isnan(km.logrank_p) and math.isnan(km.group_rmst("b"))
    # one group, horizon 4: S = 1 on [0,1), 3/4 on [1,3), 3/4 * 1/2 on [3,4) -> 1 + 1.5 + 0.375
    assert km.group_rmst("a") == pytest.approx(2.875)


def test_km_on_counts_equals_lifelines_on_every_subject():
    # kaplan_meier fits lifelines on (group, time, event) counts; the same fit on one row per
    # subject (lifelines' own path) must give the same curves, medians and log-rank tests
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test

    rng = np.random.default_rng(5)
    n = 3000
    lt = pd.DataFrame({"duration_months": rng.integers(0, 36, n), "churned": rng.random(n) < 0.4,
                       "segment": rng.choice(["SMB", "Mid-Market", "Enterprise"], n, p=[0.6, 0.3, 0.1])})
    km = kaplan_meier(lt, by="segment")
    for segment, g in lt.groupby("segment"):
        kmf = KaplanMeierFitter().fit(g["duration_months"], g["churned"])
        curve = km.curves[km.curves["group"] == segment]
        np.testing.assert_allclose(curve["survival"], kmf.survival_function_.iloc[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(curve["ci_low"], kmf.confidence_interval_survival_function_.iloc[:, 0], atol=1e-12)
        np.testing.assert_array_equal(curve["at_risk"], kmf.event_table["at_risk"])
        assert km.summary.set_index("group").at[segment, "median"] == kmf.median_survival_time_
    overall = multivariate_logrank_test(lt["duration_months"], lt["segment"], lt["churned"])
    assert km.logrank_p == pytest.approx(overall.p_value, rel=1e-9)
    pairs = pairwise_logrank_test(lt["duration_months"], lt["segment"], lt["churned"]).summary
    for (a, b), row in pairs.iterrows():
        got = km.logrank.set_index("comparison").loc[f"{a} vs {b}"]
        assert got["test_statistic"] == pytest.approx(row["test_statistic"], rel=1e-9)
        assert got["p_value"] == pytest.approx(row["p"], rel=1e-9)


# ----------------------------------------------------------------------------- Kaplan-Meier against R
REFERENCE = __import__("pathlib").Path(__file__).parent / "reference"

# R survival::aml (Miller 1981, acute myelogenous leukaemia, 23 patients; weeks, 1 = relapse)
AML_TIMES = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_EVENTS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    # R survival::lung (NCCTG advanced lung cancer, 228 patients), as bundled by lifelines
    # (load_lung, status recoded to 1 = death); copied to tests/reference/lung.csv
    return pd.read_csv(REFERENCE / "lung.csv")


def test_km_lung_medians_match_r_survfit_default_log_bands(lung):
    # R: survfit(Surv(time, status) ~ 1, data = lung) prints n 228, events 165, median 310,
    # 0.95LCL 285, 0.95UCL 363; survfit(Surv(time, status) ~ sex, data = lung) prints
    # sex=1: 138 112 270 212 310 and sex=2: 90 53 426 348 550 (conf.type = "log", R's default;
    # e.g. the survival-analysis tutorials of E. Zabor and STHDA reproduce these lines)
    km = kaplan_meier(lung, duration_col="time", event_col="status", conf_type="log")
    row = km.summary.iloc[0]
    assert (row["n"], row["events"], row["median"], row["median_ci_low"], row["median_ci_high"]) == (
        228, 165, 310, 285, 363)
    by_sex = kaplan_meier(lung, by="sex", duration_col="time", event_col="status", conf_type="log").summary
    got = by_sex.set_index("group")[["n", "events", "median", "median_ci_low", "median_ci_high"]]
    assert got.loc[1].tolist() == [138, 112, 270, 212, 310]
    assert got.loc[2].tolist() == [90, 53, 426, 348, 550]


def test_km_std_error_and_bands_match_r_summary_on_aml():
    # R (T. Therneau, S-news 2000-11, "survfit" thread): summary(survfit(Surv(time, status) ~ 1, aml))
    # time n.risk n.event survival std.err lower 95% CI upper 95% CI
    #    5     23       2   0.9130  0.0588       0.8049        1.000
    #    8     21       2   0.8261  0.0790       0.6848        0.996
    #    9     19       1   0.7826  0.0860       0.6310        0.971
    lt = pd.DataFrame({"t": AML_TIMES, "e": AML_EVENTS})
    curve = kaplan_meier(lt, duration_col="t", event_col="e", conf_type="log").curves.set_index("time")
    for t, (n, d, s, se, lo, hi) in {5: (23, 2, 0.9130, 0.0588, 0.8049, 1.000),
                                     8: (21, 2, 0.8261, 0.0790, 0.6848, 0.996),
                                     9: (19, 1, 0.7826, 0.0860, 0.6310, 0.971)}.items():
        r = curve.loc[t]
        assert (r["at_risk"], r["events"]) == (n, d)
        assert r["survival"] == pytest.approx(s, abs=5e-5) and r["std_error"] == pytest.approx(se, abs=5e-5)
        assert r["ci_low"] == pytest.approx(lo, abs=5e-5) and r["ci_high"] == pytest.approx(hi, abs=5e-4)
    # plain band by hand at t = 5: 21/23 -+ 1.959964 * 0.058747, the upper capped at 1
    plain = kaplan_meier(lt, duration_col="t", event_col="e", conf_type="plain").curves.set_index("time").loc[5]
    se5 = 21 / 23 * math.sqrt(2 / (23 * 21))
    assert plain["ci_low"] == pytest.approx(21 / 23 - 1.959964 * se5, abs=1e-6) and plain["ci_high"] == 1.0


def test_km_log_log_bands_and_median_interval_equal_lifelines_on_lung(lung):
    # lifelines' KaplanMeierFitter is an independent log(-log) Greenwood implementation
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    km = kaplan_meier(lung, duration_col="time", event_col="status", conf_type="log-log")
    kmf = KaplanMeierFitter().fit(lung["time"], lung["status"])
    ci = kmf.confidence_interval_survival_function_
    np.testing.assert_allclose(km.curves["ci_low"], ci.iloc[:, 0], atol=1e-12)
    np.testing.assert_allclose(km.curves["ci_high"], ci.iloc[:, 1], atol=1e-12)
    row = km.summary.iloc[0]
    assert [row["median_ci_low"], row["median_ci_high"]] == median_survival_times(ci).iloc[0].tolist()
    # the three scales give three different intervals around the same median
    rows = {c: kaplan_meier(lung, duration_col="time", event_col="status", conf_type=c).summary.iloc[0]
            for c in ("log", "log-log", "plain")}
    assert {r["median"] for r in rows.values()} == {310.0}
    assert len({(r["median_ci_low"], r["median_ci_high"]) for r in rows.values()}) >= 2


def test_km_median_is_the_midpoint_where_the_curve_is_exactly_one_half():
    # S = 3/4 after t=10, 3/4 * 2/3 = 1/2 on [52, 53), then 1/4: R's survfit prints 52.5, the
    # first-time-at-or-below rule (lifelines) says 52
    lt = pd.DataFrame({"duration_months": [10, 52, 53, 60], "churned": [1, 1, 1, 0]})
    with pytest.warns(SmallSampleWarning):
        km = kaplan_meier(lt)
    assert km.summary["median"].iloc[0] == 52.5
    # flat at 0.5 until the end of follow-up: midpoint with the last time (R's end-of-curve case)
    lt = pd.DataFrame({"duration_months": [5, 8, 20, 30], "churned": [1, 1, 0, 0]})
    with pytest.warns(SmallSampleWarning):
        assert kaplan_meier(lt).summary["median"].iloc[0] == (8 + 30) / 2


def test_km_conf_type_is_checked_and_everything_reaches_zero():
    lt = pd.DataFrame({"duration_months": [1, 2, 3] * 4, "churned": [1] * 12})
    with pytest.raises(ParameterError, match="conf_type"):
        kaplan_meier(lt, conf_type="arcsine")
    for conf_type in ("log", "log-log", "plain"):
        curve = kaplan_meier(lt, conf_type=conf_type).curves
        last = curve.iloc[-1]
        assert (last["survival"], last["std_error"], last["ci_low"], last["ci_high"]) == (0, 0, 0, 0)
        assert (curve["ci_low"] <= curve["survival"]).all() and (curve["survival"] <= curve["ci_high"]).all()
