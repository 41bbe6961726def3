"""Tests of the landmark Cox churn model and at-risk scoring (feedback_lib.churn.model)."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.churn.features import account_covariates
from feedback_lib.churn.model import ChurnModel, at_risk_accounts
from feedback_lib.io.dataset import Dataset
from tests.conftest import hazard_ratio  # noqa: E402

matplotlib.use("Agg")

AS_OF = "2026-09-30"  # the demo's last day




# ----------------------------------------------------------------------------- landmark model, planted


def _planted_company(n: int = 6000, seed: int = 11) -> Dataset:
    """Accounts paying since 2024-01; landmark 2024-12-31. Churn month k = 1, 2, ... after it is geometric
    with monthly probability 0.02, times 2.5 for detractors (latest NPS <= 6) and times 4 in months 1-3
    only for accounts with 3 tickets in December (an effect that fades: not proportional)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("A", np.arange(n).astype(str))
    detractor = rng.random(n) < 0.5
    burst = rng.random(n) < 0.3
    months = np.arange(1, 13)
    h = 0.02 * np.where(detractor, 2.5, 1.0)[:, None] * np.where(burst[:, None] & (months <= 3), 4.0, 1.0)
    churn_now = rng.random((n, 12)) < h
    k = np.where(churn_now.any(axis=1), churn_now.argmax(axis=1) + 1, 0)  # 0 = never within 12 months
    end = pd.to_datetime(np.where(k > 0, (np.datetime64("2024-12", "M") + k).astype("datetime64[D]") + 14, np.datetime64("NaT")))
    subs = pd.DataFrame({"subscription_id": np.char.add("S", ids), "account_id": ids, "plan": "Pro",
                         "start_date": pd.Timestamp("2024-01-01"), "end_date": end, "mrr": 100.0})
    resp = pd.DataFrame({"response_id": np.char.add("R", ids), "account_id": ids,
                         "responded_at": pd.Timestamp("2024-11-15"), "score": np.where(detractor, 3, 9)})
    t_acc = np.repeat(ids[burst], 3)
    tickets = pd.DataFrame({"ticket_id": np.char.add("T", np.arange(len(t_acc)).astype(str)), "account_id": t_acc,
                            "opened_at": pd.Timestamp("2024-12-20"), "closed_at": pd.NaT, "severity": "low"})
    accounts = pd.DataFrame({"account_id": ids, "segment": "SMB", "signup_date": pd.Timestamp("2024-01-01")})
    return Dataset(accounts=accounts, subscriptions=subs, responses=resp, tickets=tickets)


@pytest.fixture(scope="module")
def planted() -> ChurnModel:
    return ChurnModel(covariates=["nps_detractor", "tickets_90d"]).fit(_planted_company(), as_of="2025-12-31")


def test_landmark_model_recovers_a_planted_hazard_ratio(planted):
    assert planted.landmark_ == pd.Timestamp("2024-12-31") and planted.n_ == 6000
    hr, lo, hi = hazard_ratio(planted.summary, "nps_detractor")
    # planted: monthly churn probability 0.05 vs 0.02 (continuous-time hazard ratio 2.54)
    assert lo <= 2.5 <= hi, f"detractor HR {hr:.2f} ({lo:.2f}-{hi:.2f})"


def test_churn_model_rests_on_the_generic_cox_fit(planted):
    # ChurnModel builds its design matrix and calls fl.fit_cox: refitting the training frame
    # through the public function gives the model's hazard ratios
    refit = fl.fit_cox(planted.training_, duration_col="duration", event_col="event", ph_test=False)
    table = planted.summary.set_index("covariate")
    np.testing.assert_allclose(refit.summary["hazard_ratio"], table.loc[refit.summary.index, "hazard_ratio"], rtol=1e-9)
    assert planted.fit_.n == planted.n_ and planted.fit_.events == planted.events_ and planted.cox_ is planted.fit_.model


def test_landmark_model_ph_check_flags_the_fading_effect_in_words(planted):
    # 2,339 events: the diagnostic runs on a seeded subsample of about 2,000
    assert planted.events_ == 2339 and planted.ph_sample_fraction_ == pytest.approx(2000 / 2339)
    ph = planted.proportional_hazards_.set_index("covariate")
    assert ph.loc["tickets_90d", "p_value"] < 0.001
    assert ph.loc["tickets_90d", "verdict"].startswith("hazard ratio of tickets_90d changes over time (p=")
    assert ph.loc["tickets_90d", "verdict"].endswith("read it as an average over the follow-up")
    p = ph.loc["nps_detractor", "p_value"]
    assert p > 0.05, f"constant planted effect flagged as non-proportional (p={p:.3g})"
    assert ph.loc["nps_detractor", "verdict"] == f"no evidence against proportional hazards for nps_detractor (p={p:.2g})"
    assert planted.summary["ph_verdict"].tolist() == ph["verdict"].tolist()


