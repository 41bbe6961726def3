"""The analyst's workbench in JupyterLab: filters, interactive charts and drill-downs.

``Explorer(data, as_of=...)`` builds ipywidgets filters (segment, plan, region, date range), plotly
``FigureWidget`` charts (NPS trend, MRR bridge, cohorts, survival) and sortable, searchable
``itables`` tables; clicking a bar or a cell shows the accounts or responses behind it, from the
library's drill-downs (:func:`feedback_lib.bridge_accounts`, :func:`feedback_lib.nps_responses`,
:func:`feedback_lib.cohort_accounts`). Everything runs offline: plotly.js and DataTables come
bundled with the widgets, nothing is fetched from a CDN. The static reports do not use this module.

Needs the ``explore`` extra (``pip install feedback_lib[explore]``: plotly, ipywidgets, itables,
anywidget); imported only by the exploratory notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from feedback_lib.churn import KaplanMeierResult
from feedback_lib.revenue import (
    arr_bridge,
    bridge_accounts,
    cohort_accounts,
    cohort_retention,
    monthly_revenue,
    mrr_movements,
)
from feedback_lib.survey import nps_responses, nps_table

__all__ = ["Explorer", "FilteredData", "bridge_figure", "cohort_figure", "filter_data", "km_figure",
           "nps_figure"]

COMPONENTS = ("new", "expansion", "reactivation", "contraction", "churn")
_COLOURS = {"new": "#2a9d8f", "expansion": "#8ab17d", "reactivation": "#e9c46a",
            "contraction": "#f4a261", "churn": "#e76f51"}
ALL = "(all)"


@dataclass(frozen=True)
class FilteredData:
    """The accounts, subscriptions and responses left by :func:`filter_data`."""

    accounts: pd.DataFrame
    subscriptions: pd.DataFrame
    responses: pd.DataFrame


def filter_data(data, *, segment: str | None = None, plan: str | None = None, region: str | None = None,
                start: str | date | None = None, end: str | date | None = None) -> FilteredData:
    """Restrict a dataset to a segment, plan and region, and its responses to a date range.

    Parameters
    ----------
    data
        Anything with ``accounts``, ``subscriptions`` and ``responses`` frames (a ``Dataset``).
    segment, region
        Keep the accounts of this ``accounts.segment`` / ``accounts.region``; ``None`` or
        ``"(all)"`` keeps all.
    plan
        Keep the subscriptions of this ``subscriptions.plan`` (and the accounts that have one).
    start, end
        Keep the responses answered from ``start`` to ``end`` (inclusive). Revenue keeps its
        whole history, so that MRR movements stay right; pick the bridge periods to look at instead.

    Returns
    -------
    FilteredData

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["a", "b"], "segment": ["SMB", "Enterprise"], "region": ["EU", "EU"]})
    >>> subs = pd.DataFrame({"account_id": ["a", "b"], "plan": ["Pro", "Pro"]})
    >>> resp = pd.DataFrame({"account_id": ["a", "b"], "responded_at": pd.to_datetime(["2026-01-05", "2026-03-01"])})
    >>> f = filter_data(type("D", (), dict(accounts=acc, subscriptions=subs, responses=resp)), segment="SMB")
    >>> f.accounts["account_id"].tolist(), f.responses["account_id"].tolist()
    (['a'], ['a'])
    """
    accounts = data.accounts
    for column, value in (("segment", segment), ("region", region)):
        if value not in (None, "", ALL):
            accounts = accounts[accounts[column] == value]
    subscriptions = data.subscriptions[data.subscriptions["account_id"].isin(accounts["account_id"])]
    if plan not in (None, "", ALL):
        subscriptions = subscriptions[subscriptions["plan"] == plan]
        accounts = accounts[accounts["account_id"].isin(subscriptions["account_id"])]
    responses = data.responses[data.responses["account_id"].isin(accounts["account_id"])]
    if start is not None:
        responses = responses[responses["responded_at"] >= pd.Timestamp(start)]
    if end is not None:
        responses = responses[responses["responded_at"] < pd.Timestamp(end) + pd.Timedelta(days=1)]
    return FilteredData(accounts.reset_index(drop=True), subscriptions.reset_index(drop=True),
                        responses.reset_index(drop=True))


def bridge_figure(bridge: pd.DataFrame):
    """Stacked MRR bridge: one bar per component and period (hover: the MRR), closing MRR as a line.

    Examples
    --------
    >>> b = pd.DataFrame({"period": pd.to_datetime(["2026-01-01"]), "opening_mrr": [100.0], "new": [20.0],
    ...     "expansion": [5.0], "reactivation": [0.0], "contraction": [-3.0], "churn": [-10.0],
    ...     "closing_mrr": [112.0]})
    >>> [t.name for t in bridge_figure(b).data]
    ['new', 'expansion', 'reactivation', 'contraction', 'churn', 'net change']
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    x = _dates(bridge["period"])
    for c in COMPONENTS:
        fig.add_bar(x=x, y=bridge[c], name=c, marker_color=_COLOURS[c],
                    hovertemplate="%{x|%b %Y} " + c + ": %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=x, y=bridge["closing_mrr"] - bridge["opening_mrr"], name="net change",
                    mode="lines+markers", line=dict(color="#264653"),
                    customdata=bridge["closing_mrr"], hovertemplate="%{x|%b %Y} net %{y:+,.0f}, closing MRR %{customdata:,.0f}"
                    "<extra></extra>")
    fig.update_layout(barmode="relative", title="MRR bridge: click a bar for the accounts behind it",
                      yaxis_title="MRR change", legend_orientation="h", height=420, margin=dict(t=60, b=40))
    return fig


