"""Tests of feedback_lib.survey: the weekly survey sampler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError, SmallSampleWarning
from feedback_lib.survey.sampling import (
    _systematic_pps,
    inclusion_probabilities,
    survey_send_list,
)

AS_OF = pd.Timestamp("2026-03-31")


def book(n: int = 40):
    """n paying accounts with MRR 100, 200, ..., and a contact e-mail each."""
    ids = [f"A{i:03d}" for i in range(n)]
    accounts = pd.DataFrame({"account_id": ids, "name": [f"Company {i}" for i in range(n)],
                             "segment": ["SMB"] * (n // 2) + ["Enterprise"] * (n - n // 2),
                             "contact_email": [f"contact{i}@example.com" for i in range(n)]})
    subs = pd.DataFrame({"subscription_id": ids, "account_id": ids, "mrr": 100.0 * np.arange(1, n + 1),
                         "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    return accounts, subs


def test_inclusion_probabilities_cap_and_sum():
    p = inclusion_probabilities([100, 10, 10, 10, 10, 10], 3)
    # 100 would get 3 * 100 / 150 = 2 > 1 -> certain; the other 2 spread over 5 equal units: 0.4
    assert p.tolist() == pytest.approx([1.0, 0.4, 0.4, 0.4, 0.4, 0.4])
    assert p.sum() == pytest.approx(3)
    with pytest.raises(FeedbackLibError):
        inclusion_probabilities([1, 2], 3)


def test_systematic_pps_selects_exactly_n_with_the_stated_probabilities():
    p = np.array([1.0, 0.8, 0.5, 0.4, 0.2, 0.1])  # sums to 3
    rng = np.random.default_rng(11)
    hits = np.zeros(len(p))
    reps = 4000
    for _ in range(reps):  # Monte Carlo of the design (numpy only, fast)
        chosen = _systematic_pps(p, rng)
        assert chosen.sum() == 3
        hits += chosen
    # binomial standard error at most sqrt(0.25 / 4000) = 0.008; allow 4 of them
    assert hits / reps == pytest.approx(p, abs=0.032)


def test_send_list_meets_target_masks_email_and_respects_no_repeat():
    accounts, subs = book()
    responses = pd.DataFrame({"account_id": ["A039", "A038", "A001"],
                              "responded_at": pd.to_datetime(["2026-03-01", "2025-11-01", "2026-01-15"])})
    sent = pd.DataFrame({"account_id": ["A037"], "sent_at": pd.to_datetime(["2026-03-20"])})
    out = survey_send_list(accounts, subs, responses, as_of=AS_OF, target_responses=5, response_rate=0.35,
                           no_repeat_days=90, seed=3, sent=sent)
    assert len(out) == 15  # ceil(5 / 0.35)
    assert len(out) * 0.35 >= 5
    # heard within 90 days: A039 (30 days), A001 (75 days), A037 (sent 11 days ago); A038 (150 days) may be sent
    assert not {"A039", "A001", "A037"} & set(out["account_id"])
    assert out["contact"].str.fullmatch(r"c\*\*\*@example\.com").all()
    assert "contact_email" not in out.columns
    assert not out["contact"].str.contains("contact").any()
    assert (out["selection_probability"] > 0).all() and (out["selection_probability"] <= 1).all()


def test_send_list_probability_rises_with_mrr_and_staleness():
    accounts, subs = book()
    responses = pd.DataFrame({"account_id": ["A010"], "responded_at": pd.to_datetime(["2025-12-01"])})
    out = survey_send_list(accounts, subs, responses, as_of=AS_OF, target_responses=3, response_rate=0.5,
                           seed=1, mrr_power=0.5)
    everyone = survey_send_list(accounts, subs, responses, as_of=AS_OF, target_responses=40, response_rate=1.0,
                                seed=1).set_index("account_id")
    assert len(everyone) == 40  # n = number eligible: everybody with probability 1
    assert (everyone["selection_probability"] == 1).all()
    assert set(out["reason"]) <= {"never surveyed", "not heard for 120 days", "large account: always included"}
    p = pd.Series(inclusion_probabilities(
        np.sqrt(100.0 * np.arange(1, 41)) * np.where(np.arange(40) == 10, 120 / 90, 3.0), 6))
    # weights: sqrt(MRR) x staleness (never heard = 3, heard 120 days ago = 120 / 90)
    got = out.set_index("account_id")["selection_probability"]
    for account in got.index:
        assert got[account] == pytest.approx(p[int(account[1:])])
    assert p[39] > p[20] > p[0]


def test_send_list_is_reproducible_and_warns_when_too_few_are_eligible():
    accounts, subs = book(10)
    a = survey_send_list(accounts, subs, subs.iloc[:0].rename(columns={"start_date": "responded_at"}),
                         as_of=AS_OF, target_responses=2, response_rate=0.5, seed=9)
    b = survey_send_list(accounts, subs, subs.iloc[:0].rename(columns={"start_date": "responded_at"}),
                         as_of=AS_OF, target_responses=2, response_rate=0.5, seed=9)
    pd.testing.assert_frame_equal(a, b)
    with pytest.warns(SmallSampleWarning, match="10 accounts are eligible"):
        out = survey_send_list(accounts, subs, a.iloc[:0].assign(responded_at=pd.NaT), as_of=AS_OF,
                               target_responses=50, response_rate=0.5, seed=9)
    assert len(out) == 10


def test_demo_send_list_plans_the_nps_sample():
    from feedback_lib.demo.company import generate_demo
    from feedback_lib.survey.score import nps_sample_size

    demo = generate_demo(seed=42, n_accounts=600, start="2024-10-01", end="2026-03-31")
    target = nps_sample_size(change=40, power=0.8, confidence=0.95)  # about 60 responses
    rate = demo.truth["response_rate"]
    out = survey_send_list(demo.accounts, demo.subscriptions, demo.responses, as_of="2026-03-30",
                           target_responses=target, response_rate=rate, seed=0)
    assert len(out) * rate >= target
    past = demo.responses.loc[demo.responses["responded_at"] <= "2026-03-30"]
    heard = past.groupby("account_id")["responded_at"].max()
    recent = heard[heard > pd.Timestamp("2026-03-30") - pd.Timedelta(days=90)].index
    assert len(recent) > 20
    assert not set(out["account_id"]) & set(recent.astype(str))
