"""Tests of the churn covariate builders (feedback_lib.churn.features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.churn.features import account_covariates
from feedback_lib.churn.panel import monthly_panel
from feedback_lib.io.dataset import Dataset

from .conftest import make_table


def _sub(sid, acc, plan, start, end, mrr):
    return dict(subscription_id=sid, account_id=acc, plan=plan, start_date=start, end_date=end, mrr=mrr)


def _resp(rid, acc, day, score):
    return dict(response_id=rid, account_id=acc, respondent="c", responded_at=day, score=score)


def _ticket(tid, acc, day, severity):
    return dict(ticket_id=tid, account_id=acc, opened_at=day, closed_at=None, severity=severity)


def _acc(acc, segment):
    return dict(account_id=acc, segment=segment, signup_date="2023-01-01")


@pytest.fixture(scope="module")
def snapshot_company() -> Dataset:
    """Four accounts around the snapshot 2024-06-30 (a Sunday); expected values worked out below."""
    return Dataset(
        accounts=make_table("accounts", [_acc("A", "SMB"), _acc("B", "Enterprise"), _acc("C", "Mid-Market"),
                                         _acc("D", "SMB")]),
        subscriptions=make_table("subscriptions", [
            _sub("s1", "A", "Pro", "2024-01-10", None, 100.0),
            _sub("s2", "A", "Add-on", "2024-03-01", None, 300.0),
            _sub("s3", "B", "Team", "2023-07-15", "2024-07-15", 6000.0),
            _sub("s4", "C", "Pro", "2024-01-01", "2024-05-10", 50.0),  # ended before the snapshot
            _sub("s5", "D", "Pro", "2024-07-01", None, 50.0),  # starts after it
        ]),
        responses=make_table("responses", [
            _resp("r1", "A", "2024-02-01", 9), _resp("r2", "A", "2024-05-20", 5),
            _resp("r3", "A", "2024-07-02", 10),  # after the snapshot: ignored
            _resp("r4", "B", "2024-06-30", 8),  # on the snapshot day: used
        ]),
        tickets=make_table("tickets", [
            _ticket("t1", "A", "2024-04-01", "high"),  # 90 days before: outside (Apr 2 - Jun 30)
            _ticket("t2", "A", "2024-04-02", "critical"),
            _ticket("t3", "A", "2024-06-30", "low"),
            _ticket("t4", "A", "2024-07-01", "high"),
        ]),
        usage=make_table("usage", [
            dict(account_id="A", week="2024-06-03", active_users=5, seats=10),  # 27 days before
            dict(account_id="A", week="2024-06-24", active_users=3, seats=10),
            dict(account_id="A", week="2024-05-27", active_users=9, seats=10),  # previous 28 days
            dict(account_id="A", week="2024-04-29", active_users=1, seats=10),  # 62 days: ignored
        ]),
        conversations=make_table("conversations", [
            dict(conversation_id="v1", account_id="A", executive="CEO", held_on="2024-06-20"),
            dict(conversation_id="v2", account_id="A", executive="CEO", held_on="2024-07-05"),
        ]),
    )


def test_account_covariates_hand_computed(snapshot_company):
    cov = account_covariates(snapshot_company, as_of="2024-06-30").set_index("account_id")
    assert cov.index.tolist() == ["A", "B"]
    a, b = cov.loc["A"], cov.loc["B"]
    assert (a["segment"], a["plan"], a["mrr"], a["mrr_band"], a["tenure_months"]) == ("SMB", "Add-on", 400.0, "250-1,000", 6)
    assert (b["segment"], b["plan"], b["mrr"], b["mrr_band"], b["tenure_months"]) == ("Enterprise", "Team", 6000.0, "5,000+", 12)
    assert (a["nps_category"], a["nps_latest"], a["nps_trend"], a["nps_responses"]) == ("detractor", 5.0, -4.0, 2)
    assert (b["nps_category"], b["nps_latest"], b["nps_responses"]) == ("passive", 8.0, 1) and np.isnan(b["nps_trend"])
    assert (a["tickets_90d"], a["high_critical_90d"]) == (2, 1)
    assert (b["tickets_90d"], b["high_critical_90d"]) == (0, 0)
    assert a["seat_utilisation"] == pytest.approx(0.4) and a["usage_trend"] == pytest.approx(-0.5)
    assert np.isnan(b["seat_utilisation"]) and np.isnan(b["usage_trend"])
    assert (a["days_since_exec_conversation"], a["exec_conversation"]) == (10.0, True)
    assert np.isnan(b["days_since_exec_conversation"]) and not b["exec_conversation"]


@pytest.mark.parametrize("as_of", ["2024-03-15", "2025-06-30", "2026-01-01", "2026-09-30"])
def test_tenure_uses_the_first_paid_month_of_monthly_revenue(as_of):
    ds = fl.generate_demo(seed=42, n_accounts=400)
    rev = fl.monthly_revenue(ds.subscriptions, as_of=as_of)
    first = rev[rev["mrr"] > 0].groupby("account_id")["month"].min()
    cov = account_covariates(ds, as_of=as_of).set_index("account_id")
    expected = (pd.Timestamp(as_of).to_period("M") - first.reindex(cov.index).dt.to_period("M")).map(lambda d: d.n) + 1
    assert len(cov) >= 25
    assert (cov["tenure_months"] == expected).all()


def test_account_covariates_nobody_paying_and_bad_bands(snapshot_company):
    assert len(account_covariates(snapshot_company, as_of="2023-01-31")) == 0
    with pytest.raises(fl.FeedbackLibError, match="mrr_band_edges"):
        account_covariates(snapshot_company, as_of="2024-06-30", mrr_band_edges=(500, 100))


@pytest.fixture(scope="module")
def panel_company() -> Dataset:
    """P churns in April and comes back in May; Q starts in March (expected rows below)."""
    return Dataset(
        accounts=make_table("accounts", [_acc("P", "SMB"), _acc("Q", "Enterprise")]),
        subscriptions=make_table("subscriptions", [
            _sub("s1", "P", "Pro", "2024-01-10", "2024-04-15", 100.0),
            _sub("s2", "P", "Pro", "2024-05-20", None, 80.0),
            _sub("s3", "Q", "Team", "2024-03-01", None, 900.0),
        ]),
        responses=make_table("responses", [_resp("r1", "P", "2024-02-20", 3), _resp("r2", "P", "2024-05-31", 9)]),
        tickets=make_table("tickets", [_ticket("t1", "P", "2024-01-05", "low"), _ticket("t2", "P", "2024-01-20", "low"),
                                       _ticket("t3", "P", "2024-02-10", "high")]),
        usage=make_table("usage", [
            dict(account_id="P", week="2024-02-05", active_users=1, seats=10),
            dict(account_id="P", week="2024-02-12", active_users=2, seats=10),
            dict(account_id="P", week="2024-03-04", active_users=8, seats=10),
            dict(account_id="Q", week="2024-03-04", active_users=4, seats=10),  # exactly 0.4: not low
        ]),
    )


def test_monthly_panel_hand_computed(panel_company):
    p = monthly_panel(panel_company, as_of="2024-06-30")
    cols = ["account_id", "life", "month", "start", "stop", "event", "detractor", "ticket_burst", "low_usage",
            "detractor_responses", "tickets_so_far"]
    got = p[cols].astype({"account_id": str, "month": str}).values.tolist()
    assert got == [
        ["P", 1, "2024-02-01", 0, 1, 0, 0, 0, 0, 0, 2],
        ["P", 1, "2024-03-01", 1, 2, 0, 1, 1, 1, 1, 3],
        ["P", 1, "2024-04-01", 2, 3, 1, 1, 1, 0, 1, 3],  # churned in April
        ["P", 2, "2024-06-01", 0, 1, 0, 0, 0, 0, 1, 3],  # reactivated in May, at risk from June
        ["Q", 1, "2024-04-01", 0, 1, 0, 0, 0, 0, 0, 0],
        ["Q", 1, "2024-05-01", 1, 2, 0, 0, 0, 0, 0, 0],
        ["Q", 1, "2024-06-01", 2, 3, 0, 0, 0, 0, 0, 0],
    ]
    assert np.isnan(p["utilisation"].iloc[0]) and p["utilisation"].iloc[1:3].tolist() == pytest.approx([0.15, 0.8])
    assert p["usage_drop"].iloc[:3].tolist() == pytest.approx([0.0, 0.0, -0.65])
    assert p["utilisation"].iloc[4] == pytest.approx(0.4) and p["low_usage"].iloc[4] == 0
    assert p["segment_smb"].tolist() == [1, 1, 1, 1, 0, 0, 0]
    assert p["segment_enterprise"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert p["mrr"].tolist() == [100.0, 100.0, 100.0, 80.0, 900.0, 900.0, 900.0]


def test_monthly_panel_skips_the_incomplete_month(panel_company):
    p = monthly_panel(panel_company, as_of="2024-06-29")
    assert p["month"].max() == pd.Timestamp("2024-05-01")


def test_monthly_panel_with_nothing_at_risk_raises(panel_company):
    with pytest.raises(fl.FeedbackLibError, match="no account"):
        monthly_panel(panel_company, as_of="2024-01-31")


def _reference_panel(ds: Dataset, months: pd.DatetimeIndex) -> pd.DataFrame:
    """The planted mechanism's D, B, U read literally, one calendar month at a time (slow, obvious)."""
    subs, resp, tick, use = ds.subscriptions, ds.responses, ds.tickets, ds.usage
    end = subs["end_date"].fillna(pd.Timestamp.max)

    def paying(day):
        return set(subs.loc[(subs["start_date"] <= day) & (end > day), "account_id"])

    parts = []
    for prev, m in zip(months[:-1], months[1:]):
        at_risk = sorted(paying(m - pd.Timedelta(days=1)))
        still = paying(m + pd.offsets.MonthEnd(0))
        latest = resp[resp["responded_at"] < m].sort_values(["responded_at", "response_id"]).groupby("account_id")["score"].last()
        window = tick[(tick["opened_at"] >= m - pd.DateOffset(months=3)) & (tick["opened_at"] < m)]
        weeks = use[(use["week"] >= prev) & (use["week"] < m)].groupby("account_id")[["active_users", "seats"]].sum()
        util = (weeks["active_users"] / weeks["seats"]).astype(float)
        parts.append(pd.DataFrame({
            "account_id": at_risk,
            "month": m,
            "event": [int(a not in still) for a in at_risk],
            "detractor": (latest.reindex(at_risk).astype(float) <= 6).astype(int).to_numpy(),
            "ticket_burst": (window["account_id"].value_counts().reindex(at_risk, fill_value=0) >= 3).astype(int).to_numpy(),
            "low_usage": (util.reindex(at_risk) < 0.4).astype(int).to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


def test_monthly_panel_equals_a_literal_reading_of_the_mechanism():
    ds = fl.generate_demo(seed=5, n_accounts=300, start="2024-01-01", end="2025-03-31")
    months = pd.date_range("2024-01-01", "2025-03-01", freq="MS")
    ref = _reference_panel(ds, months)
    got = monthly_panel(ds, as_of="2025-03-31")
    got = got.assign(account_id=got["account_id"].astype(str))[ref.columns]
    key = ["account_id", "month"]
    pd.testing.assert_frame_equal(
        got.sort_values(key, ignore_index=True).astype({c: int for c in ref.columns[2:]}),
        ref.sort_values(key, ignore_index=True).astype({c: int for c in ref.columns[2:]}),
    )
    assert ref["event"].sum() > 20 and ref["detractor"].sum() > 20 and ref["ticket_burst"].sum() > 20


def test_account_covariates_do_not_depend_on_row_order_or_on_the_accounts_table(snapshot_company):
    # the fast paths assume nothing: shuffled tables, unsorted accounts, a subscriber missing
    # from accounts (its segment is '(unknown)'), and no accounts table at all
    want = account_covariates(snapshot_company, as_of="2024-06-30")
    shuffled = Dataset(**{name: frame.sample(frac=1, random_state=1).reset_index(drop=True)
                          for name, frame in snapshot_company.tables().items()})
    pd.testing.assert_frame_equal(account_covariates(shuffled, as_of="2024-06-30"), want)
    without_a = Dataset(**{**snapshot_company.tables(),
                           "accounts": snapshot_company.accounts[snapshot_company.accounts["account_id"] != "A"]})
    got = account_covariates(without_a, as_of="2024-06-30")
    assert got["segment"].tolist() == ["(unknown)", "Enterprise"]
    pd.testing.assert_frame_equal(got.drop(columns="segment"), want.drop(columns="segment"))
    nobody = Dataset(**{**snapshot_company.tables(), "accounts": snapshot_company.accounts.iloc[:0]})
    got = account_covariates(nobody, as_of="2024-06-30")
    assert got["segment"].tolist() == ["(unknown)", "(unknown)"]
    pd.testing.assert_frame_equal(got.drop(columns="segment"), want.drop(columns="segment"))
