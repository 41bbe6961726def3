"""How MRR is spread over accounts: ARPA, top-account share, the 80:20 check, Lorenz and Gini.

Every function looks at the MRR of the month of ``as_of`` in the account-month revenue of
:func:`feedback_lib.monthly_revenue`, over the paying accounts (MRR > 0) unless stated otherwise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from feedback_lib._util.arrow import is_strictly_increasing
from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.money import UNITS, to_units
from feedback_lib.engines import revenue as engine_revenue
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SchemaError,
)
from feedback_lib.revenue._frame import _datetimes, _month_numbers

if TYPE_CHECKING:
    from datetime import date


__all__ = ["accounts_for_share", "AccountsForShare", "arpa", "gini", "lorenz_curve", "revenue_concentration", "RevenueConcentration", "top_share"]


def _mrr_in_month(revenue: pd.DataFrame, as_of, *, include_lapsed: bool = False) -> np.ndarray:
    """MRR (micro-units, ascending) of the accounts paying in the month of ``as_of``; with
    ``include_lapsed`` also a 0 for every account that has a row before that month but does not
    pay in it."""
    as_of_ts = parse_as_of(as_of)
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    # the rows of the month by comparing the dates themselves (no month number per row)
    dates = _datetimes(revenue["month"], "revenue: column 'month'")
    if np.isnat(dates).any():
        _month_numbers(revenue["month"], "revenue: column 'month'")  # raises, naming the rows
    month_start = as_of_ts.to_period("M").start_time.to_datetime64()
    next_start = (as_of_ts.to_period("M") + 1).start_time.to_datetime64()
    rows = np.flatnonzero((dates >= month_start) & (dates < next_start))
    ids = revenue["account_id"].iloc[rows]
    if not is_strictly_increasing(ids) and ids.duplicated().any():
        raise SchemaError(
            f"revenue: account {ids[ids.duplicated()].iloc[0]!r} has several rows for "
            f"{as_of_ts:%Y-%m}; pass one row per account and month (as monthly_revenue returns)"
        )
    units = to_units(revenue["mrr"].iloc[rows], "revenue: column 'mrr'", nonnegative=True)
    values = np.sort(units[units > 0])
    if include_lapsed:
        known = revenue["account_id"].iloc[np.flatnonzero(dates < next_start)].nunique()
        values = np.r_[np.zeros(known - len(values), dtype=np.int64), values]
    if len(values) == 0 or values[-1] == 0:
        raise InsufficientDataError(
            f"no account pays in {as_of_ts:%Y-%m} (the month of as_of); check as_of and that "
            "revenue comes from monthly_revenue with the same or a later as_of"
        )
    return values


@dataclass(frozen=True)
class RevenueConcentration:
    """How the MRR of one month is spread over accounts: from one pass over the revenue table.

    Attributes
    ----------
    month
        First day of the month measured.
    n
        Accounts measured (paying ones; with ``include_lapsed`` also lapsed ones at 0).
    total_mrr
        Their MRR.
    gini
        Gini coefficient (see :func:`gini`).

    Methods ``top_share``, ``accounts_for_share`` and the ``lorenz`` property give what
    :func:`top_share`, :func:`accounts_for_share` and :func:`lorenz_curve` give, without
    reading the revenue table again.
    """

    month: pd.Timestamp
    n: int
    total_mrr: float
    gini: float
    _units: np.ndarray = field(repr=False, compare=False)  # MRR in micro-units, ascending

    def top_share(self, top: float = 0.05) -> float:
        """Share of MRR held by the top ``top`` fraction of accounts (see :func:`top_share`)."""
        if not 0 < top <= 1:
            raise ParameterError(f"top must be a fraction in (0, 1], got {top!r} (0.05 = top 5%)")
        k = max(1, math.ceil(round(top * self.n, 9)))
        return float(self._units[-k:].sum() / self._units.sum())

    def accounts_for_share(self, share: float = 0.8) -> AccountsForShare:
        """The fewest largest accounts holding ``share`` of MRR (see :func:`accounts_for_share`)."""
        if not 0 < share <= 1:
            raise ParameterError(f"share must be a fraction in (0, 1], got {share!r} (0.8 = 80% of MRR)")
        top = np.cumsum(self._units[::-1])
        total = int(top[-1])
        k = min(int(np.searchsorted(top, share * total * (1 - 1e-12))) + 1, self.n)
        return AccountsForShare(accounts=k, n=self.n, account_share=k / self.n, mrr_share=float(top[k - 1] / total),
                                target=float(share), total_mrr=total / UNITS)

    @property
    def lorenz(self) -> pd.DataFrame:
        """The Lorenz curve (see :func:`lorenz_curve`)."""
        cumulated = np.r_[0, np.cumsum(self._units)]
        return pd.DataFrame(
            {
                "accounts": np.arange(self.n + 1, dtype=np.int64),
                "account_share": np.arange(self.n + 1) / self.n,
                "mrr_share": cumulated / cumulated[-1],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: month, n, total_mrr, gini, top 5% and top 20% shares, accounts holding 80%."""
        pareto = self.accounts_for_share(0.8)
        return pd.DataFrame([{"month": self.month, "n": self.n, "total_mrr": self.total_mrr, "gini": self.gini,
                              "top5_share": self.top_share(0.05), "top20_share": self.top_share(0.20),
                              "accounts_for_80_share": pareto.account_share}])


