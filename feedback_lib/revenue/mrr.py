"""The one MRR rule and the monthly revenue table built on it.

The rule, written once: an account pays on day ``d`` the sum of ``mrr`` over its subscriptions with
``start_date <= d < end_date`` (an empty ``end_date`` is still running). :func:`active_on` is that
test and the only copy of it. ``monthly_revenue`` applies it on each month's last day (on
``as_of`` in the month of ``as_of``) through :func:`counted_months`; :func:`mrr_on` and
:func:`current_mrr` apply it on any day, for the programme, churn and callback modules, which
import these helpers rather than compare dates themselves.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from feedback_lib._util.arrow import lookup, text_array
from feedback_lib._util.checks import require_columns, row_list
from feedback_lib._util.dates import month_index, month_of_dates, parse_as_of
from feedback_lib._util.money import UNITS, to_units
from feedback_lib.engines import revenue as engine_revenue
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.errors import SchemaError
from feedback_lib.revenue._frame import _datetimes, _sorted_codes

__all__ = ["monthly_revenue"]


def active_on(start: np.ndarray, end: np.ndarray, day) -> np.ndarray:
    """Whether each subscription is active on ``day``: ``start_date <= day < end_date``, an empty
    (NaT) ``end_date`` still running. The one active-on-a-day test of the library.

    ``start`` and ``end`` are ``datetime64[ns]`` arrays; ``day`` is one date (``datetime64``,
    ``Timestamp``) or an array of one date per subscription.

    Examples
    --------
    >>> start = np.array(["2024-01-01", "2024-01-01"], dtype="datetime64[ns]")
    >>> end = np.array(["NaT", "2024-03-01"], dtype="datetime64[ns]")
    >>> active_on(start, end, np.datetime64("2024-03-01")).tolist()
    [True, False]
    """
    return (start <= day) & (np.isnat(end) | (day < end))


def counted_months(start: np.ndarray, end: np.ndarray, *, as_of: pd.Timestamp) -> tuple[np.ndarray, ...]:
    """The months in which each subscription counts in :func:`monthly_revenue`.

    A subscription counts in month m when it is :func:`active_on` m's last day, or on ``as_of``
    in the month of ``as_of``; nothing after ``as_of`` counts. The months it counts in run from
    its start month to the month of ``as_of`` (when it is still active on ``as_of``) or else to
    the month before the one it ends in. Dates are compared by day: on ``as_of`` the test is made
    at the last moment of that day.

    Returns
    -------
    tuple of arrays
        ``counts`` (bool: the subscription counts in at least one month), ``first`` and ``last``
        (int64 month numbers as in :func:`feedback_lib._util.dates.month_index`; meaningful
        where ``counts``).

    Examples
    --------
    >>> start = np.array(["2024-01-10", "2024-02-03", "2024-04-01"], dtype="datetime64[ns]")
    >>> end = np.array(["2024-03-01", "2024-02-20", "NaT"], dtype="datetime64[ns]")
    >>> counts, first, last = counted_months(start, end, as_of=pd.Timestamp("2024-04-15"))
    >>> counts.tolist(), (first - 648).tolist(), (last - 648).tolist()  # 648 = 2024-01
    ([True, False, True], [0, 1, 3], [1, 0, 3])
    """
    next_day = np.datetime64(as_of + pd.Timedelta(days=1))
    first = month_of_dates(start)
    on_as_of = active_on(start, end, next_day - np.timedelta64(1, "ns"))
    last = np.where(on_as_of, month_index(as_of), month_of_dates(end) - 1)
    counts = (start < next_day) & (last >= first)
    return counts, first, last


def mrr_on(subscriptions: pd.DataFrame, account_id, date) -> np.ndarray:
    """MRR of each (account, date) pair: the sum of ``mrr`` over the account's subscriptions with
    ``start_date <= date < end_date`` (``end_date`` NaT = running), as in ``fl.monthly_revenue``.

    Examples
    --------
    >>> subs = pd.DataFrame({"account_id": ["a", "a"], "mrr": [10.0, 5.0],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime([None, "2024-04-01"])})
    >>> mrr_on(subs, ["a", "a", "b"], pd.to_datetime(["2024-02-01", "2024-03-15", "2024-03-15"]))
    array([10., 15.,  0.])
    """
    when = pd.to_datetime(np.asarray(date)).to_numpy(dtype="datetime64[ns]")
    n = len(when)
    if n == 0 or len(subscriptions) == 0:
        return np.zeros(n)
    ids = text_array(account_id if isinstance(account_id, pd.Series) else np.asarray(account_id, dtype=object))
    distinct = pc.unique(ids).drop_null()
    point = lookup(ids, distinct)
    sub = lookup(subscriptions["account_id"], distinct)
    # the subscriptions of each point's account: a range of the subscriptions sorted by account
    rows = np.flatnonzero(sub >= 0)
    rows = rows[np.argsort(sub[rows], kind="stable")]
    lo = np.searchsorted(sub[rows], point, side="left")
    count = np.searchsorted(sub[rows], point, side="right") - lo
    count[point < 0] = 0
    pair_point = np.repeat(np.arange(n), count)
    pair_sub = rows[np.arange(count.sum()) - np.repeat(np.cumsum(count) - count - lo, count)]
    start = subscriptions["start_date"].to_numpy(dtype="datetime64[ns]")[pair_sub]
    end = subscriptions["end_date"].to_numpy(dtype="datetime64[ns]")[pair_sub]
    active = active_on(start, end, when[pair_point])
    mrr = subscriptions["mrr"].to_numpy(dtype=float, na_value=np.nan)[pair_sub]
    return np.bincount(pair_point[active], weights=mrr[active], minlength=n)


def current_mrr(revenue_or_subscriptions: pd.DataFrame, *, as_of, func: str) -> pd.Series:
    """MRR per paying account on ``as_of`` (a Series indexed by account_id, only MRR > 0).

    Accepts either the subscriptions table (MRR on the ``as_of`` date) or the output of
    ``fl.monthly_revenue`` (the row of the month of ``as_of``, which is the MRR on ``as_of``).
    """
    frame = revenue_or_subscriptions
    as_of = parse_as_of(as_of)
    if "subscription_id" in frame.columns or "start_date" in frame.columns:
        require_columns(frame, ["account_id", "start_date", "end_date", "mrr"], table="subscriptions", where=func)
        active = active_on(frame["start_date"].to_numpy(dtype="datetime64[ns]"),
                           frame["end_date"].to_numpy(dtype="datetime64[ns]"), as_of.to_datetime64())
        rows = frame.loc[active]
    else:
        require_columns(frame, ["account_id", "month", "mrr"], table="revenue", where=func)
        rows = frame.loc[frame["month"] == as_of.to_period("M").start_time]
    mrr = rows.groupby("account_id", observed=True, sort=True)["mrr"].sum()
    mrr = mrr[mrr > 0].astype(float)
    mrr.index.name = "account_id"
    mrr.name = "mrr"
    return mrr


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------
def monthly_revenue(subscriptions: pd.DataFrame, *, as_of: str | date) -> pd.DataFrame:
    """Month-end MRR per account and calendar month, up to the month of ``as_of``.

    Parameters
    ----------
    subscriptions
        Columns ``account_id``, ``start_date`` (inclusive), ``end_date`` (exclusive; empty =
        still running) and ``mrr`` (>= 0, already monthly). Other columns are ignored.
    as_of
        Last day included (anything ``pandas.Timestamp`` reads).

    Returns
    -------
    DataFrame
        ``account_id, month, mrr``: one row per account and month from its first to its last paid
        month (``mrr > 0``), gap months with ``mrr`` 0, sorted by ``account_id`` and ``month``
        (first day of the month, ``datetime64[ns]``). ``account_id`` keeps the input dtype.

    Notes
    -----
    Month-end snapshot rule: a subscription counts in month m when ``start_date <= last day of m``
    and (``end_date`` is empty or ``end_date > last day of m``); in the month of ``as_of`` the
    ``as_of`` date replaces the last day, and nothing after ``as_of`` is counted. So a
    subscription ending on the 1st is counted in the month before; one ending mid-month is not
    counted in that month; a price change mid-month shows the new price for that month; a
    subscription that starts and ends within one month never shows. Concurrent subscriptions
    add up. MRR is rounded to micro-units (1e-6) and summed exactly in integers (so an MRR total
    must stay below 9.2e12 currency units; one subscription below 1e12).

    Per subscription the first and last counted months come from :func:`counted_months`; MRR steps
    (+mrr at the first month, -mrr after the last) are added into one array per account-month
    and cumulated, which fills gap months with 0 without a loop over accounts.

    The readable specification is ``tests/reference/revenue.py::monthly_revenue``; the two are
    tested equal with hypothesis (``tests/test_reference_implementations.py``).

    Examples
    --------
    >>> subs = pd.DataFrame({
    ...     "account_id": ["a", "a"], "start_date": pd.to_datetime(["2024-01-10", "2024-02-01"]),
    ...     "end_date": pd.to_datetime(["2024-03-01", None]), "mrr": [100.0, 50.0]})
    >>> monthly_revenue(subs, as_of="2024-04-15")
      account_id      month    mrr
    0          a 2024-01-01  100.0
    1          a 2024-02-01  150.0
    2          a 2024-03-01   50.0
    3          a 2024-04-01   50.0
    """
    if is_ibis_table(subscriptions):  # run in the engine that holds the table
        return engine_revenue.monthly_revenue(subscriptions, as_of=as_of)
    require_columns(subscriptions, ("account_id", "start_date", "end_date", "mrr"), table="subscriptions")
    as_of_ts = parse_as_of(as_of)
    start = _datetimes(subscriptions["start_date"], "subscriptions: column 'start_date'")
    end = _datetimes(subscriptions["end_date"], "subscriptions: column 'end_date'")
    if np.isnat(start).any():
        bad = np.isnat(start)
        raise SchemaError(
            f"subscriptions: column 'start_date' has {bad.sum()} empty value(s) (rows {row_list(bad)}); "
            "every subscription needs a start date"
        )
    units = to_units(subscriptions["mrr"], "subscriptions: column 'mrr'", nonnegative=True)
    counts, first, last = counted_months(start, end, as_of=as_of_ts)
    keep = np.flatnonzero(counts & (units > 0))
    ids = subscriptions["account_id"].iloc[keep]
    codes, first_seen = _sorted_codes(ids, "subscriptions")
    labels = ids.array.take(first_seen)
    first, last, units = first[keep], last[keep], units[keep]
    n_accounts = len(labels)
    acc_first = np.full(n_accounts, np.iinfo(np.int64).max)
    acc_last = np.full(n_accounts, np.iinfo(np.int64).min)
    np.minimum.at(acc_first, codes, first)
    np.maximum.at(acc_last, codes, last)
    length = acc_last - acc_first + 1
    # one slot per account-month; a subscription's closing step lands after its last month,
    # which for an account's last month is the next account's first slot: there it cancels what
    # the cumulated sum carries over, so the running sum restarts at 0 for every account
    row_start = np.cumsum(length) - length
    steps = np.zeros(int(length.sum()) + 1, dtype=np.int64)
    base = row_start[codes] - acc_first[codes]
    np.add.at(steps, base + first, units)
    np.add.at(steps, base + last + 1, -units)
    mrr = np.cumsum(steps)[:-1]
    # months since the earliest month: +1 within an account, a jump to the next account's first
    low = int(acc_first.min()) if n_accounts else 0
    relative = np.ones(len(mrr), dtype=np.int64)
    if n_accounts:
        relative[row_start] = np.r_[acc_first[0] - low, acc_first[1:] - acc_last[:-1]]
    np.cumsum(relative, out=relative)
    table = np.arange(low, int(acc_last.max()) + 1 if n_accounts else low).astype("datetime64[M]").astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "account_id": labels.take(np.repeat(np.arange(n_accounts), length)),
            "month": table[relative],
            "mrr": mrr / UNITS,
        },
        copy=False,
    )
