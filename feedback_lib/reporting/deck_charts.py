"""Chart data for board slides, drawn natively by python-pptx and, the same data, by matplotlib.

A :class:`ChartData` carries what a finance team needs to restyle or check a chart: categories,
named series of numbers and a number format. :func:`add_native_chart` turns it into a real
PowerPoint chart (bar, stacked bar, line, scatter; a waterfall is a stacked bar whose first
series is an invisible base), :func:`draw_chart` draws the same numbers on a matplotlib ``Axes``
for the PDF. A :class:`TableData` is a native PowerPoint table of text cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from feedback_lib.errors import ReportError

__all__ = ["CHART_KINDS", "ChartData", "TableData", "add_native_chart", "add_native_table", "draw_chart",
           "draw_table", "waterfall_floor", "waterfall_layers"]

CHART_KINDS = ("bar", "stacked_bar", "line", "scatter", "waterfall")
_PALETTE = [(0x1F, 0x5F, 0xA8), (0xE0, 0x8A, 0x1E), (0x6B, 0x8E, 0x23), (0x8E, 0x44, 0xAD), (0x7F, 0x8C, 0x8D)]
_UP, _DOWN, _TOTAL = (0x2E, 0x8B, 0x57), (0xC0, 0x39, 0x2B), (0x1F, 0x5F, 0xA8)


@dataclass(frozen=True)
class ChartData:
    """The numbers behind one native chart.

    Attributes
    ----------
    kind
        One of ``bar``, ``stacked_bar``, ``line``, ``scatter``, ``waterfall``.
    categories
        Category labels (x axis); for ``scatter``, unused (each series has ``x`` values).
    series
        ``[{"name": ..., "values": [...]}, ...]``; ``None`` for a missing value; ``scatter``
        series also carry ``"x"``. A ``waterfall`` has one series: the opening total, the signed
        movements, and the closing total (the first and last categories are totals).
    number_format
        Excel number format of the values (e.g. ``'#,##0,"k"'``, ``'0.0%'``).
    x_title, y_title
        Axis titles (the currency goes in ``y_title`` for money).
    """

    kind: str
    categories: list[str]
    series: list[dict[str, Any]]
    number_format: str = "#,##0"
    x_title: str = ""
    y_title: str = ""
    data_labels: bool = True

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ReportError(f"ChartData: kind {self.kind!r} is not one of {CHART_KINDS}")
        if not self.series:
            raise ReportError("ChartData: a chart needs at least one series")
        for s in self.series:
            values = s.get("values", [])
            if self.kind != "scatter" and len(values) != len(self.categories):
                raise ReportError(f"ChartData: series {s.get('name')!r} has {len(values)} values for "
                                  f"{len(self.categories)} categories")
            bad = [v for v in values if v is not None and not math.isfinite(float(v))]
            if bad:
                raise ReportError(f"ChartData: series {s.get('name')!r} has non-finite values {bad[:3]}")


@dataclass(frozen=True)
class TableData:
    """A native table: ``columns`` (header texts) and ``rows`` (lists of cell texts)."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


def waterfall_layers(values: list[float]) -> tuple[list[float], list[float], list[float], list[float]]:
    """Invisible base, increase, decrease and total heights of a waterfall.

    ``values`` = opening total, movements..., closing total. Each movement floats on the
    running total: an increase starts at the total before it, a decrease ends at the total
    after it.

    Examples
    --------
    >>> waterfall_layers([100.0, 30.0, -20.0, 110.0])
    ([0.0, 100.0, 110.0, 0.0], [0.0, 30.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0], [100.0, 0.0, 0.0, 110.0])
    """
    base, up, down, total = [], [], [], []
    running = 0.0
    last = len(values) - 1
    for i, v in enumerate(values):
        v = float(v)
        if i in (0, last):
            base.append(0.0)
            up.append(0.0)
            down.append(0.0)
            total.append(v)
            running = v
        elif v >= 0:
            base.append(running)
            up.append(v)
            down.append(0.0)
            total.append(0.0)
            running += v
        else:
            running += v
            base.append(running)
            up.append(0.0)
            down.append(-v)
            total.append(0.0)
    return base, up, down, total


def waterfall_floor(values: list[float]) -> float:
    """Where a waterfall's value axis starts: below its lowest level, so that the movements show.

    The lowest running total less half the largest movement, rounded down to two significant
    digits; 0 when that is not positive (the bars then start at zero as usual).

    Examples
    --------
    >>> waterfall_floor([4_000_000.0, 300_000.0, -210_000.0, 4_090_000.0])
    3800000.0
    """
    base, up, down, total = waterfall_layers(values)
    levels = [t for t in total if t] + [b for b, u, d in zip(base, up, down) if u or d]
    moves = [abs(float(v)) for v in values[1:-1]] or [0.0]
    floor = min(levels or [0.0]) - max(moves) / 2
    if floor <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(floor)) - 1)
    return float(math.floor(floor / scale) * scale)


# ---------------------------------------------------------------- PowerPoint


