"""Monthly recurring revenue (MRR) from subscriptions, MRR movements and the ARR bridge.

The engine works on month-end snapshots: an account's MRR in a calendar month is the sum of its
subscriptions active on the month's last day (on the ``as_of`` date in the month of ``as_of``).
All money is added in integer micro-units (millionths of the currency unit) so that sums are exact
and do not depend on row order; the returned columns are floats. Every step is vectorised with
numpy (no loop over accounts), so a million accounts take seconds.

``docs/metrics.md`` states every convention with its default and how the leading tools differ.
"""

from __future__ import annotations

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
from feedback_lib.revenue._frame import _canonical_revenue, _month_numbers

if TYPE_CHECKING:
    from datetime import date


__all__ = ["arr_bridge", "MOVEMENT_CATEGORIES", "mrr_movements", "quick_ratio", "revenue_churn", "arr_growth_rate"]

#: Movement categories in bridge order (``mrr_movements`` returns them as a categorical).
MOVEMENT_CATEGORIES: tuple[str, ...] = (
    "new", "expansion", "reactivation", "contraction", "churn", "unchanged",
)
_NEW, _EXPANSION, _REACTIVATION, _CONTRACTION, _CHURN, _UNCHANGED = range(6)
_BRIDGE_COLUMNS = [
    "period", "opening_mrr", "new", "expansion", "reactivation", "contraction", "churn",
    "closing_mrr",
]


def _category_codes(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype) and tuple(col.cat.categories) == MOVEMENT_CATEGORIES:
        codes = col.cat.codes.to_numpy()
    else:
        codes = pd.Categorical(col, categories=list(MOVEMENT_CATEGORIES)).codes
    if (codes < 0).any():
        bad = sorted({str(v) for v in col[codes < 0]})[:5]
        raise SchemaError(
            f"movements: column 'category' has unknown value(s) {bad}; expected one of "
            f"{list(MOVEMENT_CATEGORIES)} (as mrr_movements returns)"
        )
    return codes.astype(np.int64)