def test_landmark_model_probabilities_match_the_planted_rates():
    company = _planted_company()
    model = ChurnModel(covariates=["nps_detractor"]).fit(company, as_of="2025-12-31")
    # score at the landmark itself: the 12-month probability is 1 - (1 - h)^12, ticket effect aside
    cov = account_covariates(company, as_of="2024-12-31")
    p = model.predict_churn_probability(cov, horizon_months=12)
    det = (cov["nps_category"] == "detractor").to_numpy()
    burst = (cov["tickets_90d"] >= 3).to_numpy()
    # expected by hand from the mechanism: mean over accounts of 1 - prod_k (1 - h_k)
    def expected(d):
        h = 0.02 * (2.5 if d else 1.0)
        return np.mean(np.where(burst[det == d], 1 - (1 - 4 * h) ** 3 * (1 - h) ** 9, 1 - (1 - h) ** 12))
    for d in (True, False):
        got = p.to_numpy()[det == d].mean()
        assert got == pytest.approx(expected(d), abs=0.02), (d, got, expected(d))


# ----------------------------------------------------------------------------- at-risk scoring on the demo
def test_at_risk_ranking(demo):
    model = ChurnModel().fit(demo, as_of="2026-06-30")
    risk = model.predict_at_risk(demo, as_of="2026-06-30", horizon_months=3)
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    assert risk["mrr_at_risk"].is_monotonic_decreasing
    np.testing.assert_allclose(risk["mrr_at_risk"], risk["churn_probability"] * risk["mrr"])
    assert risk["churn_probability"].between(0, 1).all()
    assert set(risk["main_driver"]) <= set(model.training_.columns) | {"none"}
    # the same through the convenience function
    pd.testing.assert_frame_equal(risk, at_risk_accounts(demo, as_of="2026-06-30", horizon_months=3))
    # longer horizons give higher probabilities
    cov = account_covariates(demo, as_of="2026-06-30")
    p3 = model.predict_churn_probability(cov, horizon_months=3)
    p6 = model.predict_churn_probability(cov, horizon_months=6)
    assert (p6 >= p3).all() and (p6 > p3).any()