def add_native_chart(slide, chart: ChartData, *, left: float, top: float, width: float, height: float):
    """Add ``chart`` to a python-pptx slide as a native chart (positions in inches); returns the chart."""
    from pptx.chart.data import CategoryChartData, XyChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    data: Any
    if chart.kind == "scatter":
        data = XyChartData()
        for s in chart.series:
            ser = data.add_series(s["name"], number_format=chart.number_format)
            for x, y in zip(s["x"], s["values"]):
                if x is not None and y is not None:
                    ser.add_data_point(float(x), float(y))
        kind = XL_CHART_TYPE.XY_SCATTER
    else:
        data = CategoryChartData(number_format=chart.number_format)
        data.categories = chart.categories
        if chart.kind == "waterfall":
            base, up, down, total = waterfall_layers([float(v) for v in chart.series[0]["values"]])
            for name, values in (("base", base), ("Total", total), ("Increase", up), ("Decrease", down)):
                data.add_series(name, values)
            kind = XL_CHART_TYPE.COLUMN_STACKED
        else:
            for s in chart.series:
                data.add_series(s["name"], [None if v is None else float(v) for v in s["values"]])
            kind = {"bar": XL_CHART_TYPE.COLUMN_CLUSTERED, "stacked_bar": XL_CHART_TYPE.COLUMN_STACKED,
                    "line": XL_CHART_TYPE.LINE_MARKERS}[chart.kind]
    frame = slide.shapes.add_chart(kind, Inches(left), Inches(top), Inches(width), Inches(height), data)
    out = frame.chart
    out.font.size = Pt(12)
    plot = out.plots[0]
    if chart.kind in ("bar", "stacked_bar", "waterfall"):
        plot.gap_width = 60
    if chart.kind == "stacked_bar" or chart.kind == "waterfall":
        plot.overlap = 100
    colours: list[tuple[int, int, int] | None] = [_PALETTE[i % len(_PALETTE)] for i in range(len(plot.series))]
    if chart.kind == "waterfall":
        colours = [None, _TOTAL, _UP, _DOWN]
    for ser, colour in zip(plot.series, colours):
        if colour is None:  # the invisible base of a waterfall
            ser.format.fill.background()
            ser.format.line.fill.background()
            continue
        if chart.kind in ("line", "scatter"):
            ser.format.line.color.rgb = RGBColor(*colour)
            ser.format.line.width = Pt(3.5 if ser.index == 0 and len(chart.series) > 1 else 2)
            ser.smooth = False
            ser.marker.format.fill.solid()
            ser.marker.format.fill.fore_color.rgb = RGBColor(*colour)
            if chart.kind == "scatter":
                ser.format.line.fill.background()
        else:
            ser.format.fill.solid()
            ser.format.fill.fore_color.rgb = RGBColor(*colour)
    if chart.data_labels and chart.kind == "waterfall":  # one label per visible bar, the signed movement
        signed = [float(v) for v in chart.series[0]["values"]]
        for ser in list(plot.series)[1:]:
            for i, v in enumerate(ser.values):
                if v:
                    label = ser.points[i].data_label
                    label.has_text_frame = True
                    edge = i in (0, len(signed) - 1)
                    label.text_frame.text = (("" if edge or signed[i] < 0 else "+")
                                             + _fmt(signed[i], chart.number_format))
                    label.position = XL_LABEL_POSITION.INSIDE_END
    elif chart.data_labels and chart.kind in ("bar", "line"):
        # several lines: label the first (the company, the prediction) only, so labels do not collide
        for ser in list(plot.series)[:1] if chart.kind == "line" else plot.series:
            ser.data_labels.show_value = True
            ser.data_labels.number_format = chart.number_format
            ser.data_labels.number_format_is_linked = False
            ser.data_labels.font.size = Pt(11)
            if chart.kind == "line":
                ser.data_labels.position = XL_LABEL_POSITION.ABOVE
    visible = len(chart.series) > 1 or chart.kind == "waterfall"
    out.has_legend = visible
    if visible:
        out.legend.position = XL_LEGEND_POSITION.BOTTOM
        out.legend.include_in_layout = False
    value_axis = out.value_axis
    if chart.kind == "waterfall":
        value_axis.minimum_scale = waterfall_floor([float(v) for v in chart.series[0]["values"]])
        _hide_legend_entry(out, 0)  # the invisible base
    value_axis.tick_labels.number_format = chart.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    for axis, title in ((out.category_axis, chart.x_title), (value_axis, chart.y_title)):
        if title:
            axis.has_title = True
            axis.axis_title.text_frame.text = title
    return out


def _hide_legend_entry(chart, idx: int) -> None:
    """Delete the legend entry of series ``idx`` (python-pptx has no API for it)."""
    from pptx.oxml.ns import qn

    legend = chart.legend._element
    entry = legend.makeelement(qn("c:legendEntry"), {})
    entry.append(entry.makeelement(qn("c:idx"), {"val": str(idx)}))
    entry.append(entry.makeelement(qn("c:delete"), {"val": "1"}))
    legend.find(qn("c:legendPos")).addnext(entry)