def mrr_movements(revenue: pd.DataFrame, *, as_of: str | date) -> pd.DataFrame:
    """Classify every account-month into an MRR movement category.

    Parameters
    ----------
    revenue
        ``account_id, month, mrr`` with one row per account and month from the first to the last
        paid month (gap months with ``mrr`` 0), as :func:`monthly_revenue` returns, over the full
        history (an account's first row is taken as its first month). Row order does not matter;
        rows after the month of ``as_of`` are ignored.
    as_of
        Last day included; an account whose last paid month is before the month of ``as_of`` gets
        one extra row with ``mrr`` 0 in the following month (its churn).

    Returns
    -------
    DataFrame
        ``account_id, month, mrr, previous_mrr, mrr_change, category``, sorted by ``account_id``
        and ``month``; ``category`` is a categorical with the categories
        :data:`MOVEMENT_CATEGORIES`.

    Notes
    -----
    ``previous_mrr`` is the account's MRR in the previous month (0 in its first row) and
    ``mrr_change = mrr - previous_mrr``. The first rule that matches wins: first paid month ->
    ``new``; no revenue now but revenue last month -> ``churn``; revenue now, none last month,
    paid before -> ``reactivation``; ``mrr_change > 0`` -> ``expansion``; ``mrr_change < 0`` ->
    ``contraction``; otherwise ``unchanged`` (also gap months). These are the rules of the dbt-labs
    mrr-playbook (``models/mrr.sql``), with upgrade/downgrade renamed expansion/contraction, for
    customer-level MRR (several concurrent subscriptions are netted, as in ChartMogul: cancelling
    one of two subscriptions is a contraction). A price change in the month of a reactivation is
    booked entirely as reactivation. Comparisons are made on exact integer micro-units.

    Examples
    --------
    >>> revenue = pd.DataFrame({"account_id": ["a"] * 4,
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
    ...     "mrr": [100.0, 150.0, 0.0, 80.0]})
    >>> mrr_movements(revenue, as_of="2024-06-30")[["month", "mrr_change", "category"]]
           month  mrr_change      category
    0 2024-01-01       100.0           new
    1 2024-02-01        50.0     expansion
    2 2024-03-01      -150.0         churn
    3 2024-04-01        80.0  reactivation
    4 2024-05-01       -80.0         churn
    """
    if is_ibis_table(revenue):  # run in the engine that holds the table
        return engine_revenue.mrr_movements(revenue, as_of=as_of)
    as_of_month = month_index(parse_as_of(as_of))
    rv = _canonical_revenue(revenue, last_month=as_of_month)
    first, month, units = rv.first, rv.month, rv.units
    gap = ~first[1:] & (np.diff(month) != 1)
    if gap.any():
        i = int(np.flatnonzero(gap)[0]) + 1
        months = month_start(month[i - 1:i + 1])
        raise SchemaError(
            f"revenue: account {rv.labels[rv.account[i]]!r} has no row between "
            f"{pd.Timestamp(months[0]):%Y-%m} and {pd.Timestamp(months[1]):%Y-%m}; mrr_movements needs "
            "one row per account and month from the first to the last paid month (gap months with "
            "mrr 0), as monthly_revenue returns"
        )
    n = len(month)
    previous = np.zeros(n, dtype=np.int64)
    previous[1:] = units[:-1]
    previous[first] = 0
    paid = units > 0
    paid_rows = np.flatnonzero(paid)
    first_paid = paid_rows[np.r_[True, np.diff(rv.account[paid_rows]) != 0]] if len(paid_rows) else paid_rows
    del paid_rows
    category = np.full(n, _UNCHANGED, dtype=np.int8)  # assigned from the last rule to the first
    category[units < previous] = _CONTRACTION
    category[units > previous] = _EXPANSION
    category[paid & (previous == 0)] = _REACTIVATION  # paid before: the first paid month is new
    category[~paid & (previous > 0)] = _CHURN
    category[first_paid] = _NEW
    del paid, first_paid

    # an account that stopped paying before the as_of month gets a churn row after its last row
    last = np.flatnonzero(np.r_[first[1:], True]) if n else np.zeros(0, dtype=np.int64)
    last = last[(units[last] > 0) & (month[last] < as_of_month)]
    at = last + 1  # np.insert puts the new rows before these positions
    columns = {
        "account_id": rv.labels.take(np.insert(rv.account, at, rv.account[last])),
        "month": month_start(np.insert(month, at, month[last] + 1)),
    }
    # money columns one at a time, so that few row-sized arrays are alive at once
    out_units = np.insert(units, at, 0)
    columns["mrr"] = out_units / UNITS
    change = np.insert(previous, at, units[last])
    del previous
    columns["previous_mrr"] = change / UNITS
    np.subtract(out_units, change, out=change)
    del out_units
    columns["mrr_change"] = change / UNITS
    del change
    columns["category"] = pd.Categorical.from_codes(np.insert(category, at, _CHURN),
                                                    categories=list(MOVEMENT_CATEGORIES))
    return pd.DataFrame(columns, copy=False)


