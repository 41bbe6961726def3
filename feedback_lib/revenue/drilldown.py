"""Drill-downs: the account rows behind a bridge component, a cohort cell and a concentration band.

Each function returns a tidy frame whose money column sums, in the library's integer micro-units,
exactly to the figure it explains (``arr_bridge``, ``cohort_retention``, ``top_share``); pass the
``accounts`` table to add ``name, segment, region, owner, csm``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import month_index, month_start, months_per_period, parse_as_of
from feedback_lib._util.money import UNITS, to_units
from feedback_lib.errors import ParameterError
from feedback_lib.revenue._frame import _month_numbers

__all__ = ["bridge_accounts", "cohort_accounts", "concentration_accounts", "with_accounts"]

BRIDGE_COMPONENTS = ("new", "expansion", "reactivation", "contraction", "churn")
ACCOUNT_COLUMNS = ("name", "segment", "region", "owner", "csm", "mrr")  # mrr when the frame has it


def with_accounts(rows: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` with the accounts' ``name, segment, region, owner, csm`` (those present) joined on
    ``account_id``; ``rows`` unchanged when ``accounts`` is ``None``.

    Examples
    --------
    >>> rows = pd.DataFrame({"account_id": ["a", "b"], "mrr": [10.0, 5.0]})
    >>> acc = pd.DataFrame({"account_id": ["b", "a"], "owner": ["Kim", "Lee"], "plan": ["x", "y"]})
    >>> with_accounts(rows, acc)
      account_id   mrr owner
    0          a  10.0   Lee
    1          b   5.0   Kim
    """
    if accounts is None:
        return rows
    require_columns(accounts, ("account_id",), table="accounts")
    extra = [c for c in ACCOUNT_COLUMNS if c in accounts.columns and c not in rows.columns]
    info = accounts[["account_id", *extra]].drop_duplicates("account_id")
    return rows.merge(info, on="account_id", how="left", validate="many_to_one")


