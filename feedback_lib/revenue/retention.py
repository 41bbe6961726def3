"""Revenue and logo retention: NRR, GRR, logo churn and retention trends; the churn rates, defined once.

All functions take the account-month revenue of :func:`feedback_lib.monthly_revenue`
(``account_id, month, mrr``) and work on month-end snapshots: an account "pays" in a month when
its MRR there is above 0. ``docs/metrics.md`` states every convention, its default and how the
leading tools differ.

Churn rates, each with one name and one definition (every other module calls these):

- **logo churn** (:func:`logo_churn_rate`): the share of the accounts paying at the start of a
  window that pay nothing at its end, ``1 - logo retention``; as a monthly rate over a longer
  window ``1 - r^(1 / months)``. ``fl.observed_churn`` gives the same share with a Wilson interval.
- **gross revenue churn**: ``1 - GRR`` (lost and contracted MRR of the starting accounts over their
  starting MRR); **net revenue churn**: ``1 - NRR``.
- **bridge MRR churn** (``fl.revenue_churn``): ChartMogul's per-period gross and net MRR churn of
  an ARR bridge.
- Annual and monthly rates convert as compounding rates: :func:`annual_churn_rate` and
  :func:`monthly_churn_rate` (twelve months at the monthly rate lose exactly the annual rate).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import month_index, month_start, months_per_period, parse_as_of
from feedback_lib._util.money import UNITS, to_units
from feedback_lib.engines import revenue as engine_revenue
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SchemaError,
)
from feedback_lib.revenue._frame import (
    _account_codes,
    _canonical_revenue,
    _empty,
    _month_numbers,
)

if TYPE_CHECKING:
    from datetime import date


__all__ = ["annual_churn_rate", "gross_revenue_retention", "logo_churn_rate", "logo_retention", "monthly_churn_rate", "net_revenue_retention", "retention_summary", "retention_trend", "RetentionSummary"]


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
    if is_ibis_table(revenue):  # run in the engine that holds the table
        return RetentionSummary(**engine_revenue.retention_counts(revenue, as_of=as_of, window_months=window_months, count_reactivated=count_reactivated))
    window_months = _check_window(window_months)
    as_of_ts = parse_as_of(as_of)
    end_month = month_index(as_of_ts)
    start_month = end_month - window_months
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    month = _month_numbers(revenue["month"], "revenue: column 'month'")
    parts = [np.flatnonzero(month == start_month), np.flatnonzero(month == end_month)]
    if not count_reactivated:  # also every row inside the window, to find lapses
        parts.append(np.flatnonzero((month > start_month) & (month <= end_month)))
    rows = np.concatenate(parts)
    units = to_units(revenue["mrr"].iloc[rows], "revenue: column 'mrr'", nonnegative=True)
    codes, uniques = _account_codes(revenue["account_id"].iloc[rows], "revenue")
    n_ids = len(uniques)
    split = np.cumsum([len(p) for p in parts])[:-1]
    code_parts, unit_parts = np.split(codes, split), np.split(units, split)
    for part, label in zip(code_parts[:2], (start_month, end_month)):
        if len(part) and np.bincount(part).max() > 1:
            month_label = pd.Timestamp(month_start(np.array([label]))[0])
            raise SchemaError(
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
    start_label = pd.Timestamp(month_start(np.array([start_month]))[0])
    if starting == 0:
        raise InsufficientDataError(
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
        end_month=pd.Timestamp(month_start(np.array([end_month]))[0]),
        n=n,
        retained_accounts=kept,
        starting_mrr=starting / UNITS,
        current_mrr=current / UNITS,
        retained_mrr=retained / UNITS,
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
    return annual_churn_rate(monthly) if annualise else monthly


def monthly_churn_rate(annual_churn: float) -> float:
    """Monthly churn equivalent to an annual churn rate: ``1 - (1 - annual_churn)^(1/12)``.

    Notes
    -----
    Twelve months at the returned rate lose exactly ``annual_churn``; SaaS Capital's "No Churn"
    white paper (2015) quotes 80% annual retention as about 1.85% a month.

    Examples
    --------
    >>> round(monthly_churn_rate(0.20), 4)
    0.0184
    """
    if not 0 <= annual_churn <= 1:
        raise ParameterError(f"monthly_churn_rate: annual_churn must be between 0 and 1, got {annual_churn!r}")
    return 1.0 - (1.0 - annual_churn) ** (1.0 / 12.0)


def annual_churn_rate(monthly_churn: float) -> float:
    """Annual churn equivalent to a monthly churn rate: ``1 - (1 - monthly_churn)^12`` (the
    inverse of :func:`monthly_churn_rate`).

    Examples
    --------
    >>> round(annual_churn_rate(0.1), 4)  # 1 - 0.9^12
    0.7176
    >>> round(annual_churn_rate(monthly_churn_rate(0.2)), 12)
    0.2
    """
    if not 0 <= monthly_churn <= 1:
        raise ParameterError(f"annual_churn_rate: monthly_churn must be between 0 and 1, got {monthly_churn!r}")
    return 1.0 - (1.0 - monthly_churn) ** 12




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
    step = months_per_period(freq)
    end_month = month_index(parse_as_of(as_of))
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
    starting, current = total(start / UNITS), total(end / UNITS)
    retained = total(np.minimum(start, end) / UNITS)
    kept = total((end > 0).astype(np.float64)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "month": month_start(months),
                "start_month": month_start(months - window_months),
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


