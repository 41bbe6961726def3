"""Tests of feedback_lib.program: conversation cadence, coverage and competitor mentions
(hand-built answers and the demo's planted competitor-mention rate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_lib._util.stats import wilson_interval
from feedback_lib.errors import FeedbackLibError
from feedback_lib.program.conversations import (
    accounts_not_spoken_to,
    competitor_mention_rate,
    competitor_mentions,
    conversation_cadence,
    coverage_of_top_accounts,
)
from tests.conftest import subs_frame  # noqa: E402


# ------------------------------------------------------------------ competitor mentions
def test_competitor_mention_rate_counts_non_empty_lists_only():
    conv = pd.DataFrame({"competitors_mentioned": [
        ["Globex"], [], None, np.nan, ["Initech", "Globex"], [""], "Hooli;Umbrella", ["Hooli"],
    ]})
    p = competitor_mention_rate(conv)
    # non-empty: rows 0, 4, 6, 7 -> 4 of 8; [""] names nobody
    assert (p.successes, p.n, p.share) == (4, 8, 0.5)
    expected = wilson_interval(4, 8)
    assert (p.ci_low, p.ci_high) == pytest.approx((expected.ci_low, expected.ci_high))


def test_competitor_mention_rate_rejects_empty_input_and_missing_column():
    with pytest.raises(FeedbackLibError, match="empty"):
        competitor_mention_rate(pd.DataFrame({"competitors_mentioned": pd.Series([], dtype=object)}))
    with pytest.raises(FeedbackLibError, match="competitors_mentioned"):
        competitor_mention_rate(pd.DataFrame({"conversation_id": ["V1"]}))


def test_competitor_mentions_per_competitor_counts_once_per_conversation():
    conv = pd.DataFrame({"competitors_mentioned": [["Globex", "Globex"], ["Globex", "Initech"], [], []]})
    out = competitor_mentions(conv).set_index("competitor")
    # Globex in conversations 0 and 1 (twice in 0 counts once): 2 / 4; Initech 1 / 4
    assert out.loc["Globex", "conversations"] == 2 and out.loc["Globex", "share"] == 0.5
    assert out.loc["Initech", "share"] == 0.25 and (out["n"] == 4).all()
    assert (out["ci_low"] <= out["share"]).all() and (out["share"] <= out["ci_high"]).all()


def test_demo_planted_competitor_mention_rate_inside_wilson_interval(demo):
    p = competitor_mention_rate(demo.conversations)
    assert p.n == len(demo.conversations) > 300
    assert p.ci_low <= demo.truth["competitor_mention_rate"] <= p.ci_high
    per = competitor_mentions(demo.conversations)
    assert set(per["competitor"]) == set(demo.truth["competitors"])


# ------------------------------------------------------------------ cadence and coverage
def test_conversation_cadence_counts_targets_and_prorates_current_week():
    conv = pd.DataFrame({"executive": ["CEO", "CEO", "CEO", "CFO"], "held_on": pd.to_datetime(
        ["2026-03-02", "2026-03-06", "2026-03-10", "2026-02-20"])})
    # as_of Wednesday 2026-03-11: weeks of 2026-03-02 (complete) and 2026-03-09 (3 working days)
    out = conversation_cadence(conv, as_of="2026-03-11", weeks=2, target_per_week=1.0)
    ceo = out.loc[out["executive"] == "CEO"]
    assert ceo["conversations"].tolist() == [2, 1]
    assert ceo["working_days"].tolist() == [5, 3]
    assert ceo["target"].tolist() == pytest.approx([1.0, 0.6])
    cfo = out.loc[out["executive"] == "CFO"]
    assert cfo["conversations"].tolist() == [0, 0] and cfo["shortfall"].tolist() == pytest.approx([1.0, 0.6])
    five = conversation_cadence(conv, as_of="2026-03-11", weeks=2, target_per_day=5)
    assert five["target"].tolist() == [25, 15, 25, 15]  # five a day x working days
    assert not five["met"].any()


def test_coverage_of_top_accounts_rounds_up_and_accepts_monthly_revenue():
    subs = subs_frame([(a, m, "2025-01-01", None) for a, m in zip("abcdefghij", range(1000, 0, -100))])
    conv = pd.DataFrame({"account_id": ["a", "c", "j"], "held_on": pd.to_datetime(
        ["2026-03-01", "2025-06-01", "2026-02-01"])})  # c is outside the 13 weeks
    out = coverage_of_top_accounts(conv, subs, as_of="2026-03-31", tops=(0.05, 0.2, 1.0))
    # top 5% of 10 -> 1 account (a, spoken to); top 20% -> a, b: 1 of 2; all: a, j -> 2 of 10
    assert out["accounts"].tolist() == [1, 2, 10]
    assert out["spoken_to"].tolist() == [1, 1, 2]
    assert out["mrr_share"].iloc[1] == pytest.approx(1000 / 1900)
    revenue = pd.DataFrame({"account_id": list("abcdefghij"), "month": pd.Timestamp("2026-03-01"),
                            "mrr": np.arange(1000.0, 0, -100)})
    again = coverage_of_top_accounts(conv, revenue, as_of="2026-03-31", tops=(0.05, 0.2, 1.0))
    pd.testing.assert_frame_equal(out, again)


def test_accounts_not_spoken_to_ranks_by_mrr_and_respects_days():
    subs = subs_frame([("a", 100.0, "2025-01-01", None), ("b", 300.0, "2025-01-01", None),
                       ("c", 200.0, "2025-01-01", None), ("d", 900.0, "2025-01-01", "2026-01-01")])
    conv = pd.DataFrame({"account_id": ["a", "b"], "held_on": pd.to_datetime(["2026-03-01", "2025-12-31"])})
    out = accounts_not_spoken_to(conv, subs, as_of="2026-03-31", days=90)
    # a spoken to 30 days ago; b 90 days ago (not within the last 90 days); d no longer pays
    assert out["account_id"].tolist() == ["b", "c"]
    assert out["days_since_conversation"].iloc[0] == 90.0 and np.isnan(out["days_since_conversation"].iloc[1])
