"""Signup cohorts: logo and revenue retention of each cohort by period since its first payment.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from feedback_lib._util.dates import month_index, month_start, months_per_period, parse_as_of
from feedback_lib._util.money import UNITS
from feedback_lib.engines import revenue as engine_revenue
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.revenue._frame import _canonical_revenue, _empty

__all__ = ["cohort_retention"]




def cohort_retention(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    freq: str = "M",
    count_reactivated: bool = True,
) -> pd.DataFrame:
    """Logo and revenue retention of signup cohorts (a cohort triangle), in tidy form.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        Last day included; the last column of the triangle is the period of ``as_of``.
    freq
        ``"M"`` (default), ``"Q"`` or ``"Y"``: cohort and period length.
    count_reactivated
        ``True`` (default, ChartMogul cohorts): an account paying at the snapshot counts as
        retained even if it lapsed before. ``False`` (Stripe cohort retention): it counts only
        while it has paid every month since its first paid month.

    Returns
    -------
    DataFrame
        ``cohort, period_index, accounts, retained, mrr, starting_mrr, share, mrr_retention``:
        one row per cohort and period from 0 up to the period of ``as_of``. ``cohort`` is the
        first day of the period of the account's first paid month; ``accounts`` and
        ``starting_mrr`` are the cohort's size and its MRR in each account's first paid month
        (new MRR); ``retained`` and ``mrr`` are the cohort accounts paying, and their MRR, at
        the snapshot of the period; ``share = retained / accounts``, ``mrr_retention = mrr /
        starting_mrr`` (net MRR retention of the cohort). ``attrs["freq"]`` holds ``freq``.

    Notes
    -----
    The snapshot of a period is its last month (month-end MRR), or the month of ``as_of`` for
    the current period; so with ``freq="Q"`` an account that joined and left within its first
    quarter is not retained in period 0. Cohorts are by first paid month (Stripe; ChartMogul),
    not by the account's signup date. ChartMogul help centre, "Cohort analysis" (net MRR
    retention = cohort MRR / cohort value at start).

    The readable specification is ``tests/reference/revenue.py::cohort_retention``; the two are
    tested equal with hypothesis (``tests/test_reference_implementations.py``).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b", "b", "c"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01", "2024-02-01",
    ...                              "2024-02-01"]),
    ...     "mrr": [100.0, 150.0, 100.0, 0.0, 60.0]})
    >>> cohort_retention(revenue, as_of="2024-02-29")[["cohort", "period_index", "share", "mrr_retention"]]
          cohort  period_index  share  mrr_retention
    0 2024-01-01             0    1.0           1.00
    1 2024-01-01             1    0.5           0.75
    2 2024-02-01             0    1.0           1.00
    """
    if is_ibis_table(revenue):  # run in the engine that holds the table
        return engine_revenue.cohort_retention(revenue, as_of=as_of, freq=freq, count_reactivated=count_reactivated)
    step = months_per_period(freq)
    end_month = month_index(parse_as_of(as_of))
    rv = _canonical_revenue(revenue, last_month=end_month)
    columns = ["cohort", "period_index", "accounts", "retained", "mrr", "starting_mrr", "share",
               "mrr_retention"]
    paid = rv.units > 0
    if not paid.any():
        return _empty(columns)
    first_rows = np.flatnonzero(rv.first)
    if paid[first_rows].all():  # monthly_revenue's rows start at the first paid month
        first_paid, payers = first_rows, np.arange(len(first_rows))
    else:
        paid_rows = np.flatnonzero(paid)
        first_paid = paid_rows[np.r_[True, np.diff(rv.account[paid_rows]) != 0]]
        payers = rv.account[first_paid]  # accounts that ever paid, ascending
    cohort_of = rv.month[first_paid] // step
    low, last_period = int(cohort_of.min()), end_month // step
    width = last_period - low + 1
    accounts = np.bincount(cohort_of - low, minlength=width)
    starting = np.bincount(cohort_of - low, weights=rv.units[first_paid], minlength=width)
    # snapshot rows: paid in the last month of their period (or in the month of as_of)
    snapshot = paid if step == 1 else paid & (((rv.month + 1) % step == 0) | (rv.month == end_month))
    if not count_reactivated:
        first_row = np.full(len(first_rows), -1)
        first_row[payers] = first_paid
        through = np.cumsum(paid)
        first_of_row = first_row[rv.account]
        months_paid = through - through[first_of_row] + 1
        snapshot = snapshot & (months_paid == rv.month - rv.month[first_of_row] + 1)
    # every row gets its (cohort, period) cell, no row selection; an account that never paid has
    # no cohort and no snapshot row
    cohort_by_account = np.zeros(len(first_rows), dtype=np.int64)
    cohort_by_account[payers] = cohort_of - low
    row_cohort = np.repeat(cohort_by_account, np.diff(np.r_[first_rows, len(rv.month)]))
    row_period = rv.month - low * step if step == 1 else rv.month // step - low
    cell = row_cohort * (width - 1)
    cell += row_period  # = cohort * width + (period - cohort)
    del row_cohort, row_period
    dump = width * width
    cell[~snapshot] = dump  # rows that are not a snapshot fall into a last bin, dropped below
    retained = np.bincount(cell, minlength=dump + 1)[:dump]
    mrr = np.bincount(cell, weights=rv.units, minlength=dump + 1)[:dump]
    cohorts = np.flatnonzero(accounts)
    periods = last_period - low - cohorts + 1
    grid_cohort = np.repeat(cohorts, periods)
    grid_period = np.arange(periods.sum()) - np.repeat(np.cumsum(periods) - periods, periods)
    grid = grid_cohort * width + grid_period
    frame = pd.DataFrame(
        {
            "cohort": month_start((grid_cohort + low) * step),
            "period_index": grid_period.astype(np.int64),
            "accounts": accounts[grid_cohort].astype(np.int64),
            "retained": retained[grid].astype(np.int64),
            "mrr": mrr[grid] / UNITS,
            "starting_mrr": starting[grid_cohort] / UNITS,
        }
    )
    frame["share"] = frame["retained"] / frame["accounts"]
    frame["mrr_retention"] = frame["mrr"] / frame["starting_mrr"]
    frame.attrs["freq"] = freq  # read by plot_cohort_heatmap for its labels
    return frame
