"""Board-readable NPS charts: the trend with its interval band, and the control chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib.survey.periods import TABLE_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_control_chart", "plot_nps_trend"]

_Y_LABEL = "NPS (points, -100 to 100)"


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 4.5))[1]


def _period_label(freq: str | None) -> str:
    return {"W": "Week starting", "M": "Month", "Q": "Quarter starting", "Y": "Year"}.get(
        freq or "", "Period starting")


def plot_nps_trend(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Plot NPS per period with its confidence band; one line per group.

    Parameters
    ----------
    table
        Output of :func:`~feedback_lib.survey.periods.nps_table` (columns ``period``, ``nps``,
        ``ci_low``, ``ci_high``, ``small_sample``; any other non-standard columns are groups).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    Axes
        Periods on x, NPS points on y, the interval as a shaded band; rows with a small sample
        are drawn as hollow markers.

    Examples
    --------
    >>> t = pd.DataFrame({"period": pd.to_datetime(["2025-06-02", "2025-06-09"]),
    ...                   "nps": [30.0, 17.0], "ci_low": [15.0, 2.0], "ci_high": [45.0, 32.0],
    ...                   "small_sample": [False, True]})
    >>> plot_nps_trend(t).get_ylabel()
    'NPS (points, -100 to 100)'
    """
    require_columns(table, ["period", "nps", "ci_low", "ci_high", "small_sample"], table="NPS table")
    ax = _axes(ax)
    groups = [c for c in table.columns if c not in TABLE_COLUMNS]
    parts = table.groupby(groups, dropna=False, sort=True) if groups else [((), table)]
    for key, part in parts:
        label = " / ".join(map(str, key if isinstance(key, tuple) else (key,))) or "NPS"
        line, = ax.plot(part["period"], part["nps"], marker="o", label=label)
        ax.fill_between(part["period"], part["ci_low"], part["ci_high"], color=line.get_color(),
                        alpha=0.15, linewidth=0)
        small = part["small_sample"].to_numpy(dtype=bool)
        ax.plot(part["period"][small], part["nps"][small], linestyle="none", marker="o",
                markerfacecolor="white", markeredgecolor=line.get_color())
    confidence = table.attrs.get("confidence")
    band = f"{confidence:.0%} interval" if confidence else "interval"
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(_period_label(table.attrs.get("freq")))
    ax.set_ylabel(_Y_LABEL)
    ax.set_title(f"Net Promoter Score (band: {band}; hollow: small sample)")
    if groups:
        ax.legend(title=" / ".join(groups), frameon=False)
    return ax


def plot_control_chart(chart: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Plot NPS per period against its centre line and control limits; flagged periods in red.

    Parameters
    ----------
    chart
        Output of :func:`~feedback_lib.survey.periods.nps_control_chart`.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    Axes

    Examples
    --------
    >>> c = pd.DataFrame({"period": pd.to_datetime(["2025-06-02", "2025-06-09"]),
    ...                   "nps": [30.0, -10.0], "centre": [28.0, 29.0], "lower_limit": [10.0, 12.0],
    ...                   "upper_limit": [46.0, 46.0], "flagged": [False, True]})
    >>> plot_control_chart(c).get_title()
    'NPS control chart: 1 period outside the limits'
    """
    require_columns(chart, ["period", "nps", "centre", "lower_limit", "upper_limit", "flagged"], table="control chart")
    ax = _axes(ax)
    ax.fill_between(chart["period"], chart["lower_limit"], chart["upper_limit"], step="mid",
                    color="tab:blue", alpha=0.12, linewidth=0, label="control limits")
    ax.step(chart["period"], chart["centre"], where="mid", color="tab:blue", linestyle="--",
            linewidth=1, label="centre (trailing baseline)")
    ax.plot(chart["period"], chart["nps"], marker="o", color="black", linewidth=1, label="NPS")
    flagged = chart["flagged"].to_numpy(dtype=bool)
    ax.plot(chart["period"][flagged], chart["nps"][flagged], linestyle="none", marker="o",
            markersize=10, color="tab:red", label="outside limits")
    ax.set_xlabel("Period starting")
    ax.set_ylabel(_Y_LABEL)
    count = int(flagged.sum())
    ax.set_title(f"NPS control chart: {count} period{'' if count == 1 else 's'} outside the limits")
    ax.legend(frameon=False, loc="best")
    return ax