def test_churn_model_summary_and_plot(demo):
    import matplotlib.pyplot as plt

    model = ChurnModel().fit(demo, as_of="2026-06-30")
    s = model.summary
    assert list(s.columns) == ["covariate", "hazard_ratio", "ci_low", "ci_high", "p_value", "coef", "se",
                               "ph_p_value", "ph_verdict", "n", "events"]
    assert (s["ci_low"] <= s["hazard_ratio"]).all() and (s["hazard_ratio"] <= s["ci_high"]).all()
    assert s["n"].iloc[0] == model.n_ and s["events"].iloc[0] == model.events_ == model.training_["event"].sum()
    fig, ax = plt.subplots()
    assert model.plot_forest(ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(s)
    # the log axis reads as plain ratios around 1 ("0.5", "1", "2"), not as powers of ten
    xticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in xticks and all(float(t) > 0 for t in xticks)
    lo, hi = ax.get_xlim()
    assert lo <= s["ci_low"].min() and s["ci_high"].max() <= hi
    plt.close(fig)
    # segment hazard ratios say which segment they compare with, in the data's own names
    assert model.segments_ == ["Enterprise", "Mid-Market", "SMB"]
    assert {"Segment: Mid-Market (vs Enterprise)", "Segment: SMB (vs Enterprise)"} <= set(labels)
    assert not any("reference segment" in label for label in labels)
    risk = model.predict_at_risk(demo, as_of="2026-06-30")
    seg = risk[risk["main_driver"] == "segment_smb"]
    assert len(seg) > 0 and (seg["main_driver_label"] == "Segment: SMB (vs Enterprise)").all()


def test_churn_model_without_segment_has_no_reference_segment(demo):
    model = ChurnModel(covariates=["nps_detractor", "tickets_90d", "log_mrr"]).fit(demo, as_of="2026-06-30")
    assert model.segments_ == []
    assert not any(c.startswith("segment_") for c in model.summary["covariate"])


def test_churn_model_errors(demo):
    with pytest.raises(fl.FeedbackLibError, match="not fitted"):
        ChurnModel().summary
    with pytest.raises(fl.ParameterError, match="unknown covariate"):
        ChurnModel(covariates=["shoe_size"]).fit(demo, as_of=AS_OF)
    with pytest.raises(fl.FeedbackLibError, match="no account was paying"):
        ChurnModel(window_months=40).fit(demo, as_of=AS_OF)
    model = ChurnModel(window_months=6).fit(demo, as_of=AS_OF)
    with pytest.raises(fl.ParameterError, match="horizon_months"):
        model.predict_at_risk(demo, as_of=AS_OF, horizon_months=7)


def test_churn_model_sampling_is_stratified_and_seeded(demo):
    a = ChurnModel(max_rows=500, seed=3).fit(demo, as_of="2026-06-30")
    full = ChurnModel().fit(demo, as_of="2026-06-30")
    assert a.sample_fraction_ == pytest.approx(500 / full.n_) and abs(a.n_ - 500) <= 3
    share = a.snapshot_["segment"].value_counts(normalize=True)
    share_full = full.snapshot_["segment"].value_counts(normalize=True)
    assert (share - share_full).abs().max() < 0.01
    # the report's narrative says the model rests on a sample, and of how many accounts
    assert a.landmark_accounts_ == full.n_
    assert f"sample of {a.n_:,} of the {full.n_:,} accounts paying on 30 Jun 2025" in a.describe()
    assert "sample" not in full.describe()


def test_model_without_usage_history_at_the_landmark_still_describes_itself():
    # usage kept for the last 13 weeks only (as in the 1M-account benchmark): seat utilisation
    # does not vary at the landmark a year back, is left out, and the narrative says so
    import warnings

    import feedback_lib as fl

    ds = fl.generate_demo(seed=5, n_accounts=800, usage_history_weeks=13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fl.ChurnModel().fit(ds, as_of="2026-09-30")
    assert "seat_utilisation" in model.dropped_covariates_
    assert math.isnan(model.hazard_ratio("seat_utilisation")["hazard_ratio"])
    assert model.hazard_ratio("nps_detractor")["hazard_ratio"] > 1
    text = model.describe()
    assert "Left out because they did not vary" in text and "Seat utilisation" in text
    assert model.headline().startswith("Detractors churn")


# ----------------------------------------------------------------------------- outcomes from subscriptions
def _outcomes_from_monthly_revenue(dataset, ids: pd.Series, *, start_m: int, end_m: int, as_of) -> tuple:
    """Reference: consecutive paid months of fl.monthly_revenue after the landmark month start_m."""
    rev = fl.monthly_revenue(dataset.subscriptions, as_of=as_of)
    rev = rev[rev["mrr"] > 0]
    month = (rev["month"].dt.year - 1970) * 12 + rev["month"].dt.month - 1
    paid = set(zip(rev["account_id"], month))
    duration, event = [], []
    for acc in ids:
        run = 0
        while start_m + run + 1 <= end_m and (acc, start_m + run + 1) in paid:
            run += 1
        churned = run < end_m - start_m
        duration.append(run + 1 if churned else end_m - start_m)
        event.append(int(churned))
    return np.array(duration, dtype=float), np.array(event)


@pytest.mark.parametrize("as_of,landmark", [("2026-09-30", "2025-09-30"), ("2026-06-15", "2025-05-31"),
                                            ("2025-03-31", "2024-12-31")])
def test_outcomes_from_subscriptions_match_monthly_revenue(demo, as_of, landmark):
    from feedback_lib._util.dates import last_complete_month, month_index
    from feedback_lib.churn.lifetimes import _outcomes

    start_m = month_index(pd.Timestamp(landmark))
    end_m = last_complete_month(pd.Timestamp(as_of))
    ids = account_covariates(demo, as_of=landmark)["account_id"]
    got = _outcomes(demo, ids, start_m=start_m, end_m=end_m, as_of=as_of)
    want = _outcomes_from_monthly_revenue(demo, ids, start_m=start_m, end_m=end_m, as_of=as_of)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert 0 < got[1].sum() < len(ids)  # both outcomes occur


def test_outcomes_with_overlapping_gapped_and_late_subscriptions():
    # landmark month 2024-01 (start_m), follow-up to 2024-06; month-end rule as in monthly_revenue
    subs = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4", "s5", "s6", "s7"],
        "account_id": ["a", "a", "b", "b", "c", "d", "d"],
        "start_date": pd.to_datetime(["2023-11-01", "2024-02-10", "2023-12-01", "2024-04-01", "2024-01-05",
                                      "2024-01-01", "2024-01-01"]),
        "end_date": pd.to_datetime(["2024-03-01", "2024-05-20", "2024-03-15", None, None,
                                    "2024-02-01", "2024-07-01"]),
        "mrr": [10.0, 5.0, 7.0, 7.0, 3.0, 1.0, 0.0],
    })
    ds = Dataset(subscriptions=subs)
    from feedback_lib.churn.lifetimes import _outcomes

    start_m = (2024 - 1970) * 12 + 0
    duration, event = _outcomes(ds, pd.Series(["a", "b", "c", "d"]), start_m=start_m, end_m=start_m + 5,
                                as_of="2024-06-30")
    # a: s1 pays Jan-Feb, s2 pays Feb-Apr -> run Feb..Apr = 3 months, churn in May (duration 4)
    # b: s3 pays Dec-Feb, s4 from Apr -> run Feb only, churn in Mar (duration 2)
    # c: pays Jan..Jun -> censored at 5; d: s6 pays Jan only, s7 has mrr 0 -> churn in Feb (duration 1)
    assert duration.tolist() == [4.0, 2.0, 5.0, 1.0]
    assert event.tolist() == [1, 1, 0, 1]
