"""Revenue and logo retention: NRR, GRR, logo churn, retention trends and signup cohorts.

All functions take the account-month revenue of :func:`feedback_lib.monthly_revenue`
(``account_id, month, mrr``) and work on month-end snapshots: an account "pays" in a month when
its MRR there is above 0. ``docs/metrics.md`` states every convention, its default and how the
leading tools differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._revenue_frame import (
    _UNITS,
    _account_codes,
    _as_of_timestamp,
    _canonical_revenue,
    _month_number,
    _month_numbers,
    _months_to_datetime,
    _require_columns,
    _units,
)
from .arr import _FREQ_MONTHS, _period_label
from .errors import FeedbackLibError, ParameterError

if TYPE_CHECKING:
    from datetime import date

    from matplotlib.axes import Axes

__all__ = [
    "RetentionSummary",
    "retention_summary",
    "net_revenue_retention",
    "gross_revenue_retention",
    "logo_retention",
    "logo_churn_rate",
    "retention_trend",
    "cohort_retention",
    "plot_cohort_heatmap",
]


@dataclass(frozen=True)
class RetentionSummary:
    """Retention of the accounts that paid ``window_months`` before the month of ``as_of``.

    Attributes
    ----------
    as_of, window_months, count_reactivated
        The arguments.
    start_month, end_month
        First day of the cohort's starting month and of the month of ``as_of``.
    n
        Accounts in the starting cohort (MRR > 0 in ``start_month``).
    retained_accounts
        Of those, accounts paying in ``end_month``.
    starting_mrr, current_mrr, retained_mrr
        Cohort MRR in ``start_month``; in ``end_month``; in ``end_month`` capped per account at
        its starting MRR.
    nrr, grr, logo_retention
        ``current_mrr / starting_mrr``, ``retained_mrr / starting_mrr``,
        ``retained_accounts / n`` (ratios, 1.0 = 100%).
    """

    as_of: pd.Timestamp
    window_months: int
    count_reactivated: bool
    start_month: pd.Timestamp
    end_month: pd.Timestamp
    n: int
    retained_accounts: int
    starting_mrr: float
    current_mrr: float
    retained_mrr: float
    nrr: float
    grr: float
    logo_retention: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([asdict(self)])


def _check_window(window_months: int) -> int:
    whole = isinstance(window_months, (int, np.integer)) and not isinstance(window_months, bool)
    if not whole or window_months < 1:
        raise ParameterError(f"window_months must be a whole number of months >= 1, got {window_months!r}")
    return int(window_months)


def retention_summary(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 12,
    count_reactivated: bool = True,
) -> RetentionSummary:
    """NRR, GRR and logo retention of one starting cohort, with its size.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The cohort is measured in the month of ``as_of``.
    window_months
        The starting cohort is the accounts paying (MRR > 0) ``window_months`` months before the
        month of ``as_of`` (12 = year-over-year, the SaaS Capital convention).
    count_reactivated
        ``True`` (default; SaaS Capital, ChartMogul): a cohort account counts with its current MRR
        whatever happened in between, so an account that lapsed and came back counts.
        ``False`` (Baremetrics-like): an account that missed a paid month in the window counts
        as lost (MRR 0).

    Returns
    -------
    RetentionSummary

    Raises
    ------
    FeedbackLibError
        When no account paid in the starting month (the ratios are undefined).

    Notes
    -----
    NRR = sum over cohort accounts of MRR(end) / sum of MRR(start); GRR caps each account at its
    starting MRR: sum of min(MRR(end), MRR(start)) / sum of MRR(start), so 0 <= GRR <= 1 and
    GRR <= NRR. Logo retention = cohort accounts paying at the end / cohort size. Accounts that
    joined after the starting month are not in the cohort. SaaS Capital, "No Churn..." white
    paper (2015): "MRR this month from the customers you had one year ago divided by their MRR
    one year ago".

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b", "b", "c"],
    ...     "month": pd.to_datetime(["2023-06-01", "2024-06-01", "2023-06-01", "2024-06-01",
    ...                              "2024-06-01"]),
    ...     "mrr": [100.0, 150.0, 100.0, 0.0, 70.0]})
    >>> s = retention_summary(revenue, as_of="2024-06-30")
    >>> s.n, s.nrr, s.grr, s.logo_retention  # (150 + 0) / 200, (100 + 0) / 200, 1 / 2
    (2, 0.75, 0.5, 0.5)
    """
    window_months = _check_window(window_months)
    as_of_ts = _as_of_timestamp(as_of)
    end_month = _month_number(as_of_ts)
    start_month = end_month - window_months
    _require_columns(revenue, ("account_id", "month", "mrr"), "revenue")
    month = _month_numbers(revenue["month"], "revenue: column 'month'")
    parts = [np.flatnonzero(month == start_month), np.flatnonzero(month == end_month)]
    if not count_reactivated:  # also every row inside the window, to find lapses
        parts.append(np.flatnonzero((month > start_month) & (month <= end_month)))
    rows = np.concatenate(parts)
    units = _units(revenue["mrr"].iloc[rows], "revenue: column 'mrr'", nonnegative=True)
    codes, uniques = _account_codes(revenue["account_id"].iloc[rows], "revenue")
    n_ids = len(uniques)
    split = np.cumsum([len(p) for p in parts])[:-1]
    code_parts, unit_parts = np.split(codes, split), np.split(units, split)
    for part, label in zip(code_parts[:2], (start_month, end_month)):
        if len(part) and np.bincount(part).max() > 1:
            month_label = pd.Timestamp(_months_to_datetime(np.array([label]))[0])
            raise FeedbackLibError(
                f"revenue: several rows for one account in {month_label:%Y-%m}; pass one row per "
                "account and month (as monthly_revenue returns)"
            )
    start = np.zeros(n_ids, dtype=np.int64)
    start[code_parts[0]] = unit_parts[0]
    end = np.zeros(n_ids, dtype=np.int64)
    end[code_parts[1]] = unit_parts[1]
    if not count_reactivated:
        paid_months = np.bincount(code_parts[2][unit_parts[2] > 0], minlength=n_ids)
        end[paid_months < window_months] = 0
    cohort = start > 0
    starting = int(start[cohort].sum())
    start_label = pd.Timestamp(_months_to_datetime(np.array([start_month]))[0])
    if starting == 0:
        raise FeedbackLibError(
            f"no account paid in {start_label:%Y-%m} ({window_months} months before the month of "
            f"as_of {as_of_ts:%Y-%m-%d}), so retention is undefined; use a later as_of or a "
            "shorter window_months"
        )
    current = int(end[cohort].sum())
    retained = int(np.minimum(end, start)[cohort].sum())
    n = int(cohort.sum())
    kept = int((end[cohort] > 0).sum())
    return RetentionSummary(
        as_of=as_of_ts,
        window_months=window_months,
        count_reactivated=bool(count_reactivated),
        start_month=start_label,
        end_month=pd.Timestamp(_months_to_datetime(np.array([end_month]))[0]),
        n=n,
        retained_accounts=kept,
        starting_mrr=starting / _UNITS,
        current_mrr=current / _UNITS,
        retained_mrr=retained / _UNITS,
        nrr=current / starting,
        grr=retained / starting,
        logo_retention=kept / n,
    )


def net_revenue_retention(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 12,
    count_reactivated: bool = True,
) -> float:
    """Net revenue retention (NRR, NDR): cohort MRR now / cohort MRR ``window_months`` ago.

    See :func:`retention_summary` for the parameters, the conventions and the cohort size.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b"],
    ...     "month": pd.to_datetime(["2023-06-01", "2024-06-01", "2023-06-01"]),
    ...     "mrr": [100.0, 180.0, 100.0]})
    >>> net_revenue_retention(revenue, as_of="2024-06-30")  # 180 / (100 + 100)
    0.9
    """
    return retention_summary(
        revenue, as_of=as_of, window_months=window_months, count_reactivated=count_reactivated
    ).nrr


def gross_revenue_retention(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 12,
    count_reactivated: bool = True,
) -> float:
    """Gross revenue retention (GRR): NRR with each account capped at its starting MRR.

    See :func:`retention_summary` for the parameters, the conventions and the cohort size.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b"],
    ...     "month": pd.to_datetime(["2023-06-01", "2024-06-01", "2023-06-01"]),
    ...     "mrr": [100.0, 180.0, 100.0]})
    >>> gross_revenue_retention(revenue, as_of="2024-06-30")  # min(180, 100) / 200
    0.5
    """
    return retention_summary(
        revenue, as_of=as_of, window_months=window_months, count_reactivated=count_reactivated
    ).grr


def logo_retention(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 12,
    count_reactivated: bool = True,
) -> float:
    """Share of the accounts paying ``window_months`` before the month of ``as_of`` that pay now.

    See :func:`retention_summary` for the parameters and conventions (Stripe's cohort retention
    is ``count_reactivated=False``: "not yet churned").

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b"],
    ...     "month": pd.to_datetime(["2024-05-01", "2024-06-01", "2024-05-01"]),
    ...     "mrr": [100.0, 100.0, 50.0]})
    >>> logo_retention(revenue, as_of="2024-06-30", window_months=1)  # 1 of 2
    0.5
    """
    return retention_summary(
        revenue, as_of=as_of, window_months=window_months, count_reactivated=count_reactivated
    ).logo_retention


def logo_churn_rate(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 1,
    annualise: bool = False,
    count_reactivated: bool = True,
) -> float:
    """Logo (customer) churn rate per month, or annualised.

    Parameters
    ----------
    revenue, as_of, count_reactivated
        As in :func:`retention_summary`.
    window_months
        Months over which churn is measured (default 1: last month's paying accounts that do not
        pay in the month of ``as_of``). Longer windows give the average (geometric) monthly rate.
    annualise
        ``False`` (default): monthly rate. ``True``: annual rate ``1 - (1 - monthly)^12``.

    Returns
    -------
    float

    Notes
    -----
    With logo retention r over the window, monthly churn = 1 - r^(1 / window_months) and annual
    churn = 1 - (1 - monthly)^12. This is cohort-based (accounts paying at the start of the
    window); Baremetrics and Stripe instead divide the cancellations of the last 30 days by the
    customers 30 days ago (Stripe adds the new ones to the denominator).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("abcdefghij") * 2,
    ...     "month": pd.to_datetime(["2024-05-01"] * 10 + ["2024-06-01"] * 10),
    ...     "mrr": [10.0] * 10 + [10.0] * 9 + [0.0]})
    >>> logo_churn_rate(revenue, as_of="2024-06-30")  # 1 of 10 left
    0.1
    >>> round(logo_churn_rate(revenue, as_of="2024-06-30", annualise=True), 4)  # 1 - 0.9^12
    0.7176
    """
    retention = logo_retention(
        revenue, as_of=as_of, window_months=window_months, count_reactivated=count_reactivated
    )
    monthly = 1.0 - retention ** (1.0 / _check_window(window_months))
    return 1.0 - (1.0 - monthly) ** 12 if annualise else monthly


def _freq_step(freq: str) -> int:
    if freq not in _FREQ_MONTHS:
        raise ParameterError(f"freq={freq!r} is not supported; use 'M' (month), 'Q' (quarter) or 'Y' (year)")
    return _FREQ_MONTHS[freq]


def retention_trend(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    window_months: int = 12,
    freq: str = "M",
    count_reactivated: bool = True,
) -> pd.DataFrame:
    """NRR, GRR and logo retention measured at every month-, quarter- or year-end up to ``as_of``.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        Last day included; the last point is the month of ``as_of`` (for ``freq="M"``) or the
        last calendar quarter- or year-end month on or before it.
    window_months
        Trailing window of every point (12 = year-over-year); the window rolls, the points are
        calendar month-, quarter- or year-ends.
    freq
        ``"M"``, ``"Q"`` or ``"Y"``: how often retention is measured.
    count_reactivated
        As in :func:`retention_summary`.

    Returns
    -------
    DataFrame
        ``month, start_month, n, retained_accounts, starting_mrr, current_mrr, retained_mrr, nrr,
        grr, logo_retention``: one row per measurement month from the first whose starting month
        is in the data; ``n`` is the size of the starting cohort. Ratios are NaN where ``n`` is 0.

    Notes
    -----
    Each row equals :func:`retention_summary` for that month (computed for all months at once
    with a sorted search, not a loop).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "a", "b", "b"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-01",
    ...                              "2024-03-01"]),
    ...     "mrr": [100.0, 120.0, 120.0, 50.0, 0.0]})
    >>> retention_trend(revenue, as_of="2024-03-31", window_months=1)[["month", "n", "nrr", "grr"]]
           month  n  nrr  grr
    0 2024-02-01  1  1.2  1.0
    1 2024-03-01  2  0.705882  0.705882
    """
    window_months = _check_window(window_months)
    step = _freq_step(freq)
    end_month = _month_number(_as_of_timestamp(as_of))
    rv = _canonical_revenue(revenue, last_month=end_month)
    columns = ["month", "start_month", "n", "retained_accounts", "starting_mrr", "current_mrr",
               "retained_mrr", "nrr", "grr", "logo_retention"]
    if len(rv.month) == 0:
        return _empty(columns)
    low = int(rv.month.min())
    span = end_month - low + 1 + window_months
    key = rv.account * span + (rv.month - low)
    target_month = rv.month + window_months
    starts = np.flatnonzero(
        (rv.units > 0) & (target_month <= end_month) & ((target_month + 1) % step == 0)
    )
    target = key[starts] + window_months
    found = np.minimum(np.searchsorted(key, target), len(key) - 1)
    end = np.where(key[found] == target, rv.units[found], 0)
    if not count_reactivated:
        paid = np.cumsum(rv.units > 0)
        through = np.searchsorted(key, target, side="right") - 1
        end = np.where(paid[through] - paid[starts] < window_months, 0, end)
    start = rv.units[starts]
    months = np.arange(low + window_months, end_month + 1)
    months = months[(months + 1) % step == 0]
    if len(months) == 0:
        return _empty(columns)
    slot = target_month[starts] - months[0]
    size = int(months[-1] - months[0]) + 1

    def total(weights) -> np.ndarray:
        return np.bincount(slot, weights=weights, minlength=size)[months - months[0]]

    n = total(None).astype(np.int64)
    starting, current = total(start / _UNITS), total(end / _UNITS)
    retained = total(np.minimum(start, end) / _UNITS)
    kept = total((end > 0).astype(np.float64)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "month": _months_to_datetime(months),
                "start_month": _months_to_datetime(months - window_months),
                "n": n,
                "retained_accounts": kept,
                "starting_mrr": starting,
                "current_mrr": current,
                "retained_mrr": retained,
                "nrr": np.where(n > 0, current / starting, np.nan),
                "grr": np.where(n > 0, retained / starting, np.nan),
                "logo_retention": np.where(n > 0, kept / n, np.nan),
            }
        )
    return frame


def _empty(columns: list[str]) -> pd.DataFrame:
    dtypes = {"month": "datetime64[ns]", "start_month": "datetime64[ns]", "cohort": "datetime64[ns]",
              "n": "int64", "retained_accounts": "int64", "period_index": "int64",
              "accounts": "int64", "retained": "int64"}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, "float64")) for c in columns})


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
    step = _freq_step(freq)
    end_month = _month_number(_as_of_timestamp(as_of))
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
            "cohort": _months_to_datetime((grid_cohort + low) * step),
            "period_index": grid_period.astype(np.int64),
            "accounts": accounts[grid_cohort].astype(np.int64),
            "retained": retained[grid].astype(np.int64),
            "mrr": mrr[grid] / _UNITS,
            "starting_mrr": starting[grid_cohort] / _UNITS,
        }
    )
    frame["share"] = frame["retained"] / frame["accounts"]
    frame["mrr_retention"] = frame["mrr"] / frame["starting_mrr"]
    frame.attrs["freq"] = freq  # read by plot_cohort_heatmap for its labels
    return frame


def plot_cohort_heatmap(
    cohorts: pd.DataFrame, *, ax: Axes | None = None, value: str = "share", freq: str | None = None
) -> Axes:
    """Cohort triangle as a heatmap: one row per cohort, one column per period since signup.

    Parameters
    ----------
    cohorts
        As :func:`cohort_retention` returns.
    ax
        Axes to draw on; a new figure when ``None``.
    value
        ``"share"`` (logo retention, default) or ``"mrr_retention"`` (net MRR retention).
    freq
        Period length of ``cohorts`` for the labels; ``None`` takes ``cohorts.attrs["freq"]`` (set
        by :func:`cohort_retention`), else infers it from the cohort spacing.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> cohorts = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "period_index": [0, 1, 0], "accounts": [2, 2, 1], "share": [1.0, 0.5, 1.0]})
    >>> ax = plot_cohort_heatmap(cohorts)
    >>> [t.get_text() for t in ax.texts]
    ['100%', '50%', '100%']
    """
    if value not in ("share", "mrr_retention"):
        raise ParameterError(f"value={value!r} is not supported; use 'share' or 'mrr_retention'")
    _require_columns(cohorts, ("cohort", "period_index", "accounts", value), "cohorts")
    if len(cohorts) == 0:
        raise FeedbackLibError("cohorts is empty; nothing to plot (no paying account before as_of?)")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 6))
    table = cohorts.pivot(index="cohort", columns="period_index", values=value).sort_index()
    sizes = cohorts.groupby("cohort")["accounts"].first().reindex(table.index)
    dates = pd.to_datetime(table.index)
    freq = freq if freq is not None else cohorts.attrs.get("freq")
    if freq is None:
        gaps = np.diff(dates.year * 12 + dates.month)
        step = int(gaps.min()) if len(gaps) else 1
    else:
        step = _freq_step(freq)
    values = table.to_numpy(dtype=float)
    ax.imshow(values, cmap="YlGnBu", vmin=0, vmax=max(1.0, np.nanmax(values)), aspect="auto",
              interpolation="nearest")
    if table.size <= 600:  # numbers in the cells while they stay readable
        for (i, j), cell in np.ndenumerate(values):
            if not np.isnan(cell):
                ax.text(j, i, f"{cell:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if cell > 0.6 else "black")
    ax.set_yticks(range(len(table)), [f"{_period_label(d, step)} (n={int(s)})" for d, s in zip(dates, sizes)])
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    unit = {1: "Months", 3: "Quarters", 12: "Years"}.get(step, "Periods")
    ax.set_xlabel(f"{unit} since first payment")
    ax.set_title("Logo retention by cohort" if value == "share" else "Net MRR retention by cohort")
    return ax
