"""Account lifetimes: paid months from the first payment to the first churn (censored at ``as_of``),
landmark lifetimes for accounts paying at a date, and churn outcomes of accounts over a window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_lib._util.arrow import lookup
from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import month_index, month_start, parse_as_of
from feedback_lib._util.money import to_units
from feedback_lib.engines import revenue as engine_revenue
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.errors import ParameterError
from feedback_lib.revenue._frame import _canonical_revenue
from feedback_lib.revenue.mrr import counted_months

__all__ = ["account_lifetimes", "landmark_lifetimes"]


def account_lifetimes(revenue: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """First paid lifetime of every account, in months.

    Parameters
    ----------
    revenue
        Account-months as returned by :func:`feedback_lib.monthly_revenue`: ``account_id, month,
        mrr`` (0 in gap months). Rows after the month of ``as_of`` are ignored, so a revenue
        table computed to a later date gives the lifetimes as they stood at ``as_of``.
    as_of
        Last day observed (inclusive).

    Returns
    -------
    DataFrame
        One row per account with a paid month up to ``as_of``: ``account_id, start_month``
        (first paid month), ``duration_months`` (paid months from ``start_month`` up to the first
        month without revenue, or up to the month of ``as_of`` if it never churned),
        ``churned`` (bool; False = censored at ``as_of``) and ``churn_month`` (first month
        without revenue; NaT when censored). Reactivations do not extend the first lifetime.

    Notes
    -----
    Vectorised over the rows in (account, month) order (already sorted input, as
    :func:`feedback_lib.monthly_revenue` returns, is only checked): the rows are cut into runs of
    paid, consecutive months, and the first lifetime is the run that starts at the account's first
    paid month. Discrete time: ``duration_months = d`` with ``churned`` means the account paid
    ``d`` months and had no revenue in month ``start_month + d``.

    Examples
    --------
    >>> rev = pd.DataFrame({
    ...     "account_id": ["a"] * 5 + ["b"] * 2,
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
    ...                              "2024-05-01", "2024-04-01", "2024-05-01"]),
    ...     "mrr": [10.0, 10.0, 0.0, 10.0, 10.0, 5.0, 5.0]})
    >>> account_lifetimes(rev, as_of="2024-05-31")[["account_id", "duration_months", "churned"]]
      account_id  duration_months  churned
    0          a                2     True
    1          b                2    False
    """
    if is_ibis_table(revenue):  # run in the engine that holds the table
        return engine_revenue.account_lifetimes(revenue, as_of=as_of)
    as_of = parse_as_of(as_of, where="account_lifetimes")
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue", where="account_lifetimes")
    asof_m = month_index(as_of)
    rv = _canonical_revenue(revenue, last_month=asof_m, money=False)
    return _first_lifetimes(rv, asof_m)


def _lifetime_frame(labels, first: np.ndarray, duration: np.ndarray, asof_m: int) -> pd.DataFrame:
    """The frame :func:`account_lifetimes` returns, from each account's first month and duration."""
    churn_m = first + duration  # first month without revenue after the first lifetime
    churned = churn_m <= asof_m
    return pd.DataFrame(
        {
            "account_id": labels,
            "start_month": month_start(first),
            "duration_months": duration,
            "churned": churned,
            "churn_month": np.where(churned, month_start(churn_m), np.datetime64("NaT", "ns")),
        }
    )