def arr_bridge(movements: pd.DataFrame, *, freq: str = "M") -> pd.DataFrame:
    """MRR bridge (waterfall) per month, quarter or year from MRR movements.

    Parameters
    ----------
    movements
        As :func:`mrr_movements` returns (needs ``month, previous_mrr, mrr_change, category``).
    freq
        ``"M"`` (calendar months), ``"Q"`` (calendar quarters) or ``"Y"`` (calendar years).

    Returns
    -------
    DataFrame
        ``period, opening_mrr, new, expansion, reactivation, contraction, churn, closing_mrr``,
        one row per period from the first to the last month of ``movements`` (``period`` = first
        day of the period, ``datetime64[ns]``); ``contraction`` and ``churn`` are negative.
        ``attrs["freq"]`` holds ``freq``.

    Notes
    -----
    Each component is the sum of ``mrr_change`` of the rows of that category in the period;
    ``opening_mrr`` of the first period is the MRR of the month before the first month (the sum
    of ``previous_mrr`` there), and each later opening is the previous closing. The sums are exact
    integers (micro-units); ``closing_mrr`` is then computed in floating point as
    ``opening_mrr + new + expansion + reactivation + contraction + churn`` in this order, so that
    the identity holds exactly, also for ``==`` on floats, and ``opening_mrr`` equals the previous
    ``closing_mrr`` exactly. The closing equals the exact total to within float resolution
    (~1e-9 for MRR below a billion). Multiply by 12 for ARR. With several periods, a quarter's
    ``new`` includes an account's new MRR and not its expansion later in that quarter, as in
    ChartMogul.

    Examples
    --------
    >>> mv = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]),
    ...     "previous_mrr": [0.0, 100.0, 0.0], "mrr_change": [100.0, -30.0, 20.0],
    ...     "category": ["new", "contraction", "new"]})
    >>> arr_bridge(mv)[["period", "opening_mrr", "new", "contraction", "closing_mrr"]]
          period  opening_mrr    new  contraction  closing_mrr
    0 2024-01-01          0.0  100.0          0.0        100.0
    1 2024-02-01        100.0   20.0        -30.0         90.0
    """
    if is_ibis_table(movements):  # run in the engine that holds the table
        return engine_revenue.arr_bridge(movements, freq=freq)
    step = months_per_period(freq)
    require_columns(movements, ("month", "previous_mrr", "mrr_change", "category"), table="movements")
    if len(movements) == 0:
        empty = {c: pd.Series([], dtype="float64") for c in _BRIDGE_COLUMNS}
        empty["period"] = pd.Series([], dtype="datetime64[ns]")
        return pd.DataFrame(empty)
    month = _month_numbers(movements["month"], "movements: column 'month'")
    change = to_units(movements["mrr_change"], "movements: column 'mrr_change'", nonnegative=False)
    previous = to_units(movements["previous_mrr"], "movements: column 'previous_mrr'", nonnegative=True)
    category = _category_codes(movements["category"])
    period = month // step
    period0 = int(period.min())
    n_periods = int(period.max()) - period0 + 1
    flat = np.zeros(n_periods * 6, dtype=np.int64)
    np.add.at(flat, (period - period0) * 6 + category, change)
    sums = flat.reshape(n_periods, 6)
    if sums[:, _UNCHANGED].any():
        raise SchemaError(
            "movements: rows with category 'unchanged' must have mrr_change 0; recompute the "
            "categories with mrr_movements"
        )
    parts = sums[:, :_UNCHANGED] / UNITS
    opening = np.empty(n_periods)
    closing = np.empty(n_periods)
    level = float(previous[month == month.min()].sum() / UNITS)
    for i, (new, expansion, reactivation, contraction, churn) in enumerate(parts.tolist()):
        opening[i] = level
        level = level + new + expansion + reactivation + contraction + churn
        closing[i] = level
    frame = pd.DataFrame(parts, columns=_BRIDGE_COLUMNS[2:7])
    frame.insert(0, "period", month_start((np.arange(n_periods) + period0) * step))
    frame.insert(1, "opening_mrr", opening)
    frame["closing_mrr"] = closing
    frame.attrs["freq"] = freq  # read by plot_arr_bridge for its title
    return frame


def revenue_churn(bridge: pd.DataFrame, *, net_of_reactivation: bool = True) -> pd.DataFrame:
    """Gross and net MRR churn rate per period of an ARR bridge (ChartMogul definitions).

    Parameters
    ----------
    bridge
        As :func:`arr_bridge` returns; the rates are per period of the bridge (monthly for
        ``freq="M"``, quarterly for ``"Q"``).
    net_of_reactivation
        ``True`` (default, ChartMogul): reactivation MRR offsets churn in the net rate. ``False``
        (Baremetrics): only expansion offsets it.

    Returns
    -------
    DataFrame
        ``period, opening_mrr, lost_mrr, gained_mrr, gross_churn_rate, net_churn_rate`` with
        ``lost_mrr = -(churn + contraction)`` and ``gained_mrr`` = expansion (+ reactivation).
        Rates are NaN for a period with ``opening_mrr`` 0 (undefined).

    Notes
    -----
    Gross MRR churn = (churn + contraction MRR) / MRR at the start of the period; net MRR churn =
    [(churn + contraction) - (expansion + reactivation)] / MRR at the start (negative = net
    expansion). ChartMogul help centre, "MRR churn rate" (Standard/B2B variant); Baremetrics
    changelog for the variant without reactivation.

    Examples
    --------
    >>> b = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"]), "opening_mrr": [1000.0],
    ...     "new": [50.0], "expansion": [30.0], "reactivation": [20.0], "contraction": [-10.0],
    ...     "churn": [-40.0], "closing_mrr": [1050.0]})
    >>> revenue_churn(b)[["gross_churn_rate", "net_churn_rate"]]
       gross_churn_rate  net_churn_rate
    0              0.05             0.0
    """
    require_columns(bridge, tuple(_BRIDGE_COLUMNS), table="bridge")
    lost = -(bridge["churn"] + bridge["contraction"])
    gained = bridge["expansion"] + (bridge["reactivation"] if net_of_reactivation else 0.0)
    opening = bridge["opening_mrr"].where(bridge["opening_mrr"] != 0)
    return pd.DataFrame(
        {
            "period": bridge["period"],
            "opening_mrr": bridge["opening_mrr"],
            "lost_mrr": lost,
            "gained_mrr": gained,
            "gross_churn_rate": lost / opening,
            "net_churn_rate": (lost - gained) / opening,
        }
    ).reset_index(drop=True)


