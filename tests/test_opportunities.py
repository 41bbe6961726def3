"""Tests of feedback_lib.program.opportunities: expansion that followed opportunities, against matched
controls (hand-built answers and the demo's planted conversion rate)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from feedback_lib._util.stats import newcombe_difference, wilson_interval
from feedback_lib.demo.company import generate_demo
from feedback_lib.errors import FeedbackLibError, SmallSampleWarning
from feedback_lib.program.opportunities import opportunity_outcomes
from tests.conftest import subs_frame  # noqa: E402


def opportunity_fixture():
    accounts = pd.DataFrame({"account_id": list("abcdefg"),
                             "segment": ["SMB"] * 4 + ["Enterprise", "SMB", "SMB"]})
    subs = subs_frame([
        ("a", 100.0, "2025-01-01", None), ("a", 50.0, "2025-02-10", None),     # opportunity converted
        ("b", 100.0, "2025-01-01", None), ("b", 60.0, "2025-02-15", None),     # control that expanded
        ("c", 100.0, "2025-01-01", None),                                      # control, no change
        ("d", 100.0, "2025-01-01", None), ("d", 80.0, "2025-02-12", None),     # spoken to: not a control
        ("e", 100.0, "2025-01-01", None), ("e", 90.0, "2025-02-12", None),     # other segment
        ("f", 5000.0, "2025-01-01", None), ("f", 90.0, "2025-02-12", None),    # other MRR band
        ("g", 100.0, "2025-01-01", "2025-02-20"),                              # churned in the window
    ])
    conv = pd.DataFrame({"conversation_id": ["V1", "V2"], "account_id": ["a", "d"], "executive": ["CEO", "CFO"],
                         "held_on": pd.to_datetime(["2025-02-01", "2025-02-20"]),
                         "opportunity_mrr": [50.0, np.nan]})
    return accounts, subs, conv


def test_opportunity_outcomes_matched_controls_by_hand():
    accounts, subs, conv = opportunity_fixture()
    out = opportunity_outcomes(conv, subs, accounts=accounts, as_of="2025-12-31", window_days=30)
    # opportunity a: +50 >= 50 -> converted. Controls: SMB, band of MRR 100, paying at both ends,
    # not spoken to within 30 days: b (+60 >= 50, converted) and c (+0) -> baseline 1 / 2
    assert (out.conversion.successes, out.conversion.n) == (1, 1)
    assert (out.baseline.successes, out.baseline.n) == (1, 2)
    expected = newcombe_difference(wilson_interval(1, 1), wilson_interval(1, 2))
    assert (out.difference, out.ci_low, out.ci_high) == pytest.approx(expected)
    row = out.opportunities.iloc[0]
    assert (row["mrr_at_conversation"], row["mrr_after_window"], row["expansion_mrr"]) == (100.0, 150.0, 50.0)
    assert "not expansion they caused" in out.statement
    by = out.to_frame().set_index("executive")
    assert by.loc["CEO", "expansion_mrr_followed"] == 50.0 and by.loc["All", "opportunities"] == 1


def test_opportunity_outcomes_churned_controls_count_when_not_survivors_only():
    accounts, subs, conv = opportunity_fixture()
    out = opportunity_outcomes(conv, subs, accounts=accounts, as_of="2025-12-31", window_days=30,
                               survivors_only=False)
    assert (out.baseline.successes, out.baseline.n) == (1, 3)  # b, c and g (churned: no expansion)


def test_opportunity_outcomes_needs_complete_windows():
    accounts, subs, conv = opportunity_fixture()
    with pytest.raises(FeedbackLibError, match="complete 30-day window"):
        opportunity_outcomes(conv, subs, accounts=accounts, as_of="2025-02-20", window_days=30)


def test_demo_planted_opportunity_effect_recovered():
    """Planted: an opportunity converts with probability truth["opportunity_conversion_rate"] into an
    expansion of exactly opportunity_mrr 1..opportunity_window_days days later (unless the account
    churns first). Estimand: among opportunities whose account still pays at the window's end, the
    share followed by an expansion >= opportunity_mrr within the window, minus the same share among
    matched controls (same segment and MRR band, not spoken to, same start date)."""
    demo = generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")
    truth = demo.truth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # a few large accounts have no twin
        out = opportunity_outcomes(demo.conversations, demo.subscriptions, accounts=demo.accounts,
                                   as_of=truth["end"], window_days=truth["opportunity_window_days"], seed=0)
    assert out.conversion.n > 80
    assert out.ci_low <= truth["opportunity_conversion_rate"] <= out.ci_high
    assert out.ci_low > 0.25  # clearly above what similar accounts did on their own
    assert out.baseline.share < 0.1
