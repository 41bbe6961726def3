"""Tests of feedback_lib.program.queue.callback_queue on a hand-built company."""

from __future__ import annotations

import pandas as pd
import pytest

from feedback_lib.errors import ParameterError, SchemaError
from feedback_lib.program.callbacks import callback_queue

AS_OF = "2025-06-10"
T = pd.Timestamp


def tables():
    accounts = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4"],
        "name": ["Acme", "Globex", "Initech", "Umbrella"],
        "segment": ["SMB", "Enterprise", "Mid-Market", "SMB"],
        "region": ["EMEA"] * 4, "industry": ["x"] * 4,
        "owner": ["Ann", "Bo", "Cy", "Di"], "csm": ["c1", "c2", "c3", "c4"],
        "signup_date": [T("2024-01-01")] * 4,
        "contact_email": ["a@x.example", "b@x.example", "c@x.example", "d@x.example"],
    })
    subscriptions = pd.DataFrame({
        "subscription_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "account_id": ["A1", "A2", "A2", "A3", "A3", "A4"],
        "plan": ["p"] * 6,
        "start_date": [T("2024-01-01"), T("2024-01-01"), T("2025-01-01"), T("2024-01-01"),
                       T("2025-06-11"), T("2024-01-01")],
        "end_date": [pd.NaT, pd.NaT, T("2025-07-01"), T("2025-06-10"), pd.NaT, pd.NaT],
        "mrr": [100.0, 1000.0, 500.0, 800.0, 900.0, 100.0],
    })
    # active on 2025-06-10: A1 100; A2 1000 + 500 = 1500; A3 none (S4 ended 06-10 exclusive,
    # S5 starts 06-11) -> 0; A4 100
    responses = pd.DataFrame({
        "response_id": ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"],
        "account_id": ["A1", "A2", "A2", "A3", "A4", "A1", "A1", "A4", "A2"],
        "respondent": [f"p{i}" for i in range(1, 10)],
        "responded_at": [T("2025-06-10"), T("2025-06-04"), T("2025-06-09"), T("2025-06-05"),
                         T("2025-06-08"), T("2025-06-03"), T("2025-06-11"), T("2025-06-06"),
                         T("2025-06-09")],
        "score": pd.array([2, 8, 5, 0, 6, 1, 3, 9, 10], dtype="Int64"),
        "comment": ["slow", "ok", "buggy", "leaving", "meh", "old", "future", "good", "great"],
        "channel": ["email"] * 9,
    })
    # window (06-03, 06-10]: R6 (06-03) is just outside, R7 (06-11) after as_of;
    # below 9: R1, R2, R3, R4, R5
    conversations = pd.DataFrame({
        "conversation_id": ["V1", "V2", "V3", "V4", "V5"],
        "account_id": ["A2", "A2", "A2", "A1", "A3"],
        "executive": ["CEO", "CFO", "CTO", "COO", "CRO"],
        "held_on": [T("2025-05-01"), T("2025-06-10"), T("2025-06-10"), T("2025-06-20"),
                    T("2025-04-01")],
        "competitors_mentioned": [[], [], [], [], []],
    })
    return responses, accounts, subscriptions, conversations


def test_queue_by_hand():
    responses, accounts, subscriptions, conversations = tables()
    q = callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                       conversations=conversations, as_of=AS_OF)
    # ranked by MRR: A2 1500 (R3 score 5 before R2 score 8), A1 100 and A4 100 (R1 score 2 before
    # R5 score 6), A3 0 (R4)
    assert q["response_id"].tolist() == ["R3", "R2", "R1", "R5", "R4"]
    assert q["rank"].tolist() == [1, 2, 3, 4, 5]
    assert q["mrr"].tolist() == [1500.0, 1500.0, 100.0, 100.0, 0.0]
    assert q["category"].astype(str).tolist() == ["detractor", "passive", "detractor",
                                                  "detractor", "detractor"]
    assert q["days_since_response"].tolist() == [1, 6, 0, 2, 5]
    assert q["name"].tolist() == ["Globex", "Globex", "Acme", "Umbrella", "Initech"]
    assert q["owner"].tolist() == ["Bo", "Bo", "Ann", "Di", "Cy"]
    assert q["comment"].tolist() == ["buggy", "ok", "slow", "meh", "leaving"]
    # A2: two conversations on as_of, tie -> highest id V3 (CTO); A1's only one is after as_of
    assert q["last_conversation_by"].tolist()[:2] == ["CTO", "CTO"]
    assert q["last_conversation_on"].tolist()[:2] == [T("2025-06-10")] * 2
    assert q["last_conversation_on"].isna().tolist() == [False, False, True, True, False]
    assert q.loc[4, "last_conversation_by"] == "CRO"
    assert "contact_email" not in q.columns
    for column in ["response_id", "account_id", "name", "segment", "owner", "score", "category",
                   "mrr", "comment", "responded_at", "days_since_response",
                   "last_conversation_on", "last_conversation_by"]:
        assert column in q.columns