def revenue_concentration(
    revenue: pd.DataFrame, *, as_of: str | date, include_lapsed: bool = False
) -> RevenueConcentration:
    """Top shares, Gini, Lorenz curve and the 80:20 check of one month, from one pass over ``revenue``.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The month of ``as_of`` is measured.
    include_lapsed
        As in :func:`lorenz_curve`.

    Returns
    -------
    RevenueConcentration

    Notes
    -----
    :func:`top_share`, :func:`gini`, :func:`lorenz_curve` and :func:`accounts_for_share` each
    read the month's rows again; a report that shows several of them calls this once (at a
    million accounts each read takes about 0.1 s). The formulas are those of the single
    functions.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("abcde"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 5), "mrr": [500.0, 200.0, 150.0, 100.0, 50.0]})
    >>> c = revenue_concentration(revenue, as_of="2024-06-30")
    >>> c.n, c.top_share(0.2), c.gini, c.accounts_for_share(0.8).accounts  # Gini (-4*50 - 2*100 + 2*200 + 4*500) / 5000
    (5, 0.5, 0.4, 3)
    """
    values = _mrr_in_month(revenue, as_of, include_lapsed=include_lapsed)
    n = len(values)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    coefficient = float(weights @ values.astype(np.float64) / (n * float(values.sum())))
    month = parse_as_of(as_of).to_period("M").start_time
    return RevenueConcentration(month=month, n=n, total_mrr=float(values.sum() / UNITS), gini=coefficient,
                                _units=values)


def arpa(revenue: pd.DataFrame, *, as_of: str | date) -> float:
    """Average revenue (MRR) per paying account in the month of ``as_of``.

    Notes
    -----
    ARPA = total MRR / number of accounts with MRR > 0 (ChartMogul's ARPA; Baremetrics calls it
    ARPU). Accounts, not users or seats.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "b", "c"],
    ...     "month": pd.to_datetime(["2024-06-01"] * 3), "mrr": [100.0, 50.0, 0.0]})
    >>> arpa(revenue, as_of="2024-06-30")  # (100 + 50) / 2
    75.0
    """
    values = _mrr_in_month(revenue, as_of)
    return float(values.sum() / UNITS / len(values))


def top_share(revenue: pd.DataFrame, *, as_of: str | date, top: float = 0.05) -> float:
    """Share of the MRR in the month of ``as_of`` held by the top ``top`` fraction of paying accounts.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The month of ``as_of`` is measured.
    top
        Fraction of paying accounts, in (0, 1]; the number of accounts is rounded up
        (``ceil(top * n)``, at least 1; a product within 1e-9 of a whole number counts as that
        number, so 0.07 * 100 is 7 accounts, not 8).

    Returns
    -------
    float
        Between ``top`` (all equal) and 1.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("abcdefghijklmnopqrst"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 20), "mrr": [100.0] + [10.0] * 19})
    >>> round(top_share(revenue, as_of="2024-06-30"), 4)  # ceil(0.05 * 20) = 1 account: 100 / 290
    0.3448
    """
    if is_ibis_table(revenue):  # run in the engine that holds the table
        return engine_revenue.top_share(revenue, as_of=as_of, top=top)
    return revenue_concentration(revenue, as_of=as_of).top_share(top)


