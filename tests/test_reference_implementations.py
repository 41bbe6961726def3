"""The optimised functions equal their readable specifications in ``tests/reference/``.

Hypothesis draws small random companies (gaps, reactivations, subscriptions that start and end
in one month or end on a month's first or last day, ``as_of`` mid-month or on a month end, periods
without responses, zero weights, subscribers missing from the accounts table) and each fast
function must return the reference's frame: same rows, dtypes and exact integers and dates,
money to the cent and other floats to 1e-9 (sums run in a different order).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feedback_lib as fl
from feedback_lib.churn.features import account_covariates
from feedback_lib.errors import SmallSampleWarning
from feedback_lib.io.dataset import Dataset

from .conftest import make_table
from .reference import churn as ref_churn
from .reference import revenue as ref_revenue
from .reference import survey as ref_survey

DAY0 = pd.Timestamp("2024-01-01")
ACCOUNTS = ["a", "b", "B", "c", "ä"]  # "B" sorts before "a", "ä" after "c" (code point order)
FAST = settings(max_examples=60, deadline=None)


def assert_same(got: pd.DataFrame, want: pd.DataFrame, *, money: tuple[str, ...] = ()) -> None:
    """Equal frames: money columns to the cent, other floats to 1e-9, everything else exactly."""
    assert list(got.columns) == list(want.columns)
    check_dtype = len(want) > 0  # an empty frame's float column may come back as int64
    rest = [c for c in want.columns if c not in money]
    pd.testing.assert_frame_equal(got[rest], want[rest], check_exact=False, rtol=1e-9, atol=1e-9,
                                  check_dtype=check_dtype)
    for column in money:
        pd.testing.assert_series_equal(got[column], want[column], check_exact=False, rtol=0, atol=0.005,
                                       check_dtype=check_dtype)
    for column in want.columns:  # integers and dates exactly (check_exact=False is approximate for all)
        if want[column].dtype.kind in "iMb":
            assert got[column].tolist() == want[column].tolist(), column


# ------------------------------------------------------------------------------------------
# Strategies
# ------------------------------------------------------------------------------------------
def days(low: int, high: int) -> st.SearchStrategy[pd.Timestamp]:
    """A day ``low`` to ``high`` days after DAY0, often the first or last day of a month."""
    any_day = st.integers(low, high).map(lambda d: DAY0 + pd.Timedelta(days=d))
    month_edge = st.tuples(any_day, st.booleans()).map(
        lambda t: t[0].replace(day=1) if t[1] else t[0] + pd.offsets.MonthEnd(0))
    return st.one_of(any_day, month_edge)


@st.composite
def end_dates(draw, start: pd.Timestamp):
    """An end date after ``start``: none (running), some days later, in the same month, on a
    month's last day or on a month's first day."""
    kind = draw(st.sampled_from(["running", "days", "same month", "month end", "month first"]))
    if kind == "running":
        return None
    if kind == "days":
        return start + pd.Timedelta(days=draw(st.integers(1, 400)))
    if kind == "same month":
        left = (start + pd.offsets.MonthEnd(0) - start).days
        return start + pd.Timedelta(days=draw(st.integers(1, max(left, 1))))
    if kind == "month end":
        return start + pd.offsets.MonthEnd(draw(st.integers(1, 14)))
    return start + pd.offsets.MonthBegin(draw(st.integers(1, 14)))


@st.composite
def subscriptions(draw, max_size: int = 10) -> pd.DataFrame:
    """Subscriptions of a few accounts; some accounts come back after a gap (reactivations)."""
    rows: list[dict] = []
    size = draw(st.integers(0, max_size))
    while len(rows) < size:
        account, start = draw(st.sampled_from(ACCOUNTS)), draw(days(0, 700))
        while start is not None:
            end = draw(end_dates(start))
            cents = draw(st.one_of(st.integers(1, 900_000), st.sampled_from([0, 9_900, 25_000])))  # 0 and ties too
            rows.append(dict(subscription_id=f"s{len(rows)}", account_id=account, start_date=start, end_date=end,
                             plan=draw(st.sampled_from(["Pro", "Team", None])), mrr=cents / 100))
            comes_back = end is not None and draw(st.integers(0, 2)) > 0
            start = end + pd.Timedelta(days=draw(st.integers(0, 200))) if comes_back else None
    return make_table("subscriptions", rows)


@st.composite
def revenue_tables(draw) -> pd.DataFrame:
    """Account-months as a caller may pass them: leading and trailing unpaid months, months
    left out, rows in any order."""
    rows = []
    for account in draw(st.sets(st.sampled_from(ACCOUNTS), max_size=4)):
        months = draw(st.sets(st.integers(0, 30), min_size=1, max_size=12))
        for m in months:
            cents = draw(st.one_of(st.just(0), st.integers(1, 500_000)))
            rows.append((account, DAY0 + pd.DateOffset(months=m), cents / 100))
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    return pd.DataFrame({"account_id": pd.Series([r[0] for r in rows], dtype="string[pyarrow]"),
                         "month": pd.Series([r[1] for r in rows], dtype="datetime64[ns]"),
                         "mrr": pd.Series([r[2] for r in rows], dtype="float64")})


# ------------------------------------------------------------------------------------------
# Revenue
# ------------------------------------------------------------------------------------------
@FAST
@given(subscriptions(), days(-40, 800), st.booleans())
def test_monthly_revenue_equals_its_reference(subs, as_of, object_ids):
    if object_ids:  # a hand-built frame with Python string ids
        subs = subs.astype({"account_id": object})
    got = fl.monthly_revenue(subs, as_of=as_of)
    assert_same(got, ref_revenue.monthly_revenue(subs, as_of=as_of), money=("mrr",))


@FAST
@given(st.one_of(subscriptions().map(lambda s: fl.monthly_revenue(s, as_of="2026-03-31")), revenue_tables()),
       days(0, 900), st.sampled_from(["M", "Q", "Y"]), st.booleans())
def test_cohort_retention_equals_its_reference(revenue, as_of, freq, count_reactivated):
    got = fl.cohort_retention(revenue, as_of=as_of, freq=freq, count_reactivated=count_reactivated)
    want = ref_revenue.cohort_retention(revenue, as_of=as_of, freq=freq, count_reactivated=count_reactivated)
    assert_same(got, want, money=("mrr", "starting_mrr"))
    if len(want):
        assert got.attrs == want.attrs


# ------------------------------------------------------------------------------------------
# NPS by period
# ------------------------------------------------------------------------------------------
SPAN_DAYS = {"W": 40, "M": 120, "Q": 400, "Y": 1100}  # responses close enough for neighbouring periods


@st.composite
def responses(draw, freq: str) -> pd.DataFrame:
    rows = []
    for i in range(draw(st.integers(0, 40))):
        rows.append(dict(response_id=f"r{i}", account_id="a", respondent="c",
                         responded_at=DAY0 + pd.Timedelta(days=draw(st.integers(0, SPAN_DAYS[freq]))),
                         score=draw(st.integers(0, 10)), channel=draw(st.sampled_from(["email", "in-app", None]))))
    frame = make_table("responses", rows)
    frame["segment"] = pd.Series([draw(st.sampled_from(["SMB", "Enterprise", None])) for _ in rows],
                                 dtype="string[pyarrow]")
    frame["mrr"] = [draw(st.sampled_from([0.0, 0.0, 0.5, 1.0, 99.99, 1200.0])) for _ in rows]  # zero weights too
    return frame


@FAST
@given(st.sampled_from(["W", "M", "Q", "Y"]).flatmap(lambda f: st.tuples(st.just(f), responses(f))),
       st.sampled_from([None, "segment", ["segment", "channel"]]), st.sampled_from([None, "mrr"]),
       st.sampled_from(["wald", "adjusted-wald"]), st.sampled_from([0.8, 0.95]), st.integers(1, 8))
def test_nps_table_equals_its_reference(freq_and_responses, by, weight, method, confidence, min_n):
    freq, frame = freq_and_responses
    options = dict(freq=freq, by=by, weight=weight, method=method, confidence=confidence, min_n=min_n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        # a cell whose weights are all 0 has NPS NaN; survey/score.py warns while dividing
        warnings.filterwarnings("ignore", "invalid value encountered in divide", RuntimeWarning)
        got = fl.nps_table(frame, **options)
    want = ref_survey.nps_table(frame, **options)
    assert_same(got, want)
    assert got.attrs == want.attrs


# ------------------------------------------------------------------------------------------
# Churn covariates
# ------------------------------------------------------------------------------------------
@st.composite
def companies(draw) -> tuple[Dataset, pd.Timestamp]:
    """A small company and a snapshot date. Events fall on the edges of their windows (a ticket
    opened 90 days before, usage 28 days before, two responses on one day) more often than
    chance would put them there; some subscriptions are copies under another plan (MRR ties)."""
    subs = draw(subscriptions(max_size=8))
    if len(subs) and draw(st.booleans()):  # an equally large subscription of another plan, later in the table
        twin = subs.iloc[[draw(st.integers(0, len(subs) - 1))]].assign(subscription_id="twin", plan="Enterprise")
        subs = pd.concat([subs, twin], ignore_index=True)
    as_of = draw(days(0, 760))
    if len(subs) and draw(st.booleans()):  # soon after a start, when somebody is likely paying
        as_of = subs["start_date"].iloc[draw(st.integers(0, len(subs) - 1))] + pd.Timedelta(days=draw(st.integers(0, 40)))
    # the accounts table lists some accounts (never none: see the xfail test below)
    listed = draw(st.sets(st.sampled_from(ACCOUNTS), min_size=1, max_size=len(ACCOUNTS)))

    def before(*days_before: int) -> pd.Timestamp:
        """``as_of`` minus one of ``days_before`` days (the edges of a window and a day on either side)."""
        return as_of - pd.Timedelta(days=draw(st.sampled_from(days_before)))

    subscribers = sorted(set(subs["account_id"]))
    account = st.one_of(st.sampled_from(ACCOUNTS), st.sampled_from(subscribers)) if subscribers else st.sampled_from(ACCOUNTS)

    def some(make, max_size: int) -> list[dict]:
        return [make(i, draw(account)) for i in range(draw(st.integers(0, max_size)))]

    ids = draw(st.permutations([f"r{i:02d}" for i in range(12)]))  # response ids in any order
    responses = some(lambda i, a: dict(response_id=ids[i], account_id=a, respondent="c",
                                       responded_at=before(-1, 0, 3, 3, 40), score=draw(st.integers(0, 10))), 12)
    tickets = some(lambda i, a: dict(ticket_id=f"t{i}", account_id=a, opened_at=before(-1, 0, 45, 89, 90, 91),
                                     severity=draw(st.sampled_from(["low", "medium", "high", "critical"]))), 10)
    usage = some(lambda i, a: dict(account_id=a, week=before(-1, 0, 27, 28, 29, 55, 56),
                                   active_users=draw(st.integers(0, 20)), seats=draw(st.integers(0, 20))), 12)
    conversations = some(lambda i, a: dict(conversation_id=f"v{i}", account_id=a, executive="CEO",
                                           held_on=before(-1, 0, 30, 400)), 4)
    dataset = Dataset(
        accounts=make_table("accounts", [dict(account_id=a, segment=draw(st.sampled_from(["SMB", "Enterprise"])),
                                              signup_date="2023-01-01") for a in sorted(listed)]),
        subscriptions=subs, responses=make_table("responses", responses), tickets=make_table("tickets", tickets),
        usage=make_table("usage", usage), conversations=make_table("conversations", conversations))
    return dataset, as_of


@FAST
@given(companies(), st.sampled_from([(250.0, 1000.0, 5000.0), (100.0, 2500.0)]))
def test_account_covariates_equal_their_reference(company, edges):
    dataset, as_of = company
    got = account_covariates(dataset, as_of=as_of, mrr_band_edges=edges)
    want = ref_churn.account_covariates(dataset, as_of=as_of, mrr_band_edges=edges)
    assert_same(got, want, money=("mrr",))


def test_account_covariates_of_a_company_without_accounts():
    """No account and no subscription, but an event row: an empty snapshot (this raised IndexError
    from an empty slot table), with ``mrr`` still a float column."""
    conversations = make_table("conversations", [dict(conversation_id="v0", account_id="a", executive="CEO",
                                                      held_on="2024-01-01")])
    cov = account_covariates(Dataset(conversations=conversations), as_of="2024-01-01")
    assert len(cov) == 0
    assert cov["mrr"].dtype == "float64"


def test_the_references_agree_with_hand_computed_values(tiny):
    """The references themselves, on the tiny company (values as in tests/test_churn_features.py)."""
    revenue = ref_revenue.monthly_revenue(tiny.subscriptions, as_of="2024-06-30")
    a1 = revenue.loc[revenue["account_id"] == "A1", "mrr"].tolist()
    assert a1 == [1200.0] * 4 + [1500.0] * 2  # S1 from January, the add-on S4 from May
    cov = ref_churn.account_covariates(tiny, as_of="2024-06-30").set_index("account_id")
    assert cov.loc["A1", "plan"] == "Pro" and cov.loc["A1", "mrr"] == pytest.approx(1500.0)
    assert cov.loc["A2", "tenure_months"] == 4 and cov.loc["A2", "nps_category"] == "detractor"