def nps_figure(table: pd.DataFrame):
    """NPS per period with its interval as a band (hover: NPS, interval and n).

    Examples
    --------
    >>> t = pd.DataFrame({"period": pd.to_datetime(["2026-01-05", "2026-01-12"]), "nps": [20.0, 10.0],
    ...     "ci_low": [5.0, -4.0], "ci_high": [35.0, 24.0], "n": [60, 55]})
    >>> len(nps_figure(t).data)
    3
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    x = _dates(table["period"])
    fig.add_scatter(x=x, y=table["ci_high"], mode="lines", line_width=0, showlegend=False,
                    hoverinfo="skip")
    fig.add_scatter(x=x, y=table["ci_low"], mode="lines", line_width=0, fill="tonexty",
                    fillcolor="rgba(42,157,143,0.2)", name="95% interval", hoverinfo="skip")
    fig.add_scatter(x=x, y=table["nps"], mode="lines+markers", name="NPS",
                    customdata=np.c_[table["ci_low"], table["ci_high"], table["n"]],
                    hovertemplate="%{x|%d %b %Y}: NPS %{y:+.0f} (%{customdata[0]:+.0f} to %{customdata[1]:+.0f},"
                    " n=%{customdata[2]:,.0f})<extra></extra>")
    fig.update_layout(title="NPS: click a point for its responses", yaxis_title="NPS", height=380,
                      margin=dict(t=60, b=40))
    return fig


def cohort_figure(cohorts: pd.DataFrame, *, value: str = "share"):
    """Cohort triangle as a heatmap of ``value`` (``share`` or ``mrr_retention``) by cohort and age."""
    import plotly.graph_objects as go

    grid = cohorts.pivot(index="cohort", columns="period_index", values=value)
    z = [[None if np.isnan(v) else float(v) for v in row] for row in grid.to_numpy(dtype=float)]  # JSON: no NaN
    fig = go.Figure(go.Heatmap(z=z, x=grid.columns.to_numpy(), y=grid.index.strftime("%Y-%m"),
                               colorscale="Teal", zmin=0, hovertemplate="cohort %{y}, period %{x}: %{z:.0%}"
                               "<extra></extra>"))
    label = "logo retention" if value == "share" else "MRR retention"
    fig.update_layout(title=f"Cohort {label}: click a cell for its accounts", xaxis_title="periods since first payment",
                      yaxis_autorange="reversed", height=460, margin=dict(t=60, b=40))
    return fig


def km_figure(km: KaplanMeierResult):
    """Kaplan-Meier curves (step lines, hover: survival, interval, at risk) from :func:`feedback_lib.kaplan_meier`."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for group, g in km.curves.groupby("group", sort=False):
        fig.add_scatter(x=g["time"], y=g["survival"], mode="lines", line_shape="hv", name=str(group),
                        customdata=np.c_[g["ci_low"], g["ci_high"], g["at_risk"]],
                        hovertemplate=f"{group}: " + "month %{x}: %{y:.0%} (%{customdata[0]:.0%} to "
                        "%{customdata[1]:.0%}), %{customdata[2]} at risk<extra></extra>")
    fig.update_layout(title=f"Kaplan-Meier survival ({km.confidence:.0%} {km.conf_type} bands)",
                      xaxis_title="months since first payment", yaxis_title="share still paying",
                      yaxis_range=[0, 1.02], height=400, margin=dict(t=60, b=40))
    return fig


