"""Tests of the drill-downs (feedback_lib.revenue.drilldown, feedback_lib.survey.drilldown): the rows
behind a figure add up to it exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feedback_lib as fl
from feedback_lib._util.money import UNITS
from feedback_lib.errors import ParameterError

AS_OF = "2026-09-30"


def units(values) -> int:
    """Sum in the library's integer micro-units (the exact arithmetic of the bridge)."""
    return int(np.rint(np.asarray(values, dtype=float) * UNITS).astype(np.int64).sum())


@pytest.fixture(scope="module")
def revenue(demo) -> pd.DataFrame:
    return fl.monthly_revenue(demo.subscriptions, as_of=AS_OF)


@pytest.fixture(scope="module")
def movements(revenue) -> pd.DataFrame:
    return fl.mrr_movements(revenue, as_of=AS_OF)


@pytest.mark.parametrize("freq", ["M", "Q", "Y"])
def test_bridge_accounts_add_up_to_every_cell_of_the_demo_bridge(movements, demo, freq):
    bridge = fl.arr_bridge(movements, freq=freq)
    for _, cell in bridge.tail(4).iterrows():
        for category in ("new", "expansion", "reactivation", "contraction", "churn"):
            rows = fl.bridge_accounts(movements, period=cell["period"], category=category, freq=freq,
                                      accounts=demo.accounts)
            assert units(rows["mrr_change"]) == units([cell[category]]), (cell["period"], category)
            assert rows.attrs["total_mrr_change"] == cell[category]
            assert (rows["category"] == category).all()
            assert (rows["mrr"] - rows["previous_mrr"]).round(6).equals(rows["mrr_change"].round(6))
    # the latest month's churn bar: the accounts that left, with their owner, biggest loss first
    churn = fl.bridge_accounts(movements, period=bridge["period"].iloc[-1], category="churn", accounts=demo.accounts)
    if len(churn):
        assert {"account_id", "mrr_change", "owner", "segment"} <= set(churn.columns)
        assert (churn["mrr"] == 0).all() and churn["mrr_change"].is_monotonic_increasing


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 5), st.integers(0, 3),
                          st.sampled_from([0, 0.01, 0.1, 19.99, 100, 333.33])), min_size=1, max_size=14))
def test_bridge_accounts_reconcile_on_random_histories(rows):
    # rows: (account, start month offset, length in months, mrr) subscriptions
    start = pd.Timestamp("2024-01-01")
    subs = pd.DataFrame({
        "subscription_id": [f"s{i}" for i in range(len(rows))],
        "account_id": [r[0] for r in rows],
        "start_date": [start + pd.DateOffset(months=r[1]) for r in rows],
        "end_date": [start + pd.DateOffset(months=r[1] + r[2]) if r[2] else pd.NaT for r in rows],
        "mrr": [float(r[3]) for r in rows],
    })
    as_of = "2024-09-30"
    revenue = fl.monthly_revenue(subs, as_of=as_of)
    mv = fl.mrr_movements(revenue, as_of=as_of)
    for freq in ("M", "Q"):
        bridge = fl.arr_bridge(mv, freq=freq)
        for _, cell in bridge.iterrows():
            for category in ("new", "expansion", "reactivation", "contraction", "churn"):
                rows_ = fl.bridge_accounts(mv, period=cell["period"], category=category, freq=freq)
                assert units(rows_["mrr_change"]) == units([cell[category]])


def test_cohort_accounts_add_up_to_their_cell(revenue, demo):
    for freq, count_reactivated in (("M", True), ("Q", True), ("M", False)):
        table = fl.cohort_retention(revenue, as_of=AS_OF, freq=freq, count_reactivated=count_reactivated)
        for _, cell in table.sample(12, random_state=1).iterrows():
            rows = fl.cohort_accounts(revenue, cohort=cell["cohort"], period_index=cell["period_index"], as_of=AS_OF,
                                      freq=freq, count_reactivated=count_reactivated, accounts=demo.accounts)
            assert len(rows) == cell["accounts"]
            assert int(rows["retained"].sum()) == cell["retained"]
            assert units(rows["mrr"]) == units([cell["mrr"]])
            assert units(rows["starting_mrr"]) == units([cell["starting_mrr"]])
    with pytest.raises(ParameterError, match="starts after as_of"):
        fl.cohort_accounts(revenue, cohort="2026-09-01", period_index=1, as_of=AS_OF)


@pytest.mark.parametrize("top", [0.01, 0.05, 0.2, 1.0])
def test_concentration_accounts_hold_the_top_share(revenue, demo, top):
    rows = fl.concentration_accounts(revenue, as_of=AS_OF, top=top, accounts=demo.accounts)
    share = fl.top_share(revenue, as_of=AS_OF, top=top)
    assert rows["cumulative_share"].iloc[-1] == pytest.approx(share, rel=1e-12)
    paying = revenue[(revenue["month"] == "2026-09-01") & (revenue["mrr"] > 0)]
    assert units(rows["mrr"]) / units(paying["mrr"]) == pytest.approx(share, rel=1e-12)
    assert rows["mrr"].is_monotonic_decreasing and rows["rank"].tolist() == list(range(1, len(rows) + 1))
    # the planted truth: the top 5% of paying accounts hold top5_mrr_share
    if top == 0.05:
        assert rows["cumulative_share"].iloc[-1] == pytest.approx(demo.truth["top5_mrr_share"], abs=0.05)


def test_nps_responses_are_the_responses_of_a_table_row(demo):
    responses = demo.responses.merge(demo.accounts[["account_id", "segment"]], on="account_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = fl.nps_table(responses, freq="W", by="segment")
        weeks = fl.nps_table(responses, freq="W")
    for _, cell in table.sample(15, random_state=2).iterrows():
        rows = fl.nps_responses(responses, period=cell["period"], freq="W", group={"segment": cell["segment"]},
                                accounts=demo.accounts)
        counts = rows["category"].value_counts()
        assert (counts.get("promoter", 0), counts.get("passive", 0), counts.get("detractor", 0)) == (
            cell["promoters"], cell["passives"], cell["detractors"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fl.SmallSampleWarning)
            assert fl.nps(rows["score"]).score == pytest.approx(cell["nps"], abs=1e-9)
        assert (rows["segment"] == cell["segment"]).all() and "owner" in rows.columns
    # the worst week overall: its responses, detractors first
    worst = weeks.loc[weeks["nps"].idxmin()]
    rows = fl.nps_responses(responses, period=worst["period"], freq="W")
    assert len(rows) == worst["n_responses"] and rows["category"].iloc[0] == "detractor"


def test_drilldown_errors_and_empty_cells(movements):
    with pytest.raises(ParameterError, match="category must be one of"):
        fl.bridge_accounts(movements, period="2026-09-01", category="growth")
    none = fl.bridge_accounts(movements, period="2030-01-01", category="new")
    assert len(none) == 0 and none.attrs["total_mrr_change"] == 0.0
    with pytest.raises(ParameterError, match="top must be"):
        fl.concentration_accounts(movements, as_of=AS_OF, top=0)
