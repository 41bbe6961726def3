"""Tests of feedback_lib.verbatims: theme trends and the weekly top problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from feedback_lib.errors import FeedbackLibError
from feedback_lib.verbatims.themes import tag_themes
from feedback_lib.verbatims.trends import theme_trends, top_problems


def weekly_fixture():
    """17 weeks from Monday 2026-01-05, 10 commented responses a week (plus one without comment).
    pricing: 1 a week for 13 weeks, then 5 a week; support: 2 a week throughout."""
    rows, tags = [], []
    mondays = pd.date_range("2026-01-05", periods=17, freq="7D")
    for w, monday in enumerate(mondays):
        for i in range(10):
            rid = f"w{w}r{i}"
            rows.append((rid, monday + pd.Timedelta(days=i % 5), "x"))
            if i < (5 if w >= 13 else 1):
                tags.append((rid, "pricing"))
            if i in (8, 9):
                tags.append((rid, "support"))
        rows.append((f"w{w}empty", monday, ""))
    responses = pd.DataFrame(rows, columns=["response_id", "responded_at", "comment"])
    tagged = pd.DataFrame(tags, columns=["response_id", "theme"])
    return responses, tagged


def test_theme_trends_counts_and_rising_test_by_hand():
    responses, tagged = weekly_fixture()
    tr = theme_trends(tagged, responses, as_of="2026-05-01")
    counts = tr.counts.set_index(["period", "theme"])
    assert counts.loc[(pd.Timestamp("2026-01-05"), "pricing"), "mentions"] == 1
    assert counts.loc[(pd.Timestamp("2026-04-27"), "pricing"), "share"] == 0.5  # 5 of 10 comments
    assert (tr.counts["comments"] == 10).all()  # empty comments are not in the denominator
    rising = tr.rising.set_index("theme")
    # pricing: 20 of 40 recent comments vs 13 of 130 baseline; P(X >= 20), X ~ Bin(33, 40 / 170)
    assert rising.loc["pricing", ["recent_mentions", "baseline_mentions"]].tolist() == [20, 13]
    assert rising.loc["pricing", "p_value"] == pytest.approx(stats.binom.sf(19, 33, 40 / 170))
    assert rising.loc["pricing", "rate_ratio"] == pytest.approx(0.5 / 0.1)
    assert bool(rising.loc["pricing", "rising"]) and not bool(rising.loc["support", "rising"])
    # support: 8 of 40 vs 26 of 130, the same share: P(X >= 8), X ~ Bin(34, 40 / 170)
    assert rising.loc["support", "p_value"] == pytest.approx(stats.binom.sf(7, 34, 40 / 170))
    # Holm over two themes: the smaller p doubled
    assert rising.loc["pricing", "p_adjusted"] == pytest.approx(2 * rising.loc["pricing", "p_value"])
    assert tr.recent_periods == (pd.Timestamp("2026-04-06"), pd.Timestamp("2026-04-27"))
    assert tr.baseline_periods == (pd.Timestamp("2026-01-05"), pd.Timestamp("2026-03-30"))


def test_theme_trends_monthly_and_errors():
    responses, tagged = weekly_fixture()
    monthly = theme_trends(tagged, responses, freq="M", as_of="2026-05-01", recent=1, baseline=3)
    assert monthly.counts["period"].dt.day.eq(1).all()
    with pytest.raises(FeedbackLibError, match="freq"):
        theme_trends(tagged, responses, freq="D")
    with pytest.raises(FeedbackLibError, match="no commented response"):
        theme_trends(tagged, responses, as_of="2025-01-01")


def test_top_problems_ranks_themes_by_mrr_and_accounts():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                             "segment": ["SMB", "SMB", "Enterprise", "Mid-Market"]})
    subs = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "mrr": [100.0, 200.0, 5000.0, 800.0],
                         "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    day = pd.Timestamp("2026-03-30")
    responses = pd.DataFrame({
        "response_id": [f"r{i}" for i in range(7)],
        "account_id": ["a", "a", "b", "c", "d", "d", "c"],
        "responded_at": [day, day, day, day, day, day - pd.Timedelta(days=10), day],
        "score": [3, 6, 5, 8, 2, 1, 10],
        "comment": ["Raportointityökalu on hidas", "Raportit eivät lataudu", "报表导出失败",
                    "客服响应太慢", "Support never answers", "Price is too high", "Great support"],
    })
    out = top_problems(responses, accounts=accounts, subscriptions=subs, as_of="2026-03-31")
    # in the 7-day window, scores <= 8: support (c 5000 + d 800), reporting (a 100 + b 200);
    # r5 (pricing) is 10 days old, r6 is a promoter
    assert out["theme"].tolist() == ["support", "reporting"]
    assert out["mrr"].tolist() == [5800.0, 300.0]
    assert out["accounts"].tolist() == [2, 2]
    assert out["responses"].tolist() == [2, 3]  # a's two reporting comments are one account
    assert out.loc[0, "example"] == "客服响应太慢"  # the largest account's words
    assert out.loc[0, "segments"] == "Enterprise, Mid-Market"
    assert out.loc[0, "mrr_share"] == pytest.approx(5800 / 6100)
    assert out.loc[1, "detractors"] == 3
    only_detractors = top_problems(responses, accounts=accounts, subscriptions=subs, as_of="2026-03-31",
                                   max_score=6)
    assert only_detractors["mrr"].tolist() == [800.0, 300.0]
    assert only_detractors["theme"].tolist() == ["support", "reporting"]


def test_top_problems_on_demo_week():
    from feedback_lib.demo.company import generate_demo

    demo = generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")
    out = top_problems(demo.responses, accounts=demo.accounts, subscriptions=demo.subscriptions,
                       as_of="2026-09-27", window_days=28)
    assert 1 <= len(out) <= 5
    assert out["mrr"].is_monotonic_decreasing and set(out["theme"]) <= set(demo.truth["themes"])
    tagged = tag_themes(demo.responses)
    trends = theme_trends(tagged, demo.responses, as_of="2026-09-27")
    assert np.all((trends.rising["p_value"] >= 0) & (trends.rising["p_value"] <= 1))
    assert set(trends.rising["theme"]) == set(demo.truth["themes"])