def test_threshold_and_window():
    responses, accounts, subscriptions, _ = tables()
    detractors = callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                                as_of=AS_OF, threshold=7)
    assert detractors["response_id"].tolist() == ["R3", "R1", "R5", "R4"]
    everyone = callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                              as_of=AS_OF, threshold=11, window_days=8)
    # 8 days reaches back to 06-03 (R6 included); promoters R8, R9 now queued too
    assert sorted(everyone["response_id"]) == ["R1", "R2", "R3", "R4", "R5", "R6", "R8", "R9"]
    assert set(everyone["category"].astype(str)) == {"detractor", "passive", "promoter"}
    assert everyone["last_conversation_on"].isna().all()  # no conversations given
    assert everyone["last_conversation_by"].isna().all()


def test_empty_queue_has_columns():
    responses, accounts, subscriptions, conversations = tables()
    q = callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                       conversations=conversations, as_of="2024-01-01")
    assert q.empty and "last_conversation_by" in q.columns and "mrr" in q.columns


def test_inputs_unchanged_and_errors():
    responses, accounts, subscriptions, conversations = tables()
    before = responses.copy()
    callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                   conversations=conversations, as_of=AS_OF)
    pd.testing.assert_frame_equal(responses, before)
    with pytest.raises(ParameterError, match="window_days"):
        callback_queue(responses, accounts=accounts, subscriptions=subscriptions, as_of=AS_OF,
                       window_days=0)
    with pytest.raises(ParameterError, match="threshold"):
        callback_queue(responses, accounts=accounts, subscriptions=subscriptions, as_of=AS_OF,
                       threshold=12)
    with pytest.raises(SchemaError, match="accounts: missing column.*'owner'"):
        callback_queue(responses, accounts=accounts.drop(columns="owner"),
                       subscriptions=subscriptions, as_of=AS_OF)
    responses.loc[2, "score"] = 12
    with pytest.raises(SchemaError, match=r"outside 0-10 \(row 3; e.g. 12\)"):
        callback_queue(responses, accounts=accounts, subscriptions=subscriptions, as_of=AS_OF)


def test_canonical_dtypes(tiny):
    # conftest's tiny company (string ids, Int64 scores): on 2024-06-10 A1 pays 1200 + 300 = 1500
    # (R1, score 6) and A2 99.5 (R2, score 3); R3 is a promoter. A1 met the CEO on 2024-06-10.
    # 8 days back from 06-10 reaches 06-03 (R1); 7 days would stop after 06-03.
    q = callback_queue(tiny.responses, accounts=tiny.accounts, subscriptions=tiny.subscriptions,
                       conversations=tiny.conversations, as_of="2024-06-10", window_days=8)
    assert q["response_id"].tolist() == ["R1", "R2"]
    assert q["mrr"].tolist() == [1500.0, 99.5]
    assert q["name"].tolist() == ["Acme Oy", "北京科技"]
    assert q["comment"].iloc[1] == "客服响应太慢，价格太贵"
    assert q["last_conversation_by"].tolist()[0] == "CEO"
    assert pd.isna(q["last_conversation_by"].iloc[1])
    assert q["days_since_response"].tolist() == [7, 6]  # 06-03 and 06-04 to 06-10
    week = callback_queue(tiny.responses, accounts=tiny.accounts,
                          subscriptions=tiny.subscriptions, as_of="2024-06-10")
    assert week["response_id"].tolist() == ["R2"]