def quick_ratio(bridge: pd.DataFrame, *, include_reactivation: bool = False) -> pd.DataFrame:
    """SaaS quick ratio per period of an ARR bridge (Baremetrics).

    Parameters
    ----------
    bridge
        As :func:`arr_bridge` returns.
    include_reactivation
        ``False`` (default, Baremetrics): gained MRR = new + expansion. ``True``: also add
        reactivation (a common variant).

    Returns
    -------
    DataFrame
        ``period, gained_mrr, lost_mrr, quick_ratio`` with ``lost_mrr = -(contraction + churn)``;
        ``quick_ratio`` is NaN when nothing was lost (undefined).

    Notes
    -----
    Quick ratio = (new + expansion MRR) / (contraction + churned MRR); above 4 is usually read as
    efficient growth, below 1 as shrinking. Baremetrics, "Quick Ratio".

    Examples
    --------
    >>> b = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"]), "opening_mrr": [1000.0],
    ...     "new": [50.0], "expansion": [30.0], "reactivation": [20.0], "contraction": [-10.0],
    ...     "churn": [-30.0], "closing_mrr": [1060.0]})
    >>> float(quick_ratio(b).quick_ratio.iloc[0])  # (50 + 30) / (10 + 30)
    2.0
    """
    require_columns(bridge, tuple(_BRIDGE_COLUMNS), table="bridge")
    gained = bridge["new"] + bridge["expansion"]
    if include_reactivation:
        gained = gained + bridge["reactivation"]
    lost = -(bridge["contraction"] + bridge["churn"])
    return pd.DataFrame(
        {
            "period": bridge["period"],
            "gained_mrr": gained,
            "lost_mrr": lost,
            "quick_ratio": gained / lost.where(lost != 0),
        }
    ).reset_index(drop=True)




def _period_label(period: pd.Timestamp, step: int) -> str:
    if step == 12:
        return f"{period:%Y}"
    if step == 3:
        return f"{period:%Y} Q{(period.month - 1) // 3 + 1}"
    return f"{period:%b %Y}"


def arr_growth_rate(revenue: pd.DataFrame, *, as_of, window_months: int = 12) -> float:
    """ARR growth over ``window_months``: total MRR in the month of ``as_of`` over the total then.

    Parameters
    ----------
    revenue
        As returned by :func:`feedback_lib.monthly_revenue`: ``account_id, month, mrr``.
    as_of
        Last day included; its calendar month is "now".
    window_months
        Look-back in months (12 = year-on-year growth).

    Returns
    -------
    float
        ``sum(mrr in month(as_of)) / sum(mrr in month(as_of) - window_months) - 1``.

    Examples
    --------
    >>> rev = pd.DataFrame({"account_id": ["a", "a", "b"], "mrr": [100.0, 120.0, 30.0],
    ...                     "month": pd.to_datetime(["2025-09-01", "2026-09-01", "2026-09-01"])})
    >>> round(arr_growth_rate(rev, as_of="2026-09-30"), 2)  # 150 / 100 - 1
    0.5
    """
    if int(window_months) != window_months or window_months < 1:
        raise ParameterError(f"arr_growth_rate: window_months must be a whole number >= 1, got {window_months!r}")
    require_columns(revenue, ("month", "mrr"), table="revenue", where="arr_growth_rate")
    now = parse_as_of(as_of, where="arr_growth_rate").to_period("M")
    then = now - int(window_months)
    months = pd.to_datetime(revenue["month"]).dt.to_period("M")
    start = float(revenue.loc[months == then, "mrr"].sum())
    if start <= 0:
        raise InsufficientDataError(
            f"arr_growth_rate: no MRR in {then} ({window_months} months before {now}); "
            "choose a later as_of or a shorter window"
        )
    return float(revenue.loc[months == now, "mrr"].sum()) / start - 1.0
