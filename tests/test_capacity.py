"""Tests of feedback_lib.program.capacity: CSM load and headcount, outreach sampler, call brief."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError
from feedback_lib.program.capacity import (
    call_brief,
    csm_headcount,
    csm_load,
    outreach_list,
)

from .conftest import tiny_company


def book():
    accounts = pd.DataFrame({"account_id": list("abcdefgh"), "name": [f"Yritys {c}" for c in "abcdefgh"],
                             "segment": ["SMB"] * 5 + ["Enterprise"] * 3,
                             "csm": ["Li", "Li", "Li", "Aino", None, "Aino", "Aino", "Li"]})
    subs = pd.DataFrame({"account_id": list("abcdefgh"), "mrr": [100.0, 200, 300, 400, 500, 5000, 6000, 7000],
                         "start_date": pd.Timestamp("2025-01-01"),
                         "end_date": [pd.NaT] * 7 + [pd.Timestamp("2026-01-01")]})  # h has churned
    return accounts, subs


def test_csm_load_by_segment_with_unassigned():
    accounts, subs = book()
    out = csm_load(accounts, subs, as_of="2026-03-31").set_index(["csm", "segment"])
    assert out.loc[("Li", "SMB"), "accounts"] == 3 and out.loc[("Li", "SMB"), "mrr"] == 600
    assert out.loc[("Aino", "Enterprise"), "accounts"] == 2
    assert out.loc[("Aino", "SMB"), "share_of_csm_accounts"] == pytest.approx(1 / 3)
    assert out.loc[("(unassigned)", "SMB"), "mrr"] == 500
    assert ("Li", "Enterprise") not in out.index  # h no longer pays


def test_csm_headcount_by_hand():
    accounts, subs = book()
    out = csm_headcount(accounts, subs, as_of="2026-03-31", accounts_per_csm={"SMB": 2, "Enterprise": 1},
                        coverage={"SMB": 0.5, "Enterprise": 1.0}).set_index("segment")
    # SMB: 5 paying, cover ceil(2.5) = 3 -> ceil(3 / 2) = 2 CSMs; Enterprise: 2 -> 2 CSMs
    assert out.loc["SMB", "covered_accounts"] == 3 and out.loc["SMB", "csms_needed"] == 2
    assert out.loc["Enterprise", "csms_needed"] == 2
    # Li: 3 SMB accounts -> 1.0 SMB FTE; Aino: 1 SMB + 2 Enterprise -> 1/3 and 2/3
    assert out.loc["SMB", "csms_now"] == pytest.approx(4 / 3)
    assert out.loc["Enterprise", "csms_now"] == pytest.approx(2 / 3)
    assert out.loc["All", "csms_needed"] == 4 and out.loc["All", "gap"] == pytest.approx(2.0)
    with pytest.raises(FeedbackLibError, match="lacks segment"):
        csm_headcount(accounts, subs, as_of="2026-03-31", accounts_per_csm={"SMB": 2})


def outreach_inputs(n: int = 60):
    ids = [f"a{i:02d}" for i in range(n)]
    health = pd.DataFrame({"account_id": ids, "mrr": 100.0 * np.arange(1, n + 1),
                           "health": np.where(np.arange(n) % 3 == 0, 30.0, 90.0)})
    health["band"] = np.where(health["health"] < 50, "red", "green")
    accounts = pd.DataFrame({"account_id": ids, "name": ids, "csm": np.where(np.arange(n) % 2 == 0, "Li", "Aino")})
    conversations = pd.DataFrame({"account_id": ["a00", "a01", "a02"],
                                  "held_on": pd.to_datetime(["2026-03-20", "2025-06-01", "2026-01-15"])})
    return health, accounts, conversations


def test_outreach_list_five_a_day_per_csm():
    health, accounts, conversations = outreach_inputs()
    out = outreach_list(health, accounts=accounts, conversations=conversations, as_of="2026-03-31", seed=4,
                        per_day=5, days=3)
    assert out.groupby("csm").size().tolist() == [15, 15]
    assert out.groupby(["csm", "day"]).size().eq(5).all()
    assert not out["account_id"].duplicated().any()
    assert "a00" not in set(out["account_id"])  # touched 11 days ago
    again = outreach_list(health, accounts=accounts, conversations=conversations, as_of="2026-03-31", seed=4,
                          per_day=5, days=3)
    pd.testing.assert_frame_equal(out, again)
    everyone = outreach_list(health, accounts=accounts, conversations=conversations, as_of="2026-03-31",
                             seed=4, per_day=30).set_index("account_id")
    assert len(everyone) == 59  # all but a00
    assert everyone.loc["a02", "touch_bucket"] == "31-90 days"  # 75 days
    assert everyone.loc["a01", "touch_bucket"] == "181-365 days"  # 303 days
    assert everyone.loc["a03", "touch_bucket"] == "never or > 365 days"
    assert everyone.loc["a03", "reason"] == "red health, MRR band 1 of 5, never spoken to"


def test_outreach_list_favours_red_large_untouched_accounts():
    health, accounts, conversations = outreach_inputs()
    counts = pd.Series(0, index=health["account_id"])
    for seed in range(60):  # Monte Carlo over seeds; each call is vectorised
        out = outreach_list(health, accounts=accounts, conversations=conversations, as_of="2026-03-31",
                            seed=seed, per_day=5)
        counts[out["account_id"]] += 1
    # weight = MRR band x health (red 4, green 1) x touch (never 3): a57 (top band, red) vs
    # a04 (bottom band, green): 5 * 4 = 20 times the weight
    assert counts["a57"] > 3 * max(counts["a04"], 1)
    assert counts["a57"] > counts["a59"]  # same band, green


def test_call_brief_tiny_company_finnish_and_chinese():
    data = tiny_company()
    brief = call_brief(data, account_id="A1", as_of="2024-06-30")
    assert (brief.name, brief.tenure_months, brief.mrr, brief.mrr_3m_ago) == ("Acme Oy", 6, 1500.0, 1200.0)
    assert brief.mrr_trend == "+25% over 3 months"
    assert brief.last_score == 6 and brief.last_comment.startswith("Raportointityökalu on hidas")
    assert brief.open_tickets == 0  # T1 closed on 2024-06-03
    assert (brief.last_conversation_by, brief.competitors_mentioned) == ("CEO", ("Globex", "Initech"))
    md = brief.to_markdown()
    assert md.startswith("# Acme Oy (A1)") and "c***@acme.example" in md and "cfo@" not in md
    assert "cfo@" not in str(brief.to_dict())
    china = call_brief(data, account_id="A2", as_of="2024-06-30")
    assert china.open_tickets == 1 and china.open_ticket_lines == ("T2: low billing, open 28 days",)
    assert china.last_comment == "客服响应太慢，价格太贵" and china.contact == "w***@bj.example"
    assert "no response" not in china.to_markdown()
    with pytest.raises(FeedbackLibError, match="not in the accounts"):
        call_brief(data, account_id="A9", as_of="2024-06-30")
