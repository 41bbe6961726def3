"""Tests of feedback_lib.revenue.retention: NRR, GRR, logo retention and churn, trends and cohorts."""

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

# Cohort of June 2023, measured in June 2024:
#   a 100 -> 150 (add-on from March 2024: expansion)
#   b 200 -> 100 (re-signed cheaper in February 2024: contraction)
#   c 100 -> 0   (ended January 2024: churn)
#   d  50 -> 60  (lapsed October-December 2023, back in January 2024: reactivated)
#   e joins in August 2023: not in the cohort
COMPANY = subs(
    ("a", "2023-01-01", None, 100), ("a", "2024-03-01", None, 50),
    ("b", "2023-05-01", "2024-02-01", 200), ("b", "2024-02-01", None, 100),
    ("c", "2023-01-01", "2024-01-01", 100),
    ("d", "2023-06-01", "2023-10-01", 50), ("d", "2024-01-01", None, 60),
    ("e", "2023-08-01", None, 500),
)
REVENUE = fl.monthly_revenue(COMPANY, as_of="2024-06-30")


def test_nrr_grr_and_logo_retention_by_hand():
    summary = fl.retention_summary(REVENUE, as_of="2024-06-30")
    # starting MRR 100 + 200 + 100 + 50 = 450
    # NRR = (150 + 100 + 0 + 60) / 450 = 310 / 450
    # GRR = (min(150, 100) + min(100, 200) + 0 + min(60, 50)) / 450 = 250 / 450
    # logo retention = a, b, d of 4 = 0.75
    assert summary.n == 4 and summary.retained_accounts == 3
    assert summary.starting_mrr == 450.0 and summary.current_mrr == 310.0 and summary.retained_mrr == 250.0
    assert summary.nrr == pytest.approx(310 / 450)
    assert summary.grr == pytest.approx(250 / 450)
    assert summary.logo_retention == 0.75
    assert summary.start_month == pd.Timestamp("2023-06-01")
    assert summary.end_month == pd.Timestamp("2024-06-01")
    assert fl.net_revenue_retention(REVENUE, as_of="2024-06-30") == pytest.approx(310 / 450)
    assert fl.gross_revenue_retention(REVENUE, as_of="2024-06-30") == pytest.approx(250 / 450)
    assert fl.logo_retention(REVENUE, as_of="2024-06-30") == 0.75
    frame = summary.to_frame()
    assert len(frame) == 1 and frame.loc[0, "n"] == 4


def test_accounts_that_lapsed_can_count_as_lost():
    # d lapsed in between: NRR (150 + 100) / 450, GRR (100 + 100) / 450, logo 2 of 4
    summary = fl.retention_summary(REVENUE, as_of="2024-06-30", count_reactivated=False)
    assert summary.nrr == pytest.approx(250 / 450)
    assert summary.grr == pytest.approx(200 / 450)
    assert summary.logo_retention == 0.5
    nrr = fl.net_revenue_retention(REVENUE, as_of="2024-06-30", count_reactivated=False)
    assert nrr == pytest.approx(250 / 450)


def test_shorter_window():
    # from February 2024: a 100, b 100, d 60, e 500 = 760; June: a 150, b 100, d 60, e 500 = 810
    summary = fl.retention_summary(REVENUE, as_of="2024-06-30", window_months=4)
    assert summary.n == 4
    assert summary.nrr == pytest.approx(810 / 760)
    assert summary.grr == pytest.approx(1.0)  # nobody paid less than in February


def test_the_as_of_date_decides_the_as_of_month():
    company = subs(("x", "2023-01-01", "2024-06-20", 100), ("y", "2023-01-01", None, 100))
    # as of June 15 x is still active (ends June 20): (100 + 100) / 200
    revenue = fl.monthly_revenue(company, as_of="2024-06-15")
    assert fl.net_revenue_retention(revenue, as_of="2024-06-15") == 1.0
    # as of June 30 it is not: 100 / 200
    revenue = fl.monthly_revenue(company, as_of="2024-06-30")
    assert fl.net_revenue_retention(revenue, as_of="2024-06-30") == 0.5