class Explorer:
    """Filters, charts and drill-downs over one dataset, as ipywidgets (``display(explorer.widget)``).

    Parameters
    ----------
    data
        A ``Dataset`` (``load_report_data`` or ``load_dataset``); ``responses`` may carry a
        ``segment`` column already.
    as_of
        Last day of history.
    freq
        Period of the NPS trend: ``"W"`` or ``"M"``.
    months
        Months of the bridge shown.
    tab
        Tab shown first: ``"nps"``, ``"bridge"`` or ``"cohorts"``.

    Attributes
    ----------
    filtered_ : FilteredData
        The data after the current filters.
    selection_ : DataFrame
        Rows behind the last clicked bar, point or cell.
    selection_title_ : str
        What they are behind.
    """

    def __init__(self, data, *, as_of: str | date, freq: str = "W", months: int = 12, tab: str = "nps") -> None:
        import ipywidgets as w
        import plotly.graph_objects as go

        self.data, self.as_of, self.freq, self.months = data, pd.Timestamp(as_of), freq, months
        options = {c: [ALL, *sorted(map(str, frame[c].dropna().unique()))] for c, frame in
                   (("segment", data.accounts), ("region", data.accounts), ("plan", data.subscriptions))}
        self.controls = {c: w.Dropdown(options=o, value=ALL, description=c) for c, o in options.items()}
        self.controls["start"] = w.DatePicker(description="from", value=(self.as_of - pd.DateOffset(months=6)).date())
        self.controls["end"] = w.DatePicker(description="to", value=self.as_of.date())
        self.bridge_fig, self.nps_fig, self.cohort_fig = go.FigureWidget(), go.FigureWidget(), go.FigureWidget()
        self.table = w.Output()
        self.title = w.HTML()
        for control in self.controls.values():
            control.observe(lambda _change: self.refresh(), names="value")
        self.selection_, self.selection_title_ = pd.DataFrame(), ""
        self.refresh()
        tabs = w.Tab(children=[self.nps_fig, self.bridge_fig, self.cohort_fig])
        for i, name in enumerate(("NPS trend", "MRR bridge", "Cohorts")):
            tabs.set_title(i, name)
        tabs.selected_index = ("nps", "bridge", "cohorts").index(tab)
        self.widget = w.VBox([w.HBox(list(self.controls.values())[:3]), w.HBox(list(self.controls.values())[3:]),
                              tabs, self.title, self.table])

    def refresh(self) -> None:
        """Recompute every chart for the current filters (called when a filter changes)."""
        v = {k: c.value for k, c in self.controls.items()}
        self.filtered_ = filter_data(self.data, segment=v["segment"], plan=v["plan"], region=v["region"],
                                     start=v["start"], end=v["end"])
        self.revenue_ = monthly_revenue(self.filtered_.subscriptions, as_of=self.as_of)
        self.movements_ = mrr_movements(self.revenue_, as_of=self.as_of)
        self.bridge_ = arr_bridge(self.movements_, freq="M").tail(self.months).reset_index(drop=True)
        self.nps_ = _quiet(nps_table, self.filtered_.responses, freq=self.freq)
        self.cohorts_ = cohort_retention(self.revenue_, as_of=self.as_of, freq="Q")
        _replace(self.bridge_fig, bridge_figure(self.bridge_))
        _replace(self.nps_fig, nps_figure(self.nps_))
        _replace(self.cohort_fig, cohort_figure(self.cohorts_))
        for trace, category in zip(self.bridge_fig.data, COMPONENTS):
            trace.on_click(lambda _t, points, _s, category=category: points.point_inds and self.drill_bridge(
                self.bridge_["period"].iloc[points.point_inds[0]], category))
        self.nps_fig.data[2].on_click(lambda _t, points, _s: points.point_inds and self.drill_nps(
            self.nps_["period"].iloc[points.point_inds[0]]))
        self.cohort_fig.data[0].on_click(lambda _t, points, _s: points.xs and self.drill_cohort(
            pd.Timestamp(points.ys[0] + "-01"), int(points.xs[0])))

    def drill_bridge(self, period, category: str) -> pd.DataFrame:
        """The accounts behind one bar of the bridge (also what a click on it shows)."""
        rows = bridge_accounts(self.movements_, period=period, category=category, accounts=self.filtered_.accounts)
        total = rows.attrs["total_mrr_change"]
        return self._show(rows, f"{category} in {pd.Timestamp(period):%b %Y}: {_count(len(rows), 'account')}, "
                                f"{total:+,.0f} MRR")

    def drill_nps(self, period) -> pd.DataFrame:
        """The responses behind one point of the NPS trend."""
        rows = nps_responses(self.filtered_.responses, period=period, freq=self.freq, accounts=self.filtered_.accounts)
        detractors = int((rows["category"] == "detractor").sum())
        return self._show(rows, f"{_count(len(rows), 'response')} in the period of {pd.Timestamp(period):%d %b %Y}, "
                                f"{_count(detractors, 'detractor')}")

    def drill_cohort(self, cohort, period_index: int) -> pd.DataFrame:
        """The accounts of one cohort cell (quarterly cohorts)."""
        rows = cohort_accounts(self.revenue_, cohort=cohort, period_index=period_index, as_of=self.as_of, freq="Q",
                               accounts=self.filtered_.accounts)
        return self._show(rows, f"cohort {pd.Timestamp(cohort):%Y-%m}, period {period_index}: "
                                f"{int(rows['retained'].sum()):,} of {len(rows):,} accounts still paying")

    def _show(self, rows: pd.DataFrame, title: str) -> pd.DataFrame:
        self.selection_, self.selection_title_ = rows, title
        self.title.value = f"<b>{title}</b>"
        self.table.clear_output()
        with self.table:
            from IPython.display import display

            display(interactive_table(rows))
        return rows


def interactive_table(frame: pd.DataFrame, **options: Any):
    """A sortable, searchable table widget (itables ``ITable``, offline) of ``frame``."""
    from itables.widget import ITable

    return ITable(frame, pageLength=10, **options)


def _count(n: int, noun: str) -> str:
    """``"1 response"``, ``"2,013 responses"``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _dates(column: pd.Series) -> list[str]:
    """ISO dates for plotly (a FigureWidget would send datetime64 values as nanosecond integers)."""
    return pd.to_datetime(column).dt.strftime("%Y-%m-%d").tolist()


def _replace(widget, fig) -> None:
    with widget.batch_update():
        widget.data = []
        widget.add_traces(fig.data)
        widget.layout = fig.layout


def _quiet(func, *args, **kwargs):
    import warnings

    from feedback_lib.errors import SmallSampleWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # the table carries small_sample per row
        return func(*args, **kwargs)
