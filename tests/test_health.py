"""Tests of feedback_lib.program.health: factor mapping, weighting, bands and the backtest."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError
from feedback_lib.io.dataset import Dataset
from feedback_lib.program.health import (
    _band,
    backtest_health,
    concordance,
    health_score,
)

from .conftest import make_table

AS_OF = "2026-03-31"  # last complete usage week starts Monday 2026-03-23


def weeks(start: str, count: int) -> list[str]:
    return [str(d.date()) for d in pd.date_range(start, periods=count, freq="7D")]


def health_fixture() -> Dataset:
    accounts = make_table("accounts", [
        dict(account_id=a, name=n, segment="SMB", region="EMEA", industry="Retail", owner="CEO", csm="Li",
             signup_date="2025-01-01") for a, n in (("h1", "Acme Oy"), ("h2", "北京科技"), ("h3", "Gone"), ("h4", "New"))
    ])
    subscriptions = make_table("subscriptions", [
        dict(subscription_id=f"S{i}", account_id=a, plan="Pro", start_date=start, end_date=end, mrr=mrr)
        for i, (a, start, end, mrr) in enumerate([
            ("h1", "2025-01-01", None, 100.0), ("h2", "2025-01-01", "2026-02-01", 400.0),
            ("h2", "2026-02-01", None, 200.0), ("h3", "2025-01-01", "2026-03-01", 300.0),
            ("h4", "2026-02-01", None, 50.0)])
    ])
    responses = make_table("responses", [
        dict(response_id="R1", account_id="h1", respondent="c", responded_at="2025-12-01", score=2,
             comment="Raportointityökalu on hidas", channel="email"),
        dict(response_id="R2", account_id="h1", respondent="c", responded_at="2026-03-01", score=9,
             comment="客服很专业", channel="email"),
        dict(response_id="R3", account_id="h4", respondent="c", responded_at="2025-01-01", score=6,
             comment="", channel="email"),
    ])
    tickets = make_table("tickets", [
        dict(ticket_id="T1", account_id="h1", opened_at="2026-03-10", closed_at="2026-03-12", severity="critical",
             category="performance"),
        dict(ticket_id="T2", account_id="h2", opened_at="2025-10-01", closed_at=None, severity="medium",
             category="bug"),
        dict(ticket_id="T3", account_id="h2", opened_at="2026-01-15", closed_at="2026-01-16", severity="low",
             category="how-to"),
    ])
    usage_rows = [dict(account_id="h1", week=w, active_users=7, seats=10) for w in weeks("2026-01-05", 12)]
    usage_rows.append(dict(account_id="h1", week="2026-03-30", active_users=0, seats=10))  # incomplete week
    usage_rows += [dict(account_id="h2", week=w, active_users=14, seats=20) for w in weeks("2026-01-05", 8)]
    usage_rows += [dict(account_id="h2", week=w, active_users=7, seats=20) for w in weeks("2026-03-02", 4)]
    conversations = make_table("conversations", [
        dict(conversation_id="V1", account_id="h1", executive="CEO", held_on="2026-02-01", competitors_mentioned=[]),
        dict(conversation_id="V2", account_id="h4", executive="CEO", held_on="2025-09-01", competitors_mentioned=[]),
    ])
    return Dataset(accounts=accounts, subscriptions=subscriptions, responses=responses, tickets=tickets,
                   usage=make_table("usage", usage_rows), conversations=conversations)


def test_health_factors_and_weighted_score_by_hand():
    h = health_score(health_fixture(), as_of=AS_OF).set_index("account_id")
    assert list(h.index) == ["h1", "h2", "h4"]  # h3 no longer pays
    h1, h2, h4 = h.loc["h1"], h.loc["h2"], h.loc["h4"]
    # h1: latest score 9 -> 90; one critical ticket (load 8) -> 100 e^-1; 7 of 10 seats -> 100;
    # flat usage -> 100; spoken to 58 days ago -> 100; MRR unchanged -> 100
    assert (h1["nps"], h1["ticket_load"], h1["utilisation"], h1["usage_trend"]) == (90.0, 8.0, 100.0, 100.0)
    assert h1["tickets"] == pytest.approx(100 * math.exp(-1))
    assert h1["health"] == pytest.approx(0.25 * 90 + 0.2 * 100 * math.exp(-1) + 0.2 * 100 + 0.1 * 100
                                         + 0.1 * 100 + 0.15 * 100)
    assert h1["band"] == "green" and h1["factors"] == 6
    # h2: no response (nps ignored); open medium (2) + recent low (1) -> 100 e^-3/8; 7 of 20 seats
    # -> 0.35 / 0.7 -> 50; usage halved -> 0; never spoken to -> 0; MRR 400 -> 200 -> 0
    assert math.isnan(h2["nps"]) and h2["ticket_load"] == 3.0
    assert (h2["utilisation"], h2["usage_trend"], h2["conversations"], h2["commercial"]) == (50.0, 0.0, 0.0, 0.0)
    expected = (0.2 * 100 * math.exp(-3 / 8) + 0.2 * 50) / 0.75
    assert h2["health"] == pytest.approx(expected) and h2["band"] == "red"
    # h4: response older than 365 days; no tickets -> 100; no usage; 211 days -> 100 (1 - 121 / 275);
    # new account -> commercial 100
    assert h4["conversations"] == pytest.approx(100 * (1 - 121 / 275))
    assert h4["health"] == pytest.approx((0.2 * 100 + 0.1 * 100 * (1 - 121 / 275) + 0.15 * 100) / 0.45)
    assert h4["factors"] == 3


def test_health_weights_are_normalised_and_validated():
    data = health_fixture()
    a = health_score(data, as_of=AS_OF, weights={"nps": 2, "commercial": 2})
    b = health_score(data, as_of=AS_OF, weights={"nps": 0.5, "commercial": 0.5})
    pd.testing.assert_series_equal(a["health"], b["health"])
    assert a.set_index("account_id").loc["h1", "health"] == pytest.approx(95.0)  # (90 + 100) / 2
    assert a["tickets"].isna().all()  # factors without weight are not reported
    with pytest.raises(FeedbackLibError, match="unknown factor"):
        health_score(data, as_of=AS_OF, weights={"payments": 1})
    with pytest.raises(FeedbackLibError, match="positive sum"):
        health_score(data, as_of=AS_OF, weights={"nps": 0})


def test_bands_follow_gainsight_cut_points():
    bands = _band(pd.Series([0.0, 50.0, 50.01, 75.0, 75.01, 100.0, math.nan]), (50, 75))
    assert list(bands[:6]) == ["red", "red", "yellow", "yellow", "green", "green"]
    assert pd.isna(bands[6])
    with pytest.raises(FeedbackLibError, match="cuts"):
        _band(pd.Series([1.0]), (80, 60))


def test_concordance_ties_count_half():
    # one event with risk 1 against non-events 1 (tie: 1/2) and 0 (win): (0.5 + 1) / 2
    assert concordance([1, 1, 0], [1, 0, 0])[0] == pytest.approx(0.75)
    assert math.isnan(concordance([1, 2], [0, 0])[0])


def backtest_fixture() -> Dataset:
    """Ten accounts scoring 0..9 in June 2025; those scoring 0-2 churn in August."""
    ids = [f"b{i}" for i in range(10)]
    return Dataset(
        accounts=make_table("accounts", [dict(account_id=a, segment="SMB", signup_date="2025-01-01") for a in ids]),
        subscriptions=make_table("subscriptions", [
            dict(subscription_id=f"S{i}", account_id=a, start_date="2025-01-01",
                 end_date="2025-08-15" if i <= 2 else None, mrr=100.0) for i, a in enumerate(ids)]),
        responses=make_table("responses", [
            dict(response_id=f"R{i}", account_id=a, responded_at="2025-06-10", score=i) for i, a in enumerate(ids)]),
    )


def test_backtest_health_perfect_separation_by_hand():
    data = backtest_fixture()
    reverse = pd.DataFrame({"account_id": [f"b{i}" for i in range(10)], "risk": range(10)})
    bt = backtest_health(data, cutoff="2025-06-30", as_of="2025-09-30", horizon_months=3,
                         weights={"nps": 1}, compare={"reversed": reverse}, churn_model=False)
    assert (bt.n, bt.churned, bt.c_index) == (10, 3, 1.0)
    cal = bt.calibration.set_index("band")
    # health 0..50 red (6 accounts, 3 churned), 60-70 yellow, 80-90 green
    assert cal["accounts"].tolist() == [6, 2, 2] and cal["churned"].tolist() == [3, 0, 0]
    assert cal.loc["red", "share"] == 0.5
    assert (bt.bottom_decile.n, bt.bottom_decile.share) == (1, 1.0)  # ceil(10 %) = the 0 scorer
    assert bt.bottom_decile_lift == pytest.approx(1 / 0.3)
    comp = bt.comparison.set_index("scorer")
    assert comp.loc["latest NPS score (naive baseline)", "c_index"] == 1.0
    assert comp.loc["reversed", "c_index"] == 0.0


def test_backtest_health_needs_the_outcome_window():
    with pytest.raises(FeedbackLibError, match="outcome window"):
        backtest_health(backtest_fixture(), cutoff="2025-06-30", as_of="2025-08-31", horizon_months=3)


def test_demo_backtest_against_churn_model_and_movements():
    from feedback_lib.demo.company import generate_demo
    from feedback_lib.revenue.movements import mrr_movements
    from feedback_lib.revenue.mrr import monthly_revenue

    demo = generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")
    bt = backtest_health(demo, cutoff="2025-12-31", as_of="2026-09-30", horizon_months=6)
    # independent count: churn movements in Jan-Jun 2026 of accounts paying at the cutoff
    moves = mrr_movements(monthly_revenue(demo.subscriptions, as_of="2026-06-30"), as_of="2026-06-30")
    window = moves.loc[(moves["month"] >= "2026-01-01") & (moves["category"] == "churn")]
    assert bt.churned == window["account_id"].isin(bt.scores["account_id"]).sum() > 50
    assert set(bt.comparison["scorer"]) == {"health score", "latest NPS score (naive baseline)",
                                            "churn model (fl.ChurnModel)"}
    assert ((bt.comparison["ci_low"] <= bt.comparison["c_index"])
            & (bt.comparison["c_index"] <= bt.comparison["ci_high"])).all()
    assert bt.calibration["accounts"].sum() == bt.n