def test_no_starting_revenue_is_an_error():
    with pytest.raises(FeedbackLibError, match="no account paid in 2022-06"):
        fl.net_revenue_retention(REVENUE, as_of="2023-06-30")
    with pytest.raises(FeedbackLibError, match="window_months"):
        fl.gross_revenue_retention(REVENUE, as_of="2024-06-30", window_months=0)


def test_logo_churn_rate_monthly_and_annualised():
    # ten accounts pay in May, nine in June: monthly churn 0.1, annual 1 - 0.9^12
    ten = [(f"x{i}", m, 10) for i in range(10) for m in ("2024-05", "2024-06")
           if not (i == 0 and m == "2024-06")]
    revenue = revenue_frame(ten)
    assert fl.logo_churn_rate(revenue, as_of="2024-06-30") == pytest.approx(0.1)
    assert fl.logo_churn_rate(revenue, as_of="2024-06-30", annualise=True) == pytest.approx(1 - 0.9**12)
    # over three months 7 of 8 stay: monthly 1 - (7/8)^(1/3), annual 1 - (7/8)^4
    eight = [(f"y{i}", m, 10) for i in range(8) for m in ("2024-03", "2024-04", "2024-05", "2024-06")
             if not (i == 0 and m > "2024-03")]
    revenue = revenue_frame(eight)
    monthly = fl.logo_churn_rate(revenue, as_of="2024-06-30", window_months=3)
    assert monthly == pytest.approx(1 - (7 / 8) ** (1 / 3))
    assert fl.logo_churn_rate(revenue, as_of="2024-06-30", window_months=3, annualise=True) == pytest.approx(
        1 - (7 / 8) ** 4)


def test_trend_rows_equal_the_summary_of_their_month():
    trend = fl.retention_trend(REVENUE, as_of="2024-06-30")
    # data start January 2023: first point January 2024, last June 2024
    assert trend["month"].dt.strftime("%Y-%m").tolist() == [f"2024-0{m}" for m in range(1, 7)]
    for _, row in trend.iterrows():
        summary = fl.retention_summary(REVENUE, as_of=row["month"] + pd.offsets.MonthEnd(0))
        assert row["n"] == summary.n
        assert row["nrr"] == pytest.approx(summary.nrr)
        assert row["grr"] == pytest.approx(summary.grr)
        assert row["logo_retention"] == pytest.approx(summary.logo_retention)
    assert trend["nrr"].iloc[-1] == pytest.approx(310 / 450)


def test_quarterly_trend_uses_quarter_ends_and_respects_count_reactivated():
    trend = fl.retention_trend(REVENUE, as_of="2024-06-30", freq="Q", count_reactivated=False)
    assert trend["month"].dt.strftime("%Y-%m").tolist() == ["2024-03", "2024-06"]
    assert trend["nrr"].iloc[-1] == pytest.approx(250 / 450)
    # as of mid-May the last complete quarter end is March
    may = fl.retention_trend(REVENUE, as_of="2024-05-15", freq="Q")
    assert may["month"].iloc[-1] == pd.Timestamp("2024-03-01")
    # a window longer than the data: no points, but the columns are there
    empty = fl.retention_trend(REVENUE, as_of="2024-06-30", window_months=24)
    assert len(empty) == 0 and "n" in empty.columns


COHORT_REVENUE = revenue_frame([
    ("a", "2024-01", 100), ("a", "2024-02", 150), ("a", "2024-03", 0), ("a", "2024-04", 120),
    ("b", "2024-01", 100), ("c", "2024-02", 60), ("c", "2024-03", 60), ("c", "2024-04", 60),
])


def test_monthly_cohorts_by_hand():
    cohorts = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30")
    jan = cohorts[cohorts["cohort"] == "2024-01-01"]
    # January cohort a + b, starting MRR 200: Feb a 150; Mar nobody; Apr a back at 120
    assert jan["period_index"].tolist() == [0, 1, 2, 3]
    assert jan["accounts"].tolist() == [2, 2, 2, 2]
    assert jan["retained"].tolist() == [2, 1, 0, 1]
    assert jan["mrr"].tolist() == [200.0, 150.0, 0.0, 120.0]
    assert jan["share"].tolist() == [1.0, 0.5, 0.0, 0.5]
    assert jan["mrr_retention"].tolist() == [1.0, 0.75, 0.0, 0.6]
    feb = cohorts[cohorts["cohort"] == "2024-02-01"]
    assert feb["retained"].tolist() == [1, 1, 1] and feb["mrr"].tolist() == [60.0, 60.0, 60.0]
    assert len(cohorts) == 7
    # Stripe's "not yet churned": a does not come back into the January cohort
    strict = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30", count_reactivated=False)
    assert strict.loc[strict["cohort"] == "2024-01-01", "retained"].tolist() == [2, 1, 0, 0]


