"""Board-readable revenue charts: the ARR bridge waterfall, the cohort heatmap and the Lorenz curve.

Each ``plot_x(table, *, ax=None, ...) -> Axes`` draws on ``ax`` only; matplotlib is imported when a
chart is drawn, not when the library is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import months_per_period
from feedback_lib.errors import InsufficientDataError, ParameterError
from feedback_lib.revenue.movements import _BRIDGE_COLUMNS, _period_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_arr_bridge", "plot_cohort_heatmap", "plot_lorenz"]


def _money(value: float, currency: str, *, signed: bool = False) -> str:
    """1234567 -> '1.23M', with an optional currency prefix and sign."""
    sign = ("+" if value > 0 else "\u2212" if value < 0 else "") if signed else ("-" if value < 0 else "")
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{currency}{size / limit:.3g}{suffix}"
    return f"{sign}{currency}{size:,.0f}"


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
    require_columns(bridge, tuple(_BRIDGE_COLUMNS), table="bridge")
    if len(bridge) == 0:
        raise InsufficientDataError("bridge is empty; nothing to plot (no revenue before as_of?)")
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
    if freq is not None:
        step = months_per_period(freq)
    else:
        step = int(np.diff(periods.dt.year * 12 + periods.dt.month).min()) if len(periods) > 1 else 1
    first, last = _period_label(periods.iloc[0], step), _period_label(periods.iloc[-1], step)
    ax.set_title(f"{unit} bridge, {first}" + (f" to {last}" if last != first else ""))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(0, max(tops) * 1.12 if max(tops) > 0 else 1)
    return ax


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
    require_columns(cohorts, ("cohort", "period_index", "accounts", value), table="cohorts")
    if len(cohorts) == 0:
        raise InsufficientDataError("cohorts is empty; nothing to plot (no paying account before as_of?)")
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
        step = months_per_period(freq)
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


def plot_lorenz(lorenz: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Plot a Lorenz curve with the line of equality, the Gini and the top-20% share.

    Parameters
    ----------
    lorenz
        As :func:`lorenz_curve` returns.
    ax
        Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> curve = pd.DataFrame({"accounts": [0, 1, 2], "account_share": [0.0, 0.5, 1.0],
    ...     "mrr_share": [0.0, 0.25, 1.0]})
    >>> ax = plot_lorenz(curve)
    >>> ax.get_title()
    'Revenue concentration: Gini 0.25, top 20% of accounts hold 30% of MRR'
    """
    require_columns(lorenz, ("account_share", "mrr_share"), table="lorenz")
    if len(lorenz) < 2:
        raise InsufficientDataError("lorenz needs at least 2 rows (from lorenz_curve); nothing to plot")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 6))
    x = lorenz["account_share"].to_numpy(dtype=float)
    y = lorenz["mrr_share"].to_numpy(dtype=float)
    coefficient = 1.0 - float(np.sum(np.diff(x) * (y[1:] + y[:-1])))
    top20 = 1.0 - float(np.interp(0.8, x, y))
    if len(x) > 4000:  # a million points draw slowly and look the same as 4,000
        keep = np.unique(np.r_[np.linspace(0, len(x) - 1, 4000).astype(int), len(x) - 1])
        x, y = x[keep], y[keep]
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="Equal MRR per account")
    ax.plot(x, y, color="#1f4e79", linewidth=2, label="Lorenz curve")
    ax.fill_between(x, y, x, color="#1f4e79", alpha=0.12)
    ax.axvline(0.8, color="#c8453b", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("Share of accounts (smallest first)")
    ax.set_ylabel("Share of MRR")
    ax.set_title(
        f"Revenue concentration: Gini {coefficient:.2f}, top 20% of accounts hold {top20:.0%} of MRR"
    )
    ax.legend(loc="upper left", frameon=False)
    return ax