def _first_lifetimes(rv, asof_m: int, rows: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`account_lifetimes` of the canonical revenue rows ``rows`` (in order; all rows when
    None): per account, the run of paid months that starts at its first paid row."""
    account, month, paid = rv.account, rv.month, rv.units  # units: bool, the row is paid
    if rows is None:
        opens_account = rv.first
    else:
        account, month, paid = account[rows], month[rows], paid[rows]
        opens_account = np.r_[True, account[1:] != account[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    # a run of paid months goes on while the account, payment and consecutive months go on; each
    # row where it does not (a new account, an unpaid row or the paid row after it, a skipped
    # month) is a break, which ends the run before it
    runs_on = np.zeros(len(month), dtype=bool)
    runs_on[1:] = ~opens_account[1:] & paid[1:] & paid[:-1] & (month[1:] == month[:-1] + 1)
    breaks = np.flatnonzero(~runs_on)
    paid_runs = np.flatnonzero(paid[breaks])  # the breaks that open a run of paid months
    run_account = account[breaks[paid_runs]]
    first = paid_runs[np.r_[True, run_account[1:] != run_account[:-1]]] if len(paid_runs) else paid_runs
    start = breaks[first]
    duration = np.r_[breaks, len(month)][first + 1] - start  # to the next break
    return _lifetime_frame(rv.labels.take(account[start]), month[start], duration.astype(np.int64), asof_m)


def landmark_lifetimes(
    revenue: pd.DataFrame, *, landmark, as_of, groups: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Lifetimes counted from a landmark month, for survival by a state measured at that month.

    Grouping :func:`account_lifetimes` by something measured later (an account's *latest* NPS,
    say) is biased: an account must survive long enough to answer, so the groups differ in who
    could be counted (immortal-time bias). The landmark method fixes the time origin instead:
    take the accounts paying in the landmark month, classify them by their state at the
    landmark, and follow each from there.

    Parameters
    ----------
    revenue
        Account-months as returned by :func:`feedback_lib.monthly_revenue`.
    landmark
        Date whose month is the time origin; only accounts with MRR > 0 in that month count.
    as_of
        Last day observed; lifetimes still running then are censored.
    groups
        Optional frame with ``account_id`` and group columns measured at the landmark (for
        example ``account_covariates(dataset, as_of=landmark)[["account_id", "nps_category"]]``),
        merged on; accounts without a row get missing group values.

    Returns
    -------
    DataFrame
        As :func:`account_lifetimes` (``duration_months`` = paid months from the landmark month
        on, up to the first churn or the month of ``as_of``), plus the group columns.

    Notes
    -----
    Anderson, Cain & Gelber (1983), Analysis of survival by tumor response, *J. Clinical Oncology*
    1(11); Dafni (2011), Landmark analysis at the 25-year landmark point, *Circulation:
    Cardiovascular Quality and Outcomes* 4(3).

    Examples
    --------
    >>> rev = pd.DataFrame({
    ...     "account_id": ["a"] * 4 + ["b"] * 2 + ["c"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
    ...                              "2024-02-01", "2024-03-01", "2024-04-01"]),
    ...     "mrr": [10.0, 10.0, 10.0, 10.0, 5.0, 5.0, 7.0]})
    >>> groups = pd.DataFrame({"account_id": ["a", "b"], "nps": ["promoter", "detractor"]})
    >>> landmark_lifetimes(rev, landmark="2024-02-15", as_of="2024-04-30", groups=groups)[
    ...     ["account_id", "duration_months", "churned", "nps"]]
      account_id  duration_months  churned        nps
    0          a                3    False   promoter
    1          b                2     True  detractor
    """
    landmark = parse_as_of(landmark, name="landmark", where="landmark_lifetimes")
    as_of = parse_as_of(as_of, where="landmark_lifetimes")
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue", where="landmark_lifetimes")
    origin = month_index(landmark)
    if origin > month_index(as_of):
        raise ParameterError(f"landmark_lifetimes: landmark {landmark} is after as_of {as_of}")
    asof_m = month_index(as_of)
    rv = _canonical_revenue(revenue, last_month=asof_m, money=False)
    paid = rv.units  # bool: the row is paid
    paying = np.zeros(len(rv.labels), dtype=bool)
    paying[rv.account[paid & (rv.month == origin)]] = True
    lifetimes = _first_lifetimes(rv, asof_m, rows=np.flatnonzero(paid & (rv.month >= origin) & paying[rv.account]))
    if groups is None:
        return lifetimes
    require_columns(groups, ("account_id",), table="groups", where="landmark_lifetimes")
    return lifetimes.merge(groups, on="account_id", how="left", validate="one_to_one")


# ---------------------------------------------------------------- helpers
def _outcomes(dataset, account_ids: pd.Series, *, start_m: int, end_m: int, as_of) -> tuple[np.ndarray, np.ndarray]:
    """Months to the first month without revenue after ``start_m`` (event) or to ``end_m`` (censored).

    Paid months follow :func:`feedback_lib.monthly_revenue`'s month-end rule, computed from the
    subscriptions directly: a subscription with MRR > 0 pays in the months
    :func:`feedback_lib.revenue.mrr.counted_months` gives it. Per account, the covered months are
    swept in start order; the run after ``start_m`` ends at the first month no subscription covers.
    """
    subs = dataset.subscriptions
    start = subs["start_date"].to_numpy(dtype="datetime64[ns]")
    end = subs["end_date"].to_numpy(dtype="datetime64[ns]")
    units = to_units(subs["mrr"], "subscriptions: column 'mrr'", nonnegative=True)
    counts, first, last = counted_months(start, end, as_of=pd.Timestamp(as_of))
    code = lookup(subs["account_id"], account_ids)
    keep = (code >= 0) & counts & (units > 0) & (last > start_m)
    code, first, last = code[keep], np.maximum(first[keep], start_m + 1), np.minimum(last[keep], end_m)
    order = np.lexsort((first, code))
    code, first, last = code[order], first[order], last[order]
    # covered up to (within the account, intervals so far): a running max offset by the account
    span = end_m + 2
    reach = np.maximum.accumulate(code * span + last) - code * span
    new_account = np.r_[True, code[1:] != code[:-1]]
    reach_before = np.where(new_account, start_m, np.r_[start_m, reach[:-1]])
    gap = first > reach_before + 1  # this interval starts after a month nobody covered
    # per account: the reach just before its first gap (or at its last interval)
    covered = np.full(len(account_ids), start_m)
    first_gap = np.where(gap, np.arange(len(code)), len(code))
    acc_start = np.flatnonzero(new_account)
    gap_at = np.minimum.reduceat(first_gap, acc_start) if len(acc_start) else np.zeros(0, dtype=np.int64)
    acc_end = np.r_[acc_start[1:], len(code)]
    upto = np.minimum(gap_at, acc_end) - 1  # last interval of the run
    covered[code[acc_start]] = np.where(upto >= acc_start, reach[np.maximum(upto, 0)], start_m)
    run = np.minimum(covered, end_m) - start_m  # consecutive paid months after the landmark
    window = end_m - start_m
    event = run < window
    duration = np.where(event, run + 1, window)
    return duration.astype(float), event.astype(int)
