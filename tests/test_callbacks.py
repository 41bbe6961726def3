"""Tests of feedback_lib.program.callbacks: the callback loop and its matched churn comparison."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from feedback_lib._util.stats import z_value
from feedback_lib.errors import FeedbackLibError
from feedback_lib.program.callbacks import callback_loop

from .conftest import make_table

AS_OF = "2025-12-31"


def fixture():
    accounts = make_table("accounts", [
        dict(account_id=f"a{i}", name=f"Yritys {i} Oy", segment="SMB", region="EMEA", industry="Retail",
             owner="CEO", csm="Li", signup_date="2024-01-01", contact_email=f"c{i}@example.com")
        for i in range(1, 10)
    ])
    ends = {"a2": "2025-04-01", "a3": "2025-05-01", "a4": "2025-05-01", "a8": "2025-09-01"}
    subscriptions = make_table("subscriptions", [
        dict(subscription_id=f"S{i}", account_id=f"a{i}", plan="Pro", start_date="2024-01-01",
             end_date=ends.get(f"a{i}"), mrr=100.0)
        for i in range(1, 10)
    ])
    rows = [  # response, account, score, date, comment
        ("r1", "a1", 3, "2025-01-10", "Asiakastuki ei vastaa"), ("r2", "a2", 5, "2025-01-20", "客服响应太慢"),
        ("r3", "a3", 4, "2025-02-01", ""), ("r4", "a4", 2, "2025-02-05", "Too expensive"),
        ("r5", "a5", 6, "2025-03-01", ""), ("r6", "a6", 1, "2025-04-10", ""), ("r7", "a7", 0, "2025-04-15", ""),
        ("r8", "a8", 3, "2025-07-01", ""), ("r9", "a9", 8, "2025-03-10", ""), ("r10", "a1", 10, "2025-06-01", ""),
        ("r11", "a2", 3, "2025-12-25", ""),
    ]
    responses = make_table("responses", [
        dict(response_id=r, account_id=a, respondent="c", responded_at=d, score=s, comment=c, channel="email")
        for r, a, s, d, c in rows
    ])
    held = [("a1", "2025-01-15"), ("a2", "2025-01-30"), ("a5", "2025-02-20"), ("a6", "2025-04-12"),
            ("a9", "2025-03-30")]
    conversations = make_table("conversations", [
        dict(conversation_id=f"V{i}", account_id=a, executive="CEO", held_on=d, competitors_mentioned=[])
        for i, (a, d) in enumerate(held)
    ])
    return accounts, subscriptions, responses, conversations


def test_callback_loop_by_hand():
    accounts, subscriptions, responses, conversations = fixture()
    loop = callback_loop(responses, conversations, accounts=accounts, subscriptions=subscriptions, as_of=AS_OF)
    # queue: r1..r9 (r10 promoter; r11's 14-day window is still open). Called back within 14 days:
    # r1 (5 days), r2 (10), r6 (2); r9 after 20 days; a5's conversation came before r5.
    assert (loop.called_back.successes, loop.called_back.n) == (3, 9)
    assert loop.median_days_to_contact == 5.0
    # detractors compared: Q1 called {r1 stays, r2 churns} vs not {r3, r4 churn, r5 stays};
    # Q2 called {r6 stays} vs not {r7 stays}; Q3 has no called-back response and drops out.
    # weights 2/3 and 1/3: p1 = 2/3 * 1/2 = 1/3, p0 = 2/3 * 2/3 = 4/9, difference -1/9
    assert loop.churn_called_back == pytest.approx(1 / 3)
    assert loop.churn_not_called_back == pytest.approx(4 / 9)
    assert loop.churn_difference == pytest.approx(-1 / 9)
    se = math.sqrt((2 / 3) ** 2 * (0.25 / 2 + (2 / 9) / 3))
    assert (loop.ci_low, loop.ci_high) == pytest.approx((-1 / 9 - z_value(0.95) * se, -1 / 9 + z_value(0.95) * se))
    assert (loop.compared_called_back, loop.compared_not_called_back, loop.strata) == (3, 4, 2)
    assert "not an experiment" in loop.statement and "confounded" in loop.statement
    frame = loop.to_frame()
    assert frame.loc[0, "queue_responses"] == 9 and frame.loc[0, "called_back"] == pytest.approx(1 / 3)
    assert loop.responses.set_index("response_id").loc["r9", "days_to_contact"] == 20


def test_callback_threshold_seven_queues_detractors_only():
    accounts, subscriptions, responses, conversations = fixture()
    loop = callback_loop(responses, conversations, accounts=accounts, subscriptions=subscriptions, as_of=AS_OF,
                         threshold=7)
    assert loop.called_back.n == 8  # r9 (a passive 8) leaves the queue


def test_callback_loop_without_a_complete_window_raises():
    accounts, subscriptions, responses, conversations = fixture()
    with pytest.raises(FeedbackLibError, match="complete 14-day"):
        callback_loop(responses, conversations, accounts=accounts, subscriptions=subscriptions,
                      as_of="2025-01-15")


def test_callback_loop_on_demo_is_consistent():
    from feedback_lib.demo.company import generate_demo

    demo = generate_demo(seed=42, n_accounts=800, start="2024-01-01", end="2026-03-31")
    loop = callback_loop(demo.responses, demo.conversations, accounts=demo.accounts,
                         subscriptions=demo.subscriptions, as_of="2026-03-31")
    queue = demo.responses.loc[(demo.responses["score"] < 9)
                               & (demo.responses["responded_at"] <= pd.Timestamp("2026-03-17"))]
    assert loop.called_back.n == len(queue)
    assert 0 <= loop.called_back.ci_low <= loop.called_back.share <= loop.called_back.ci_high <= 1
    called = loop.responses["called_back"]
    assert (loop.responses.loc[called, "days_to_contact"] <= 14).all()
