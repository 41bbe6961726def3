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

from ._revenue_frame import (
    _UNITS,
    _as_of_timestamp,
    _canonical_revenue,
    _datetimes,
    _month_number,
    _month_numbers,
    _month_of_dates,
    _months_to_datetime,
    _require_columns,
    _rows,
    _sorted_codes,
    _units,
)
from .errors import FeedbackLibError, ParameterError

if TYPE_CHECKING:
    from datetime import date

    from matplotlib.axes import Axes

__all__ = [
    "MOVEMENT_CATEGORIES",
    "monthly_revenue",
    "mrr_movements",
    "arr_bridge",
    "revenue_churn",
    "quick_ratio",
    "plot_arr_bridge",
]

#: Movement categories in bridge order (``mrr_movements`` returns them as a categorical).
MOVEMENT_CATEGORIES: tuple[str, ...] = (
    "new", "expansion", "reactivation", "contraction", "churn", "unchanged",
)
_NEW, _EXPANSION, _REACTIVATION, _CONTRACTION, _CHURN, _UNCHANGED = range(6)
_FREQ_MONTHS = {"M": 1, "Q": 3, "Y": 12}
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
        raise FeedbackLibError(
            f"movements: column 'category' has unknown value(s) {bad}; expected one of "
            f"{list(MOVEMENT_CATEGORIES)} (as mrr_movements returns)"
        )
    return codes.astype(np.int64)


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

    Per subscription the first and last counted months are computed with numpy; MRR steps
    (+mrr at the first month, -mrr after the last) are added into one array per account-month
    and cumulated, which fills gap months with 0 without a loop over accounts.

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
    _require_columns(subscriptions, ("account_id", "start_date", "end_date", "mrr"), "subscriptions")
    as_of_ts = _as_of_timestamp(as_of)
    as_of_month = _month_number(as_of_ts)
    start = _datetimes(subscriptions["start_date"], "subscriptions: column 'start_date'")
    end = _datetimes(subscriptions["end_date"], "subscriptions: column 'end_date'")
    if np.isnat(start).any():
        bad = np.isnat(start)
        raise FeedbackLibError(
            f"subscriptions: column 'start_date' has {bad.sum()} empty value(s) (rows {_rows(bad)}); "
            "every subscription needs a start date"
        )
    units = _units(subscriptions["mrr"], "subscriptions: column 'mrr'", nonnegative=True)
    next_day = np.datetime64(as_of_ts + pd.Timedelta(days=1))  # dates are compared by day
    running = np.isnat(end)
    first = _month_of_dates(start)
    end_month = _month_of_dates(end)
    last = np.where(running | (end >= next_day), as_of_month, end_month - 1)
    keep = np.flatnonzero((start < next_day) & (units > 0) & (last >= first))
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
            "mrr": mrr / _UNITS,
        },
        copy=False,
    )


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
    as_of_month = _month_number(_as_of_timestamp(as_of))
    rv = _canonical_revenue(revenue, last_month=as_of_month)
    first, month, units = rv.first, rv.month, rv.units
    gap = ~first[1:] & (np.diff(month) != 1)
    if gap.any():
        i = int(np.flatnonzero(gap)[0]) + 1
        months = _months_to_datetime(month[i - 1:i + 1])
        raise FeedbackLibError(
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
        "month": _months_to_datetime(np.insert(month, at, month[last] + 1)),
    }
    # money columns one at a time, so that few row-sized arrays are alive at once
    out_units = np.insert(units, at, 0)
    columns["mrr"] = out_units / _UNITS
    change = np.insert(previous, at, units[last])
    del previous
    columns["previous_mrr"] = change / _UNITS
    np.subtract(out_units, change, out=change)
    del out_units
    columns["mrr_change"] = change / _UNITS
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
    if freq not in _FREQ_MONTHS:
        raise ParameterError(f"freq={freq!r} is not supported; use 'M' (month), 'Q' (quarter) or 'Y' (year)")
    _require_columns(movements, ("month", "previous_mrr", "mrr_change", "category"), "movements")
    if len(movements) == 0:
        empty = {c: pd.Series([], dtype="float64") for c in _BRIDGE_COLUMNS}
        empty["period"] = pd.Series([], dtype="datetime64[ns]")
        return pd.DataFrame(empty)
    month = _month_numbers(movements["month"], "movements: column 'month'")
    change = _units(movements["mrr_change"], "movements: column 'mrr_change'", nonnegative=False)
    previous = _units(movements["previous_mrr"], "movements: column 'previous_mrr'", nonnegative=True)
    category = _category_codes(movements["category"])
    step = _FREQ_MONTHS[freq]
    period = month // step
    period0 = int(period.min())
    n_periods = int(period.max()) - period0 + 1
    sums = np.zeros(n_periods * 6, dtype=np.int64)
    np.add.at(sums, (period - period0) * 6 + category, change)
    sums = sums.reshape(n_periods, 6)
    if sums[:, _UNCHANGED].any():
        raise FeedbackLibError(
            "movements: rows with category 'unchanged' must have mrr_change 0; recompute the "
            "categories with mrr_movements"
        )
    parts = sums[:, :_UNCHANGED] / _UNITS
    opening = np.empty(n_periods)
    closing = np.empty(n_periods)
    level = float(previous[month == month.min()].sum() / _UNITS)
    for i, (new, expansion, reactivation, contraction, churn) in enumerate(parts.tolist()):
        opening[i] = level
        level = level + new + expansion + reactivation + contraction + churn
        closing[i] = level
    frame = pd.DataFrame(parts, columns=_BRIDGE_COLUMNS[2:7])
    frame.insert(0, "period", _months_to_datetime((np.arange(n_periods) + period0) * step))
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
    _require_columns(bridge, tuple(_BRIDGE_COLUMNS), "bridge")
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
    _require_columns(bridge, tuple(_BRIDGE_COLUMNS), "bridge")
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