def test_quarterly_cohorts_by_hand():
    cohorts = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30", freq="Q")
    # one Q1 cohort of 3 accounts, starting MRR 100 + 100 + 60 = 260;
    # Q1 snapshot (March): only c pays 60; Q2 snapshot (April, the as_of month): a 120 + c 60
    assert cohorts["accounts"].tolist() == [3, 3]
    assert cohorts["retained"].tolist() == [1, 2]
    assert cohorts["mrr"].tolist() == [60.0, 180.0]
    assert cohorts["mrr_retention"].tolist() == pytest.approx([60 / 260, 180 / 260])
    strict = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30", freq="Q", count_reactivated=False)
    assert strict["retained"].tolist() == [1, 1] and strict["mrr"].tolist() == [60.0, 60.0]


def test_plot_cohort_heatmap_labels():
    cohorts = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30", freq="Q")
    fig, ax = plt.subplots()
    assert fl.plot_cohort_heatmap(cohorts, ax=ax) is ax
    assert [t.get_text() for t in ax.texts] == ["33%", "67%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024 Q1 (n=3)"]
    assert ax.get_xlabel() == "Quarters since first payment"
    monthly = fl.cohort_retention(COHORT_REVENUE, as_of="2024-04-30")
    ax = fl.plot_cohort_heatmap(monthly, value="mrr_retention")
    assert ax.get_title() == "Net MRR retention by cohort"
    assert [t.get_text() for t in ax.texts][:4] == ["100%", "75%", "0%", "60%"]
    plt.close("all")


# ------------------------------------------------------------------------------------------
# Properties on random subscription histories
# ------------------------------------------------------------------------------------------
DAY0 = pd.Timestamp("2023-01-01")
SUBSCRIPTION = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.integers(0, 600),
    st.one_of(st.none(), st.integers(1, 400)),
    st.integers(0, 100_000),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(SUBSCRIPTION, min_size=1, max_size=12), st.integers(0, 800), st.sampled_from([1, 3, 12]),
       st.integers(0, 2**32 - 1))
def test_retention_ratios_stay_in_range(rows, as_of_days, window, seed):
    frame = subs(*[
        (a, DAY0 + pd.Timedelta(days=s), None if d is None else DAY0 + pd.Timedelta(days=s + d), cents / 100)
        for a, s, d, cents in rows
    ])
    as_of = DAY0 + pd.Timedelta(days=as_of_days)
    revenue = fl.monthly_revenue(frame, as_of=as_of)
    trend = fl.retention_trend(revenue, as_of=as_of, window_months=window)
    shuffled = revenue.sample(frac=1, random_state=np.random.default_rng(seed))
    pd.testing.assert_frame_equal(fl.retention_trend(shuffled, as_of=as_of, window_months=window), trend)
    cohorts = fl.cohort_retention(revenue, as_of=as_of)
    pd.testing.assert_frame_equal(fl.cohort_retention(shuffled, as_of=as_of), cohorts)
    assert cohorts["share"].between(0, 1).all()
    assert (cohorts.loc[cohorts["period_index"] == 0, "share"] == 1).all()
    try:
        loose = fl.retention_summary(revenue, as_of=as_of, window_months=window)
    except FeedbackLibError:
        assert len(trend) == 0 or trend["n"].iloc[-1] == 0
        return
    strict = fl.retention_summary(revenue, as_of=as_of, window_months=window, count_reactivated=False)
    assert loose.nrr >= 0
    assert 0 <= loose.grr <= 1 and loose.grr <= loose.nrr + 1e-12
    assert 0 <= loose.logo_retention <= 1
    assert strict.nrr <= loose.nrr + 1e-12 and strict.logo_retention <= loose.logo_retention
    assert trend["n"].iloc[-1] == loose.n
    assert trend["nrr"].iloc[-1] == pytest.approx(loose.nrr)
    assert trend["grr"].iloc[-1] == pytest.approx(loose.grr)