@dataclass(frozen=True)
class AccountsForShare:
    """The fewest accounts that together hold ``target`` of the MRR (the 80:20 check).

    Attributes
    ----------
    accounts
        Number of largest accounts needed.
    n
        Paying accounts in the month.
    account_share
        ``accounts / n`` (0.2 for a textbook 80:20 base).
    mrr_share
        Share of MRR those accounts actually hold (>= ``target``).
    target
        The requested share.
    total_mrr
        MRR of all paying accounts in the month.
    """

    accounts: int
    n: int
    account_share: float
    mrr_share: float
    target: float
    total_mrr: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([asdict(self)])


def accounts_for_share(
    revenue: pd.DataFrame, *, as_of: str | date, share: float = 0.8
) -> AccountsForShare:
    """How many of the largest accounts make ``share`` of the MRR in the month of ``as_of``.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The month of ``as_of`` is measured.
    share
        Target share of MRR in (0, 1]; default 0.8 (the Pareto 80:20 check).

    Returns
    -------
    AccountsForShare

    Notes
    -----
    Accounts are taken from the largest MRR down until their cumulated MRR reaches
    ``share * total`` (within a relative 1e-12, so float noise in ``share`` cannot add an account).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("abcde"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 5), "mrr": [500.0, 200.0, 150.0, 100.0, 50.0]})
    >>> r = accounts_for_share(revenue, as_of="2024-06-30")  # 500 + 200 + 150 = 850 >= 800
    >>> r.accounts, r.account_share, r.mrr_share
    (3, 0.6, 0.85)
    """
    return revenue_concentration(revenue, as_of=as_of).accounts_for_share(share)


def lorenz_curve(
    revenue: pd.DataFrame, *, as_of: str | date, include_lapsed: bool = False
) -> pd.DataFrame:
    """Lorenz curve of the MRR over accounts in the month of ``as_of``.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The month of ``as_of`` is measured.
    include_lapsed
        ``False`` (default): paying accounts only. ``True``: also every account with revenue
        rows before that month that does not pay in it, with MRR 0.

    Returns
    -------
    DataFrame
        ``accounts, account_share, mrr_share``: n + 1 rows from (0, 0) to (n, 1, 1), accounts
        taken from the smallest MRR up; ``mrr_share`` is the share of MRR held by the
        ``account_share`` smallest accounts.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("ab"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 2), "mrr": [300.0, 100.0]})
    >>> lorenz_curve(revenue, as_of="2024-06-30")
       accounts  account_share  mrr_share
    0         0            0.0       0.00
    1         1            0.5       0.25
    2         2            1.0       1.00
    """
    return revenue_concentration(revenue, as_of=as_of, include_lapsed=include_lapsed).lorenz


def gini(revenue: pd.DataFrame, *, as_of: str | date, include_lapsed: bool = False) -> float:
    """Gini coefficient of the MRR over accounts in the month of ``as_of``.

    Parameters
    ----------
    revenue, as_of, include_lapsed
        As in :func:`lorenz_curve`.

    Returns
    -------
    float
        0 when every account pays the same; (n - 1) / n when one of n accounts holds everything
        (possible only with ``include_lapsed=True``).

    Notes
    -----
    With MRR sorted ascending x_1 <= ... <= x_n: G = sum_i (2i - n - 1) x_i / (n sum_i x_i),
    which equals 1 - 2 x (area under the Lorenz curve) for the step-wise curve (Gini 1912; e.g.
    Damgaard & Weiner 2000, Ecology 81).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("ab"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 2), "mrr": [300.0, 100.0]})
    >>> gini(revenue, as_of="2024-06-30")  # (-1 * 100 + 1 * 300) / (2 * 400)
    0.25
    """
    return revenue_concentration(revenue, as_of=as_of, include_lapsed=include_lapsed).gini