def _money(value: float, currency: str, *, signed: bool = False) -> str:
    """1234567 -> '1.23M', with an optional currency prefix and sign."""
    sign = ("+" if value > 0 else "\u2212" if value < 0 else "") if signed else ("-" if value < 0 else "")
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{currency}{size / limit:.3g}{suffix}"
    return f"{sign}{currency}{size:,.0f}"


def _period_label(period: pd.Timestamp, step: int) -> str:
    if step == 12:
        return f"{period:%Y}"
    if step == 3:
        return f"{period:%Y} Q{(period.month - 1) // 3 + 1}"
    return f"{period:%b %Y}"


def plot_arr_bridge(
    bridge: pd.DataFrame,
    *,
    ax: Axes | None = None,
    annualise: bool = False,
    currency: str = "",
    freq: str | None = None,
) -> Axes:
    """Waterfall chart of an ARR bridge over all its periods, for a board deck.

    Parameters
    ----------
    bridge
        As :func:`arr_bridge` returns (one or more periods).
    ax
        Axes to draw on; a new figure when ``None``.
    annualise
        ``True`` multiplies by 12 and labels the chart ARR; ``False`` (default) shows MRR.
    currency
        Prefix for the money labels, e.g. ``"$"`` or ``"EUR "``.
    freq
        Period length of ``bridge`` (``"M"``, ``"Q"``, ``"Y"``) for the title; ``None`` takes
        ``bridge.attrs["freq"]`` (set by :func:`arr_bridge`), else infers it from the spacing of
        the periods (months for a single period).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Bars: opening MRR of the first period, the sums of new, expansion and reactivation (green),
    contraction and churn (red), and the closing MRR of the last period, each labelled with its
    amount.

    Examples
    --------
    >>> b = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"]), "opening_mrr": [1000.0],
    ...     "new": [50.0], "expansion": [30.0], "reactivation": [20.0], "contraction": [-10.0],
    ...     "churn": [-30.0], "closing_mrr": [1060.0]})
    >>> ax = plot_arr_bridge(b, currency="$")
    >>> [t.get_text() for t in ax.get_xticklabels()][:2]
    ['Opening\\nMRR', 'New']
    """
    _require_columns(bridge, tuple(_BRIDGE_COLUMNS), "bridge")
    if len(bridge) == 0:
        raise FeedbackLibError("bridge is empty; nothing to plot (no revenue before as_of?)")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 5))
    scale, unit = (12.0, "ARR") if annualise else (1.0, "MRR")
    names = ["new", "expansion", "reactivation", "contraction", "churn"]
    moves = [float(bridge[c].sum()) * scale for c in names]
    opening = float(bridge["opening_mrr"].iloc[0]) * scale
    closing = float(bridge["closing_mrr"].iloc[-1]) * scale
    labels = [f"Opening\n{unit}", "New", "Expansion", "Reactivation", "Contraction", "Churn",
              f"Closing\n{unit}"]
    bottoms, heights, colors = [0.0], [opening], ["#4a5a78"]
    level = opening
    for value in moves:
        bottoms.append(level if value >= 0 else level + value)
        heights.append(abs(value))
        colors.append("#3a9b5c" if value >= 0 else "#c8453b")
        level += value
    bottoms.append(0.0)
    heights.append(closing)
    colors.append("#4a5a78")
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.65)
    tops = [b + h for b, h in zip(bottoms, heights)]
    for i in range(len(labels) - 1):  # connectors between consecutive bars
        y = tops[i] if i == 0 or moves[i - 1] >= 0 else bottoms[i]
        ax.plot([i + 0.33, i + 0.67], [y, y], color="grey", linewidth=0.8)
    texts = [_money(opening, currency), *(_money(v, currency, signed=True) for v in moves),
             _money(closing, currency)]
    for xi, top, text in zip(x, tops, texts):
        ax.annotate(text, (xi, top), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9)
    ax.set_xticks(x, labels)
    ax.tick_params(axis="x", labelsize=9)
    ax.yaxis.set_major_formatter(lambda value, _: _money(value, currency))
    ax.set_ylabel(f"{unit} ({currency.strip()})" if currency.strip() else unit)
    periods = pd.to_datetime(bridge["period"])
    freq = freq if freq is not None else bridge.attrs.get("freq")
    if freq is not None and freq not in _FREQ_MONTHS:
        raise ParameterError(f"freq={freq!r} is not supported; use 'M', 'Q', 'Y' or None (infer)")
    if freq is not None:
        step = _FREQ_MONTHS[freq]
    else:
        step = int(np.diff(periods.dt.year * 12 + periods.dt.month).min()) if len(periods) > 1 else 1
    first, last = _period_label(periods.iloc[0], step), _period_label(periods.iloc[-1], step)
    ax.set_title(f"{unit} bridge, {first}" + (f" to {last}" if last != first else ""))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(0, max(tops) * 1.12 if max(tops) > 0 else 1)
    return ax