def bridge_accounts(
    movements: pd.DataFrame,
    *,
    period: str | date | pd.Timestamp,
    category: str,
    freq: str = "M",
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The account-months behind one component of ``arr_bridge(movements, freq=freq)``.

    Parameters
    ----------
    movements
        As :func:`feedback_lib.mrr_movements` returns.
    period
        Any day in the bridge period (its ``period`` value, e.g. ``"2026-07-01"``, works).
    category
        ``"new"``, ``"expansion"``, ``"reactivation"``, ``"contraction"`` or ``"churn"``.
    freq
        ``"M"``, ``"Q"`` or ``"Y"``, as for the bridge.
    accounts
        Optional accounts table for ``name, segment, region, owner, csm``.

    Returns
    -------
    DataFrame
        ``account_id, month, category, previous_mrr, mrr, mrr_change`` (+ account columns), one
        row per account and month of that category in the period, largest ``|mrr_change|``
        first; ``mrr_change`` sums exactly (in micro-units) to the bridge's cell.
        ``attrs["total_mrr_change"]`` holds that sum.

    Notes
    -----
    The bridge's component is the sum of ``mrr_change`` over the movements of that category in
    the period (see :func:`feedback_lib.arr_bridge`); this returns exactly those rows.

    Examples
    --------
    >>> mv = pd.DataFrame({"account_id": ["a", "b", "a"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "mrr": [100.0, 50.0, 70.0], "previous_mrr": [0.0, 0.0, 100.0],
    ...     "mrr_change": [100.0, 50.0, -30.0], "category": ["new", "new", "contraction"]})
    >>> bridge_accounts(mv, period="2024-01-01", category="new")[["account_id", "mrr_change"]]
      account_id  mrr_change
    0          a       100.0
    1          b        50.0
    """
    if category not in BRIDGE_COMPONENTS:
        raise ParameterError(f"bridge_accounts: category must be one of {list(BRIDGE_COMPONENTS)}, got {category!r}")
    step = months_per_period(freq)
    cols = ("account_id", "month", "previous_mrr", "mrr_change", "category")
    require_columns(movements, cols, table="movements", where="bridge_accounts")
    target = month_index(parse_as_of(period, name="period", where="bridge_accounts")) // step
    month = _month_numbers(movements["month"], "movements: column 'month'")
    keep = (month // step == target) & (movements["category"].astype(str).to_numpy() == category)
    rows = movements.loc[keep].copy()
    if "mrr" not in rows.columns:
        rows["mrr"] = rows["previous_mrr"] + rows["mrr_change"]
    rows = rows[["account_id", "month", "category", "previous_mrr", "mrr", "mrr_change"]]
    units = to_units(rows["mrr_change"], "movements: column 'mrr_change'", nonnegative=False)
    order = np.lexsort((rows["account_id"].astype(str).to_numpy(), -np.abs(units)))
    rows = with_accounts(rows.iloc[order].reset_index(drop=True), accounts)
    rows.attrs["total_mrr_change"] = float(units.sum() / UNITS)
    return rows


def cohort_accounts(
    revenue: pd.DataFrame,
    *,
    cohort: str | date | pd.Timestamp,
    period_index: int,
    as_of: str | date,
    freq: str = "M",
    count_reactivated: bool = True,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The accounts of one cell of :func:`feedback_lib.cohort_retention`: who was retained, with what MRR.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    cohort
        Any day in the cohort's period (the table's ``cohort`` value works).
    period_index
        Periods after the cohort's (0 = its own period).
    as_of, freq, count_reactivated
        As for :func:`feedback_lib.cohort_retention`.
    accounts
        Optional accounts table for ``name, segment, region, owner, csm``.

    Returns
    -------
    DataFrame
        ``account_id, first_month, starting_mrr, snapshot_month, mrr, retained``, one row per
        account of the cohort, retained ones first by MRR. Row count = the cell's ``accounts``;
        ``retained.sum()`` = its ``retained``; ``mrr.sum()`` = its ``mrr`` and
        ``starting_mrr.sum()`` = its ``starting_mrr`` (exactly, in micro-units).

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a", "a", "b", "b"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01"] * 2), "mrr": [100.0, 150.0, 100.0, 0.0]})
    >>> cohort_accounts(revenue, cohort="2024-01-01", period_index=1, as_of="2024-02-29")[
    ...     ["account_id", "mrr", "retained"]]
      account_id    mrr  retained
    0          a  150.0      True
    1          b    0.0     False
    """
    step = months_per_period(freq)
    end_month = month_index(parse_as_of(as_of))
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue", where="cohort_accounts")
    if int(period_index) != period_index or period_index < 0:
        raise ParameterError(f"cohort_accounts: period_index must be a whole number >= 0, got {period_index!r}")
    month = _month_numbers(revenue["month"], "revenue: column 'month'")
    units = to_units(revenue["mrr"], "revenue: column 'mrr'", nonnegative=True)
    rv = pd.DataFrame({"account_id": revenue["account_id"].to_numpy(), "m": month, "u": units})
    rv = rv[rv["m"] <= end_month]
    paid = rv[rv["u"] > 0].sort_values(["account_id", "m"])
    first = paid.groupby("account_id", sort=True).first()  # first paid month and its MRR
    target = month_index(parse_as_of(cohort, name="cohort", where="cohort_accounts")) // step
    members = first[first["m"] // step == target]
    snap_period = target + int(period_index)
    snap = min(snap_period * step + step - 1, end_month)
    if snap_period * step > end_month:
        raise ParameterError(f"cohort_accounts: period {period_index} of that cohort starts after as_of")
    at_snap = rv[rv["m"] == snap].set_index("account_id")["u"]
    mrr_units = at_snap.reindex(members.index).fillna(0).to_numpy(dtype=np.int64)
    retained = mrr_units > 0
    if not count_reactivated:  # paid every month from the first paid month to the snapshot
        span = paid[paid["account_id"].isin(members.index) & (paid["m"] <= snap)].groupby("account_id")["m"].size()
        retained &= span.reindex(members.index).fillna(0).to_numpy() == snap - members["m"].to_numpy() + 1
    out = pd.DataFrame({
        "account_id": members.index.to_numpy(),
        "first_month": month_start(members["m"].to_numpy()),
        "starting_mrr": members["u"].to_numpy() / UNITS,
        "snapshot_month": month_start(np.full(len(members), snap)),
        "mrr": np.where(retained, mrr_units, 0) / UNITS,
        "retained": retained,
    })
    out = out.sort_values(["retained", "mrr", "account_id"], ascending=[False, False, True], ignore_index=True)
    return with_accounts(out, accounts)


def concentration_accounts(
    revenue: pd.DataFrame,
    *,
    as_of: str | date,
    top: float = 0.05,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The accounts behind :func:`feedback_lib.top_share`: the top ``top`` fraction of payers by MRR.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` as :func:`feedback_lib.monthly_revenue` returns.
    as_of
        The month of ``as_of`` is measured.
    top
        Fraction of paying accounts, rounded up to whole accounts as in ``top_share``.
    accounts
        Optional accounts table for ``name, segment, region, owner, csm``.

    Returns
    -------
    DataFrame
        ``rank, account_id, mrr, mrr_share, cumulative_share``, largest first (ties by
        ``account_id``); ``mrr.sum() / total`` equals ``top_share(revenue, as_of=as_of, top=top)``
        and the last ``cumulative_share`` is that share.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": list("abcde"),
    ...     "month": pd.to_datetime(["2024-06-01"] * 5), "mrr": [500.0, 200.0, 150.0, 100.0, 50.0]})
    >>> concentration_accounts(revenue, as_of="2024-06-30", top=0.2)[["account_id", "mrr_share"]]
      account_id  mrr_share
    0          a        0.5
    """
    import math

    if not 0 < top <= 1:
        raise ParameterError(f"concentration_accounts: top must be a fraction in (0, 1], got {top!r}")
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue", where="concentration_accounts")
    month = _month_numbers(revenue["month"], "revenue: column 'month'")
    rows = revenue.loc[month == month_index(parse_as_of(as_of)), ["account_id", "mrr"]]
    units = to_units(rows["mrr"], "revenue: column 'mrr'", nonnegative=True)
    rows, units = rows[units > 0], units[units > 0]
    k = max(1, math.ceil(round(top * len(rows), 9))) if len(rows) else 0
    order = np.lexsort((rows["account_id"].astype(str).to_numpy(), -units))[:k]
    picked = units[order]
    total = units.sum()
    out = pd.DataFrame({
        "rank": np.arange(1, k + 1),
        "account_id": rows["account_id"].to_numpy()[order],
        "mrr": picked / UNITS,
        "mrr_share": picked / total if total else np.zeros(k),
        "cumulative_share": np.cumsum(picked) / total if total else np.zeros(k),
    })
    return with_accounts(out, accounts)
