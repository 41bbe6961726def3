"""Tests of feedback_lib.verbatims.problems: complaints only, persistent problems over 13 weeks."""

from __future__ import annotations

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.verbatims.problems import PERSISTENT_COLUMNS, persistent_problems, problem_themes


def _week_rows(as_of: pd.Timestamp) -> pd.DataFrame:
    """13 weeks, 20 commented responses a week from 20 accounts: a reliability compliment every
    week from account a0, pricing complaints rising (1 a week in the earlier 6, 8 a week in the
    recent 7), one support complaint a week throughout."""
    rows = []
    for week in range(13):
        day = as_of - pd.Timedelta(days=7 * week + 1)
        recent = week < 7
        comments = ["Very reliable, no downtime this year"] + ["Support takes days to answer"]
        comments += ["The price is too high"] * (8 if recent else 1)
        comments += ["We use it for monthly reporting"] * (20 - len(comments))
        rows += [{"response_id": f"w{week}r{i}", "account_id": f"a{i}", "responded_at": day, "score": 5,
                  "comment": c} for i, c in enumerate(comments)]
    return pd.DataFrame(rows)


def test_praise_is_never_a_problem():
    r = pd.DataFrame({"response_id": ["r1", "r2", "r3"], "comment": [
        "Very reliable, no downtime this year", "Good price compared with the alternatives",
        "Hinnoittelu on reilu, mutta asiakastuki ei vastaa"]})
    assert problem_themes(r)[["response_id", "theme"]].values.tolist() == [["r3", "support"]]


def test_persistent_problems_rank_direction_and_pareto():
    as_of = pd.Timestamp("2026-09-27")
    responses = _week_rows(as_of)
    subs = pd.DataFrame({"account_id": [f"a{i}" for i in range(20)], "mrr": [100.0 * (i + 1) for i in range(20)],
                         "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    out = persistent_problems(responses, accounts=subs[["account_id"]], subscriptions=subs, as_of=as_of)
    assert list(out.columns) == PERSISTENT_COLUMNS
    # pricing: accounts a2..a9 (MRR 300..1000, sum 5200); support: a1 (200); reliability: praise only
    assert out["theme"].tolist() == ["pricing", "support"]
    assert out["mrr"].tolist() == [5200.0, 200.0] and out["accounts"].tolist() == [8, 1]
    assert out["responses"].tolist() == [7 * 8 + 6, 13] and out["weeks"].tolist() == [13, 13]
    # pricing share: recent 56/140 = 0.4, earlier 6/120 = 0.05 -> rising; support 1/20 both halves
    assert out.loc[0, "recent_share"] == pytest.approx(0.4) and out.loc[0, "earlier_share"] == pytest.approx(0.05)
    assert out["direction"].tolist() == ["rising", "steady"]
    assert out["cumulative_mrr_share"].tolist() == pytest.approx([5200 / 5400, 1.0])
    assert out.loc[0, "example"] == "The price is too high"  # a complaint, from the largest account


def test_persistent_problems_of_a_quiet_quarter_is_an_empty_table():
    as_of = pd.Timestamp("2026-09-27")
    quiet = _week_rows(as_of).assign(comment="Great product")
    subs = pd.DataFrame({"account_id": ["a0"], "mrr": [1.0], "start_date": pd.Timestamp("2025-01-01"),
                         "end_date": pd.NaT})
    out = fl.persistent_problems(quiet, accounts=subs, subscriptions=subs, as_of=as_of)
    assert len(out) == 0 and list(out.columns) == PERSISTENT_COLUMNS