def add_native_table(slide, table: TableData, *, left: float, top: float, width: float, height: float):
    """Add ``table`` as a native PowerPoint table (positions in inches); returns the table."""
    from pptx.util import Inches, Pt

    n_rows = len(table.rows) + 1
    shape = slide.shapes.add_table(n_rows, len(table.columns), Inches(left), Inches(top), Inches(width),
                                   Inches(min(height, 0.4 * n_rows)))
    out = shape.table
    size = 12 if n_rows <= 6 else 10
    longest = [max([len(str(table.columns[j]))] + [len(str(r[j])) for r in table.rows]) for j in range(len(table.columns))]
    weights = [min(max(n, 10), 40) for n in longest]
    for j, w in enumerate(weights):
        out.columns[j].width = Inches(width * w / sum(weights))
    for j, text in enumerate(table.columns):
        out.cell(0, j).text = str(text)
    for i, row in enumerate(table.rows, start=1):
        for j, text in enumerate(row):
            out.cell(i, j).text = str(text)
    for cell in (out.cell(i, j) for i in range(n_rows) for j in range(len(table.columns))):
        for para in cell.text_frame.paragraphs:
            for run in para.runs:
                run.font.size = Pt(size)
    return out


# ---------------------------------------------------------------- matplotlib (PDF)


def _fmt(value: float, number_format: str) -> str:
    if "%" in number_format:
        digits = number_format.split(".")[1].count("0") if "." in number_format else 0
        return f"{value:.{digits}%}"
    from feedback_lib.reporting.display import compact

    return compact(value) if abs(value) >= 1000 else (f"{value:,.1f}" if "0.0" in number_format else f"{value:,.0f}")


def draw_chart(chart: ChartData, *, ax):
    """Draw ``chart`` on a matplotlib ``Axes`` (the PDF twin of :func:`add_native_chart`); returns ``ax``."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter

    colours = [tuple(c / 255 for c in p) for p in _PALETTE]
    x = np.arange(len(chart.categories))
    if chart.kind == "waterfall":
        base, up, down, total = waterfall_layers([float(v) for v in chart.series[0]["values"]])
        bottom = np.array(base)
        for name, values, colour in (("Total", total, _TOTAL), ("Increase", up, _UP), ("Decrease", down, _DOWN)):
            ax.bar(x, values, bottom=bottom, color=tuple(c / 255 for c in colour), label=name, width=0.6)
            bottom = bottom + np.array(values)
        signed = chart.series[0]["values"]
        for i, v in enumerate(signed):
            sign = "+" if 0 < i < len(signed) - 1 and v >= 0 else ""
            ax.text(i, bottom[i], sign + _fmt(float(v), chart.number_format), ha="center", va="bottom", fontsize=9)
        ax.set_ylim(bottom=waterfall_floor([float(v) for v in chart.series[0]["values"]]))
    elif chart.kind in ("bar", "stacked_bar"):
        k = len(chart.series)
        width = 0.8 / (1 if chart.kind == "stacked_bar" else k)
        bottom = np.zeros(len(x))
        for i, s in enumerate(chart.series):
            bar_values = np.array([np.nan if v is None else float(v) for v in s["values"]])
            if chart.kind == "stacked_bar":
                ax.bar(x, np.nan_to_num(bar_values), bottom=bottom, width=width, color=colours[i % 5], label=s["name"])
                bottom = bottom + np.nan_to_num(bar_values)
            else:
                pos = x - 0.4 + width * (i + 0.5)
                ax.bar(pos, bar_values, width=width, color=colours[i % 5], label=s["name"])
                for p, v in zip(pos, bar_values):
                    if np.isfinite(v):
                        ax.text(p, v, _fmt(v, chart.number_format), ha="center", va="bottom", fontsize=8)
    elif chart.kind == "line":
        for i, s in enumerate(chart.series):
            values = [np.nan if v is None else float(v) for v in s["values"]]
            ax.plot(x, values, marker="o", color=colours[i % 5], label=s["name"])
    else:
        for i, s in enumerate(chart.series):
            ax.scatter(s["x"], s["values"], color=colours[i % 5], label=s["name"])
    if chart.kind != "scatter":
        ax.set_xticks(x, chart.categories, fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _fmt(v, chart.number_format)))
    ax.set_xlabel(chart.x_title)
    ax.set_ylabel(chart.y_title)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(chart.series) > 1 or chart.kind == "waterfall":
        ax.legend(frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    return ax


def draw_table(table: TableData, *, ax):
    """Draw ``table`` on a matplotlib ``Axes`` (the PDF twin of :func:`add_native_table`)."""
    ax.axis("off")
    if table.rows:
        t = ax.table(cellText=table.rows, colLabels=table.columns, loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(9 if len(table.rows) <= 10 else 7)
        t.scale(1, 1.4)
    else:
        ax.text(0.5, 0.5, "No rows.", ha="center", va="center")
    return ax