def _cohorts_by_loops(revenue: pd.DataFrame, as_of, step: int, count_reactivated: bool) -> dict:
    """Reference cohort triangle, one account at a time: {(cohort, period): (retained, mrr)}."""
    end = (pd.Timestamp(as_of).year - 1970) * 12 + pd.Timestamp(as_of).month - 1
    cells: dict = {}
    for _, rows in revenue.groupby("account_id"):
        months = ((rows["month"].dt.year - 1970) * 12 + rows["month"].dt.month - 1).tolist()
        paid = {m: v for m, v in zip(months, rows["mrr"]) if v > 0 and m <= end}
        if not paid:
            continue
        first = min(paid)
        cohort = first // step
        cells.setdefault((cohort, -1), [0, 0.0])
        cells[(cohort, -1)][0] += 1
        cells[(cohort, -1)][1] += paid[first]
        for m, v in paid.items():
            if not ((m + 1) % step == 0 or m == end):
                continue
            if not count_reactivated and any(k not in paid for k in range(first, m + 1)):
                continue
            cell = cells.setdefault((cohort, m // step - cohort), [0, 0.0])
            cell[0] += 1
            cell[1] += v
    return cells


@settings(max_examples=60, deadline=None)
@given(st.lists(SUBSCRIPTION, min_size=1, max_size=12), st.integers(0, 800), st.sampled_from(["M", "Q", "Y"]),
       st.booleans())
def test_cohort_triangle_matches_a_loop_over_accounts(rows, as_of_days, freq, count_reactivated):
    frame = subs(*[
        (a, DAY0 + pd.Timedelta(days=s), None if d is None else DAY0 + pd.Timedelta(days=s + d), cents / 100)
        for a, s, d, cents in rows
    ])
    as_of = DAY0 + pd.Timedelta(days=as_of_days)
    revenue = fl.monthly_revenue(frame, as_of=as_of)
    got = fl.cohort_retention(revenue, as_of=as_of, freq=freq, count_reactivated=count_reactivated)
    want = _cohorts_by_loops(revenue, as_of, {"M": 1, "Q": 3, "Y": 12}[freq], count_reactivated)
    step = {"M": 1, "Q": 3, "Y": 12}[freq]
    for row in got.itertuples():
        cohort = ((row.cohort.year - 1970) * 12 + row.cohort.month - 1) // step
        accounts, starting = want[(cohort, -1)]
        retained, mrr = want.get((cohort, row.period_index), (0, 0.0))
        assert (row.accounts, row.retained) == (accounts, retained)
        assert row.starting_mrr == pytest.approx(starting) and row.mrr == pytest.approx(mrr)
    assert got["cohort"].nunique() == sum(1 for key in want if key[1] == -1)


def test_churn_rates_are_defined_once_and_convert_both_ways():
    for annual in (0.0, 0.05, 0.15, 0.2, 0.5, 1.0):
        assert fl.annual_churn_rate(fl.monthly_churn_rate(annual)) == pytest.approx(annual, abs=1e-12)
    # SaaS Capital: 80% annual retention is about 1.85% a month
    assert fl.monthly_churn_rate(0.2) == pytest.approx(0.018423, abs=1e-6)
    with pytest.raises(fl.ParameterError):
        fl.annual_churn_rate(1.5)


def test_observed_churn_is_the_annual_logo_churn_rate_with_an_interval():
    demo = fl.generate_demo(seed=3, n_accounts=300, start="2023-10-01", end="2026-09-30")
    revenue = fl.monthly_revenue(demo.subscriptions, as_of="2026-09-30")
    observed = fl.observed_churn(revenue, as_of="2026-09-30", window_months=12)
    logo = fl.logo_churn_rate(revenue, as_of="2026-09-30", window_months=12, annualise=True)
    assert observed.share == pytest.approx(logo, abs=1e-12)
    assert observed.share == pytest.approx(1 - fl.logo_retention(revenue, as_of="2026-09-30"), abs=1e-12)
    assert observed.ci_low < observed.share < observed.ci_high
