"""Tests of feedback_lib.revenue.movements: monthly revenue, MRR movements, the ARR bridge and bridge rates."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import feedback_lib as fl  # noqa: E402
from feedback_lib.errors import FeedbackLibError  # noqa: E402
from tests.conftest import revenue_frame, subs  # noqa: E402


def series(frame: pd.DataFrame, account: str, column: str = "mrr") -> list[tuple[str, object]]:
    """(YYYY-MM, value) pairs of one account, in row order."""
    rows = frame[frame["account_id"] == account]
    return [(f"{m:%Y-%m}", v) for m, v in zip(rows["month"], rows[column])]




# ------------------------------------------------------------------------------------------
# monthly_revenue
# ------------------------------------------------------------------------------------------
def test_two_concurrent_subscriptions_add_up():
    # S1 100 from Jan 1 to Apr 1 (exclusive), S2 50 from Feb 15, running; as_of May 20.
    # Jan 31: S1 = 100; Feb 29: S1 + S2 = 150; Mar 31: S1 (ends Apr 1 > Mar 31) + S2 = 150;
    # Apr 30: S2 = 50; May (as_of May 20): S2 = 50.
    rev = fl.monthly_revenue(
        subs(("a", "2024-01-01", "2024-04-01", 100), ("a", "2024-02-15", None, 50)), as_of="2024-05-20"
    )
    assert series(rev, "a") == [("2024-01", 100.0), ("2024-02", 150.0), ("2024-03", 150.0),
                                ("2024-04", 50.0), ("2024-05", 50.0)]


def test_running_subscription_stops_at_the_as_of_month():
    # started Jan 15, still running: Jan, Feb, Mar (month of as_of), nothing in April
    rev = fl.monthly_revenue(subs(("a", "2024-01-15", None, 100)), as_of="2024-03-10")
    assert series(rev, "a") == [("2024-01", 100.0), ("2024-02", 100.0), ("2024-03", 100.0)]


def test_gap_months_are_zero_rows_between_paid_months():
    # Jan-Feb paid, Mar-Apr nothing, May-Jun paid; nothing after June although as_of is December
    rev = fl.monthly_revenue(
        subs(("a", "2024-01-01", "2024-03-01", 100), ("a", "2024-05-01", "2024-07-01", 80)),
        as_of="2024-12-31",
    )
    assert series(rev, "a") == [("2024-01", 100.0), ("2024-02", 100.0), ("2024-03", 0.0), ("2024-04", 0.0),
                                ("2024-05", 80.0), ("2024-06", 80.0)]


@pytest.mark.parametrize(
    "end, last_month",
    [
        ("2024-03-01", "2024-02"),  # ends on the 1st: active on Feb 29, not on Mar 31
        ("2024-03-15", "2024-02"),  # ends mid-month: not active on Mar 31
        ("2024-03-31", "2024-02"),  # end is exclusive: not active on Mar 31 itself
        ("2024-04-01", "2024-03"),  # active on Mar 31
    ],
)
def test_subscription_end_day_decides_its_last_month(end, last_month):
    rev = fl.monthly_revenue(subs(("a", "2024-01-01", end, 100)), as_of="2024-12-31")
    assert series(rev, "a")[-1] == (last_month, 100.0)


def test_price_change_mid_month_shows_the_new_price_that_month():
    # 100 until Mar 15, 150 from Mar 15: the Mar 31 snapshot sees 150
    rev = fl.monthly_revenue(
        subs(("a", "2024-01-01", "2024-03-15", 100), ("a", "2024-03-15", None, 150)), as_of="2024-04-30"
    )
    assert series(rev, "a") == [("2024-01", 100.0), ("2024-02", 100.0), ("2024-03", 150.0),
                                ("2024-04", 150.0)]


def test_as_of_date_replaces_the_month_end_in_the_as_of_month():
    frame = subs(
        ("a", "2024-01-01", "2024-03-05", 100),  # ended before as_of (Mar 10): Jan, Feb only
        ("b", "2024-03-05", None, 200),  # started before as_of: counted in March
        ("c", "2024-03-20", None, 300),  # starts after as_of: no rows at all
        ("d", "2024-01-01", "2024-03-20", 40),  # active on Mar 10 though it ends before Mar 31
    )
    rev = fl.monthly_revenue(frame, as_of="2024-03-10")
    assert series(rev, "a") == [("2024-01", 100.0), ("2024-02", 100.0)]
    assert series(rev, "b") == [("2024-03", 200.0)]
    assert series(rev, "c") == []
    assert series(rev, "d") == [("2024-01", 40.0), ("2024-02", 40.0), ("2024-03", 40.0)]


def test_short_and_free_subscriptions_never_show():
    frame = subs(
        ("a", "2024-02-03", "2024-02-20", 100),  # starts and ends inside February
        ("b", "2024-01-01", None, 0),  # free plan: no paid month
        ("c", "2024-01-01", None, 10),
        ("c", "2023-01-01", None, 0),  # a free plan does not move c's first paid month
    )
    rev = fl.monthly_revenue(frame, as_of="2024-02-29")
    assert rev["account_id"].tolist() == ["c", "c"]
    assert series(rev, "c") == [("2024-01", 10.0), ("2024-02", 10.0)]


def test_cents_add_up_exactly():
    # 0.1 + 0.2 is 0.30000000000000004 in floats; the engine adds integer micro-units
    frame = subs(("a", "2024-01-01", None, 0.1), ("a", "2024-01-01", None, 0.2))
    rev = fl.monthly_revenue(frame, as_of="2024-01-31")
    assert rev["mrr"].tolist() == [0.3]


def test_output_is_sorted_typed_and_independent_of_row_order():
    frame = subs(
        ("b", "2024-02-01", None, 20), ("a", "2024-01-01", "2024-03-01", 10), ("c", "2023-12-05", None, 5),
        ("a", "2024-02-10", None, 7),
    )
    rev = fl.monthly_revenue(frame, as_of="2024-03-31")
    assert rev["account_id"].tolist() == ["a"] * 3 + ["b"] * 2 + ["c"] * 4
    assert rev["month"].is_monotonic_increasing is False  # sorted by account first
    assert rev.groupby("account_id")["month"].apply(lambda m: m.is_monotonic_increasing).all()
    assert rev.dtypes.astype(str).tolist() == ["string", "datetime64[ns]", "float64"]
    shuffled = fl.monthly_revenue(frame.sample(frac=1, random_state=3), as_of="2024-03-31")
    pd.testing.assert_frame_equal(rev, shuffled)


def test_arrow_and_object_account_ids_keep_their_dtype_and_values():
    frame = subs(("b", "2024-01-01", None, 20), ("a", "2024-01-01", "2024-03-01", 10))
    expected = fl.monthly_revenue(frame, as_of="2024-03-31")
    for dtype in ("string[pyarrow]", "object"):
        other = frame.assign(account_id=frame["account_id"].astype(dtype))
        rev = fl.monthly_revenue(other, as_of="2024-03-31")
        assert rev["account_id"].dtype == other["account_id"].dtype
        assert rev["account_id"].astype(str).tolist() == expected["account_id"].astype(str).tolist()
        assert rev["mrr"].tolist() == expected["mrr"].tolist()


def test_empty_subscriptions_give_an_empty_frame_with_the_columns():
    rev = fl.monthly_revenue(subs(), as_of="2024-03-31")
    assert list(rev.columns) == ["account_id", "month", "mrr"] and len(rev) == 0
    assert str(rev["month"].dtype) == "datetime64[ns]"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="end_date"), "missing column"),
        (lambda f: f.assign(mrr=[np.nan]), "not finite numbers >= 0 below 1e12"),
        (lambda f: f.assign(mrr=[2e12]), "below 1e12"),
        (lambda f: f.assign(mrr=[-5.0]), "rows 1"),
        (lambda f: f.assign(start_date=pd.NaT), "start_date"),
    ],
)
def test_invalid_subscriptions_raise_a_clear_error(change, message):
    with pytest.raises(FeedbackLibError, match=message):
        fl.monthly_revenue(change(subs(("a", "2024-01-01", None, 10))), as_of="2024-03-31")


def test_as_of_must_be_a_date():
    with pytest.raises(FeedbackLibError, match="as_of"):
        fl.monthly_revenue(subs(("a", "2024-01-01", None, 10)), as_of="last friday")
    with pytest.raises(FeedbackLibError, match="as_of"):
        fl.monthly_revenue(subs(("a", "2024-01-01", None, 10)), as_of=None)


# ------------------------------------------------------------------------------------------
# mrr_movements
# ------------------------------------------------------------------------------------------
HAND_REVENUE = [
    # a: new, expansion, unchanged, contraction, churn, gap, reactivation; last paid July
    ("a", "2024-01", 100), ("a", "2024-02", 150), ("a", "2024-03", 150), ("a", "2024-04", 120),
    ("a", "2024-05", 0), ("a", "2024-06", 0), ("a", "2024-07", 200),
    ("b", "2024-03", 80),  # one paid month, churns in April
    ("c", "2024-09", 50),  # new in the as_of month: no churn row
    ("d", "2024-08", 40), ("d", "2024-09", 40),  # still paying in the as_of month
    ("e", "2024-01", 100), ("e", "2024-02", 0), ("e", "2024-03", 130),  # price up on return
]


def test_movement_categories_follow_the_first_matching_rule():
    mv = fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15")
    assert series(mv, "a", "category") == [
        ("2024-01", "new"), ("2024-02", "expansion"), ("2024-03", "unchanged"), ("2024-04", "contraction"),
        ("2024-05", "churn"), ("2024-06", "unchanged"), ("2024-07", "reactivation"), ("2024-08", "churn"),
    ]
    # a: changes +100, +50, 0, -30, -120, 0, +200 and the churn row -200
    changes = [v for _, v in series(mv, "a", "mrr_change")]
    assert changes == [100.0, 50.0, 0.0, -30.0, -120.0, 0.0, 200.0, -200.0]
    previous = [v for _, v in series(mv, "a", "previous_mrr")]
    assert previous == [0.0, 100.0, 150.0, 150.0, 120.0, 0.0, 0.0, 200.0]
    assert series(mv, "b", "category") == [("2024-03", "new"), ("2024-04", "churn")]
    assert series(mv, "c", "category") == [("2024-09", "new")]
    assert series(mv, "d", "category") == [("2024-08", "new"), ("2024-09", "unchanged")]
    # e comes back at 130 after paying 100: the whole +130 is reactivation (playbook rule)
    assert series(mv, "e", "category")[-2:] == [("2024-03", "reactivation"), ("2024-04", "churn")]
    assert series(mv, "e", "mrr_change")[-2:] == [("2024-03", 130.0), ("2024-04", -130.0)]
    assert len(mv) == len(HAND_REVENUE) + 3  # churn rows for a, b and e
    assert list(mv.columns) == ["account_id", "month", "mrr", "previous_mrr", "mrr_change", "category"]
    assert list(mv["category"].cat.categories) == list(fl.MOVEMENT_CATEGORIES)


def test_movements_do_not_depend_on_row_order_or_id_storage():
    revenue = revenue_frame(HAND_REVENUE)
    expected = fl.mrr_movements(revenue, as_of="2024-09-15")
    shuffled = revenue.sample(frac=1, random_state=7)
    pd.testing.assert_frame_equal(fl.mrr_movements(shuffled, as_of="2024-09-15"), expected)
    arrow = shuffled.assign(account_id=shuffled["account_id"].astype("string[pyarrow]"))
    got = fl.mrr_movements(arrow, as_of="2024-09-15")
    assert got["account_id"].dtype == arrow["account_id"].dtype
    pd.testing.assert_frame_equal(got.assign(account_id=got["account_id"].astype("string")), expected)


def test_rows_after_the_as_of_month_are_ignored():
    # as of June, a's July reactivation is in the future: a churned in May and stays churned
    mv = fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-06-30")
    assert series(mv, "a", "category")[-2:] == [("2024-05", "churn"), ("2024-06", "unchanged")]
    assert mv["month"].max() == pd.Timestamp("2024-06-01")
    assert "c" not in set(mv["account_id"]) and "d" not in set(mv["account_id"])


def test_missing_gap_month_and_duplicate_rows_are_errors():
    with pytest.raises(FeedbackLibError, match="no row between 2024-01 and 2024-03"):
        fl.mrr_movements(revenue_frame([("a", "2024-01", 10), ("a", "2024-03", 10)]), as_of="2024-03-31")
    with pytest.raises(FeedbackLibError, match="several rows for month 2024-01"):
        fl.mrr_movements(revenue_frame([("a", "2024-01", 10), ("a", "2024-01", 10)]), as_of="2024-03-31")


def test_running_and_concurrent_subscriptions_where_the_playbook_fails():
    # a: base 100 from Jan (running), add-on 30 Mar-May (exclusive): expansion then contraction,
    # no churn while the base runs. b: two subscriptions ending in different months: contraction
    # when the first ends, churn only when none is left (ChartMogul). c: running, no end date.
    frame = subs(
        ("a", "2024-01-01", None, 100), ("a", "2024-03-01", "2024-05-01", 30),
        ("b", "2024-01-01", "2024-03-01", 20), ("b", "2024-01-01", "2024-04-01", 50),
        ("c", "2024-05-01", None, 10),
    )
    mv = fl.mrr_movements(fl.monthly_revenue(frame, as_of="2024-06-30"), as_of="2024-06-30")
    assert series(mv, "a", "category") == [
        ("2024-01", "new"), ("2024-02", "unchanged"), ("2024-03", "expansion"), ("2024-04", "unchanged"),
        ("2024-05", "contraction"), ("2024-06", "unchanged"),
    ]
    assert series(mv, "b", "category") == [("2024-01", "new"), ("2024-02", "unchanged"),
                                           ("2024-03", "contraction"), ("2024-04", "churn")]
    assert series(mv, "b", "mrr_change") == [("2024-01", 70.0), ("2024-02", 0.0), ("2024-03", -20.0),
                                             ("2024-04", -50.0)]
    assert series(mv, "c", "category") == [("2024-05", "new"), ("2024-06", "unchanged")]


def test_empty_revenue_gives_empty_movements_and_bridge():
    mv = fl.mrr_movements(fl.monthly_revenue(subs(), as_of="2024-01-31"), as_of="2024-01-31")
    assert len(mv) == 0
    assert list(mv.columns) == ["account_id", "month", "mrr", "previous_mrr", "mrr_change", "category"]
    bridge = fl.arr_bridge(mv)
    assert len(bridge) == 0 and list(bridge.columns)[0] == "period"


# ------------------------------------------------------------------------------------------
# dbt-labs mrr-playbook conformance
# ------------------------------------------------------------------------------------------
# subscription_periods.csv of dbt-labs/mrr-playbook (commit f7921cf), as shipped in the project's
# shared reference folder: subscription_id,customer_id,start_date,end_date,monthly_amount
PLAYBOOK_SUBSCRIPTIONS = """
1,1,2018-11-01,2019-02-01,50 2,1,2019-04-01,2019-06-01,50 3,1,2019-06-01,2019-08-01,75
4,2,2017-09-01,2017-11-01,25 5,3,2017-09-01,2017-10-01,50 6,4,2017-10-01,2017-11-01,25
7,5,2018-11-01,2018-12-01,50 8,5,2018-12-01,2019-03-01,25 9,5,2019-07-01,2019-08-01,50
10,5,2019-08-01,2019-09-01,25 11,5,2019-09-01,2019-10-01,50 12,5,2019-10-01,2019-12-01,25
13,5,2019-12-01,2020-01-01,40 14,6,2018-05-01,2018-06-01,35 15,6,2018-06-01,2020-01-01,65
16,7,2018-01-01,2018-02-01,55 17,7,2018-02-01,2019-12-01,70 18,8,2019-04-01,2019-05-01,65
19,8,2019-05-01,2019-12-01,65 20,9,2018-05-01,2018-06-01,85 21,9,2018-06-01,2020-01-01,75
22,10,2018-04-01,2018-05-01,80 23,10,2018-09-01,2018-10-01,50 24,10,2018-10-01,2019-04-01,25
25,10,2019-04-01,2019-05-01,50 26,10,2019-05-01,2019-06-01,25 27,10,2019-06-01,2019-11-01,50
28,10,2019-11-01,2019-12-01,25 29,10,2019-12-01,2020-01-01,35 30,11,2018-09-01,2018-10-01,30
31,11,2018-10-01,2020-01-01,50 32,12,2018-06-01,2018-07-01,25 33,12,2018-07-01,2020-01-01,50
34,13,2019-08-01,2019-09-01,25 35,13,2019-09-01,2020-01-01,50 36,14,2019-03-01,2019-04-01,25
37,14,2019-04-01,2019-05-01,50 38,14,2019-05-01,2019-06-01,25 39,14,2019-06-01,2019-07-01,50
40,14,2019-07-01,2019-08-01,25 41,14,2019-08-01,2019-09-01,25 42,14,2019-09-01,2019-10-01,50
43,14,2019-10-01,2020-01-01,25 44,15,2019-02-01,2019-03-01,30 45,15,2019-03-01,2020-01-01,30
46,16,2019-07-01,2019-08-01,25 47,16,2019-08-01,2020-01-01,25 48,17,2018-11-01,2018-12-01,25
49,17,2018-12-01,2019-05-01,50 50,17,2019-05-01,2019-06-01,25 51,17,2019-06-01,2019-09-01,40
52,17,2019-09-01,2019-10-01,35 53,17,2019-10-01,2019-11-01,65 54,17,2019-11-01,2019-12-01,100
55,17,2019-12-01,2020-01-01,95 56,18,2018-11-01,2018-12-01,90 57,18,2018-12-01,2019-12-01,50
58,19,2019-05-01,2019-06-01,25 59,19,2019-06-01,2020-01-01,50 60,20,2019-01-01,2019-02-01,25
61,20,2019-02-01,2019-12-01,50 62,21,2018-11-01,2018-12-01,25 63,21,2018-12-01,2019-12-01,50
64,22,2018-12-01,2019-01-01,25 65,22,2019-01-01,2019-08-01,35 66,23,2019-03-01,2019-04-01,35
67,23,2019-04-01,2020-01-01,50 68,24,2019-05-01,2019-06-01,25 69,24,2019-06-01,2020-01-01,60
70,25,2019-08-01,2019-09-01,30 71,25,2019-09-01,2019-10-01,35 72,25,2019-10-01,2020-01-01,45
73,26,2019-05-01,2019-06-01,55 74,26,2019-06-01,2019-08-01,50 75,27,2019-07-01,2019-08-01,130
76,27,2019-08-01,2020-01-01,125 77,28,2019-07-01,2019-08-01,50 78,28,2019-08-01,2019-12-01,25
79,29,2019-06-01,2019-07-01,50 80,29,2019-07-01,2019-12-01,35 81,30,2019-04-01,2019-05-01,55
82,30,2019-05-01,2019-12-01,45 83,31,2019-11-01,2019-12-01,50 84,31,2019-12-01,2020-01-01,25
85,32,2019-05-01,2019-06-01,50 86,32,2019-06-01,2020-01-01,25 87,33,2019-10-01,2019-11-01,50
88,33,2019-11-01,2019-12-01,25 89,34,2019-08-01,2019-09-01,50 90,34,2019-09-01,2020-01-01,25
91,35,2019-10-01,2019-11-01,50 92,35,2019-11-01,2019-12-01,25 93,36,2019-09-01,2019-10-01,50
94,36,2019-10-01,2020-01-01,25 95,37,2019-09-01,2019-10-01,25 96,37,2019-10-01,2020-01-01,25
97,38,2019-09-01,2019-10-01,30 98,38,2019-10-01,2019-12-01,30 99,39,2019-11-01,2019-12-01,35
100,40,2019-09-01,2019-10-01,35 101,40,2019-10-01,2020-01-01,50 102,41,2019-11-01,2019-12-01,25
103,41,2019-12-01,2020-01-01,50 104,42,2019-09-01,2019-10-01,25 105,42,2019-10-01,2019-12-01,50
106,43,2019-11-01,2019-12-01,25 107,44,2019-10-01,2019-11-01,50 108,44,2019-11-01,2020-01-01,25
109,45,2019-10-01,2019-11-01,45 110,45,2019-11-01,2020-01-01,35 111,46,2019-12-01,2020-01-01,50
112,47,2019-10-01,2019-11-01,25 113,47,2019-11-01,2019-12-01,50 114,48,2019-11-01,2019-12-01,25
115,49,2019-11-01,2019-12-01,50 116,50,2019-12-01,2020-01-01,25 117,51,2020-01-01,2020-02-01,50
118,52,2019-12-01,2020-01-01,25 119,53,2020-01-01,2020-02-01,50 120,54,2020-01-01,2020-02-01,25
121,55,2020-01-01,2020-02-01,50
"""


def playbook_periods() -> pd.DataFrame:
    rows = [line.split(",") for line in PLAYBOOK_SUBSCRIPTIONS.split()]
    columns = ["subscription_id", "customer_id", "start_date", "end_date", "monthly_amount"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(
        start_date=pd.to_datetime(frame["start_date"]), end_date=pd.to_datetime(frame["end_date"]),
        monthly_amount=frame["monthly_amount"].astype(float),
    )


def playbook_classification(periods: pd.DataFrame) -> dict[tuple[str, str], tuple[float, str]]:
    """(customer, YYYY-MM) -> (mrr, category) by the rules of the playbook's README, one
    customer and one month at a time: months from the first subscription month up to (not
    including) the month of the last end date, on a spine starting 2018-01-01, plus one zero row
    after the last active month; first rule that matches wins."""
    spine_start = pd.Period("2018-01", "M")
    rename = {"upgrade": "expansion", "downgrade": "contraction", None: "unchanged"}
    result = {}
    for customer, group in periods.groupby("customer_id"):
        first = max(group["start_date"].min().to_period("M"), spine_start)
        end = group["end_date"].max().to_period("M")
        months = []
        month = first
        while month < end:
            day = month.to_timestamp()
            active = group[(group["start_date"] <= day) & (group["end_date"] > day)]
            assert len(active) <= 1, "the playbook assumes one subscription at a time"
            months.append((month, float(active["monthly_amount"].sum())))
            month += 1
        paid = [m for m, amount in months if amount > 0]
        if not paid:
            continue  # the spine starts after this customer's last month: no rows at all
        months.append((max(paid) + 1, 0.0))
        previous = 0.0
        for month, amount in months:
            if month == min(paid):
                category = "new"
            elif amount == 0 and previous > 0:
                category = "churn"
            elif amount > 0 and previous == 0:
                category = "reactivation"
            elif amount > previous:
                category = "upgrade"
            elif amount < previous:
                category = "downgrade"
            else:
                category = None
            result[(customer, str(month))] = (amount, rename.get(category, category))
            previous = amount
    return result


def test_playbook_conformance():
    periods = playbook_periods()
    subscriptions = periods.rename(columns={"customer_id": "account_id", "monthly_amount": "mrr"})
    as_of = "2020-12-31"  # every subscription has ended (the last end date is 2020-02-01)
    assert (subscriptions["end_date"] <= pd.Timestamp(as_of)).all()
    mv = fl.mrr_movements(fl.monthly_revenue(subscriptions, as_of=as_of), as_of=as_of)
    ours = {
        (a, f"{m:%Y-%m}"): (mrr, c)
        for a, m, mrr, c in zip(mv["account_id"], mv["month"], mv["mrr"], mv["category"].astype(str))
    }
    expected = playbook_classification(periods)
    assert len(expected) > 400  # 52 customers, about 8 rows each
    # customers 2, 3 and 4 lie entirely before the playbook's 2018-01-01 month spine: the
    # playbook drops them; every other customer-month must agree on MRR and category
    assert {a for a, _ in ours} - {a for a, _ in expected} == {"2", "3", "4"}
    assert {k: v for k, v in ours.items() if k[0] not in {"2", "3", "4"}} == expected
    # the dropped customers get their rows here: 2 pays Sep-Oct 2017 and churns in November
    assert [(m, c) for (a, m), (_, c) in sorted(ours.items()) if a == "2"] == [
        ("2017-09", "new"), ("2017-10", "unchanged"), ("2017-11", "churn")]


# ------------------------------------------------------------------------------------------
# arr_bridge, revenue_churn, quick_ratio, plot_arr_bridge
# ------------------------------------------------------------------------------------------
def test_monthly_bridge_by_hand():
    bridge = fl.arr_bridge(fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15"))
    assert len(bridge) == 9  # January to September
    row = bridge.set_index("period").loc
    # January: a new 100, e new 100 -> 200
    assert row["2024-01-01"].tolist() == [0.0, 200.0, 0.0, 0.0, 0.0, 0.0, 200.0]
    # February: a +50 expansion, e -100 churn -> 150
    assert row["2024-02-01"].tolist() == [200.0, 0.0, 50.0, 0.0, 0.0, -100.0, 150.0]
    # March: b new 80, e reactivation 130 -> 360
    assert row["2024-03-01"].tolist() == [150.0, 80.0, 0.0, 130.0, 0.0, 0.0, 360.0]
    # April: a -30 contraction, b -80 churn, e -130 churn -> 120
    assert row["2024-04-01"].tolist() == [360.0, 0.0, 0.0, 0.0, -30.0, -210.0, 120.0]
    # July: a reactivates at 200; August: a churns -200, d new 40; September: c new 50 -> 90
    assert row["2024-07-01"].tolist() == [0.0, 0.0, 0.0, 200.0, 0.0, 0.0, 200.0]
    assert row["2024-08-01"].tolist() == [200.0, 40.0, 0.0, 0.0, 0.0, -200.0, 40.0]
    assert row["2024-09-01"].tolist() == [40.0, 50.0, 0.0, 0.0, 0.0, 0.0, 90.0]


def test_quarterly_and_yearly_bridges_sum_the_months():
    mv = fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15")
    quarters = fl.arr_bridge(mv, freq="Q")
    # Q1: new 200 + 80, expansion 50, reactivation 130, churn -100 -> 360
    assert quarters.iloc[0].tolist()[1:] == [0.0, 280.0, 50.0, 130.0, 0.0, -100.0, 360.0]
    assert quarters["period"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-04", "2024-07"]
    assert quarters.attrs["freq"] == "Q"
    year = fl.arr_bridge(mv, freq="Y")
    # 2024: new 200 + 80 + 40 + 50 = 370, expansion 50, reactivation 330, contraction -30,
    # churn -100 - 210 - 120 (May) - 200 = -630 -> closing 90
    assert year.iloc[0].tolist()[1:] == [0.0, 370.0, 50.0, 330.0, -30.0, -630.0, 90.0]


def test_bridge_opening_is_the_mrr_before_the_first_month():
    mv = fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15")
    later = fl.arr_bridge(mv[mv["month"] >= "2024-03-01"])
    assert later["opening_mrr"].iloc[0] == 150.0  # February's closing MRR
    assert later["closing_mrr"].iloc[-1] == 90.0


def test_bridge_rejects_bad_freq_and_categories():
    mv = fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15")
    with pytest.raises(FeedbackLibError, match="freq='W'"):
        fl.arr_bridge(mv, freq="W")
    with pytest.raises(FeedbackLibError, match="unknown value"):
        fl.arr_bridge(mv.assign(category=mv["category"].astype(str).str.replace("churn", "lost")))
    with pytest.raises(FeedbackLibError, match="unchanged"):
        fl.arr_bridge(mv.assign(category="unchanged"))


def hand_bridge() -> pd.DataFrame:
    return pd.DataFrame({
        "period": pd.to_datetime(["2024-01-01", "2024-02-01"]), "opening_mrr": [0.0, 1000.0],
        "new": [1000.0, 100.0], "expansion": [0.0, 60.0], "reactivation": [0.0, 20.0],
        "contraction": [0.0, -30.0], "churn": [0.0, -50.0], "closing_mrr": [1000.0, 1100.0],
    })


def test_revenue_churn_by_hand():
    rates = fl.revenue_churn(hand_bridge())
    # January: opening 0 -> undefined. February: gross (30 + 50) / 1000 = 0.08,
    # net (80 - 60 - 20) / 1000 = 0 (ChartMogul nets reactivation)
    assert np.isnan(rates["gross_churn_rate"].iloc[0])
    assert rates["gross_churn_rate"].iloc[1] == pytest.approx(0.08)
    assert rates["net_churn_rate"].iloc[1] == pytest.approx(0.0)
    # Baremetrics: (80 - 60) / 1000 = 0.02
    baremetrics = fl.revenue_churn(hand_bridge(), net_of_reactivation=False)
    assert baremetrics["net_churn_rate"].iloc[1] == pytest.approx(0.02)


def test_quick_ratio_by_hand():
    # February: (100 + 60) / (30 + 50) = 2; with reactivation (160 + 20) / 80 = 2.25
    assert fl.quick_ratio(hand_bridge())["quick_ratio"].tolist()[1] == pytest.approx(2.0)
    with_reactivation = fl.quick_ratio(hand_bridge(), include_reactivation=True)
    assert with_reactivation["quick_ratio"].tolist()[1] == pytest.approx(2.25)
    assert np.isnan(fl.quick_ratio(hand_bridge())["quick_ratio"].iloc[0])  # nothing lost: undefined


def test_plot_arr_bridge_labels_money_for_a_board():
    bridge = fl.arr_bridge(fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15"), freq="Q")
    fig, ax = plt.subplots()
    assert fl.plot_arr_bridge(bridge.tail(1), ax=ax, annualise=True, currency="$") is ax
    # Q3: opening 0 (a churned in May), new 40 + 50, reactivation 200, churn -200 -> closing 90;
    # x 12 for ARR: 0, +1,080, 0, +2,400, 0, -2,400, 1,080
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["$0", "+$1.08k", "$0", "+$2.4k", "$0", "\u2212$2.4k", "$1.08k"]
    assert ax.get_title() == "ARR bridge, 2024 Q3"
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "Closing\nARR"
    plt.close(fig)
    ax = fl.plot_arr_bridge(fl.arr_bridge(fl.mrr_movements(revenue_frame(HAND_REVENUE), as_of="2024-09-15")))
    assert ax.get_title() == "MRR bridge, Jan 2024 to Sep 2024"
    plt.close("all")


# ------------------------------------------------------------------------------------------
# Properties on random subscription histories
# ------------------------------------------------------------------------------------------
DAY0 = pd.Timestamp("2023-01-01")
SUBSCRIPTION = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),  # account
    st.integers(0, 600),  # start, days after DAY0
    st.one_of(st.none(), st.integers(1, 400)),  # length in days, None = running
    st.integers(0, 100_000),  # mrr in cents
)


def random_subscriptions(rows) -> pd.DataFrame:
    return subs(*[
        (a, DAY0 + pd.Timedelta(days=s), None if d is None else DAY0 + pd.Timedelta(days=s + d), cents / 100)
        for a, s, d, cents in rows
    ])


def brute_force_revenue(frame: pd.DataFrame, as_of: pd.Timestamp) -> dict[tuple[str, str], float]:
    """The month-end rule applied literally, account by account and month by month."""
    result = {}
    for account, group in frame.groupby("account_id"):
        values = {}
        month = group["start_date"].min().to_period("M")
        while month <= as_of.to_period("M"):
            day = min(month.to_timestamp(how="end").normalize(), as_of)
            active = (group["start_date"] <= day) & (group["end_date"].isna() | (group["end_date"] > day))
            values[month] = round(group.loc[active, "mrr"].sum(), 2)
            month += 1
        paid = [m for m, v in values.items() if v > 0]
        for m in values:
            if paid and min(paid) <= m <= max(paid):
                result[(account, str(m))] = values[m]
    return result


@settings(max_examples=60, deadline=None)
@given(st.lists(SUBSCRIPTION, min_size=1, max_size=10), st.integers(0, 800), st.integers(0, 2**32 - 1))
def test_random_histories(rows, as_of_days, seed):
    frame = random_subscriptions(rows)
    as_of = DAY0 + pd.Timedelta(days=as_of_days)
    revenue = fl.monthly_revenue(frame, as_of=as_of)
    # the engine matches the literal month-end rule
    got = {(a, f"{m:%Y-%m}"): v for a, m, v in zip(revenue["account_id"], revenue["month"], revenue["mrr"])}
    assert got == pytest.approx(brute_force_revenue(frame, as_of))
    # shuffled rows give identical frames
    shuffled = frame.sample(frac=1, random_state=np.random.default_rng(seed))
    pd.testing.assert_frame_equal(fl.monthly_revenue(shuffled, as_of=as_of), revenue)
    movements = fl.mrr_movements(revenue, as_of=as_of)
    shuffled_revenue = revenue.sample(frac=1, random_state=np.random.default_rng(seed))
    pd.testing.assert_frame_equal(fl.mrr_movements(shuffled_revenue, as_of=as_of), movements)
    # per account, the movements add up to the MRR in its last row
    per_account = movements.groupby("account_id")
    assert np.allclose(per_account["mrr_change"].sum(), per_account["mrr"].last())
    in_as_of_month = revenue.loc[revenue["month"] == as_of.to_period("M").to_timestamp(), "mrr"]
    for freq in ("M", "Q", "Y"):
        bridge = fl.arr_bridge(movements, freq=freq)
        if len(bridge) == 0:
            assert len(revenue) == 0
            continue
        total = (bridge["opening_mrr"] + bridge["new"] + bridge["expansion"] + bridge["reactivation"]
                 + bridge["contraction"] + bridge["churn"])
        assert (total == bridge["closing_mrr"]).all()  # exactly, in floats
        assert (bridge["opening_mrr"].iloc[1:].to_numpy() == bridge["closing_mrr"].iloc[:-1].to_numpy()).all()
        assert bridge["opening_mrr"].iloc[0] == 0.0
        assert (bridge[["new", "expansion", "reactivation"]] >= 0).all().all()
        assert (bridge[["contraction", "churn"]] <= 0).all().all()
        assert round(bridge["closing_mrr"].iloc[-1], 2) == round(in_as_of_month.sum(), 2)
