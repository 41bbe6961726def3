"""Showing tables and sentences in report notebooks without rendering data as markup.

``pandas.io.formats.style.Styler`` does not escape cell text by default and IPython's ``Markdown``
passes raw HTML through, so a verbatim such as ``<script>alert(1)</script>`` would become live
markup in ``report.html``. The two helpers here are the only way report notebooks show data: both
escape every value that came from the data and mask e-mail addresses.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from feedback_lib.reporting.safety import mask_email, mask_emails

__all__ = ["compact", "compact_formatter", "narrate", "safe_table"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


_ACRONYMS = {"nps": "NPS", "mrr": "MRR", "arr": "ARR", "nrr": "NRR", "grr": "GRR", "csm": "CSM",
             "id": "ID", "ci": "CI", "km": "KM", "ltv": "LTV", "ceo": "CEO"}
_WRAP_CHARS = 40  # text columns with longer values wrap; shorter ones stay on one line


def _finite_or(fmt, inf_rep: str):
    """Wrap a format string or function so that infinite values show as ``inf_rep``."""
    def show(value):
        if isinstance(value, float) and math.isinf(value):
            return inf_rep
        return fmt(value) if callable(fmt) else fmt.format(value)
    return show


def column_label(name: str) -> str:
    """A readable header for a snake_case column name.

    Examples
    --------
    >>> column_label("days_since_response"), column_label("mrr_at_risk"), column_label("nps")
    ('Days since response', 'MRR at risk', 'NPS')
    """
    words = [_ACRONYMS.get(w, w) for w in str(name).split("_") if w]
    if not words:
        return str(name)
    first = words[0] if words[0].isupper() else words[0][:1].upper() + words[0][1:]
    return " ".join([first, *words[1:]])


def safe_table(
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
    max_rows: int | None = None,
    index: bool = False,
    inf_rep: str = "∞",
):
    """A ``Styler`` of ``frame`` for a report: escaped text, masked e-mails, readable layout.

    Parameters
    ----------
    frame
        The table to show.
    formats
        Column -> format string for numbers, e.g. ``{"mrr": "{:,.0f}", "nps": "{:+.0f}"}``.
        Other float columns get one decimal; booleans show as yes/no; dates as ``30 Sep 2026``.
    labels
        Column -> header text; other headers are made readable from snake_case
        (``mrr_at_risk`` -> "MRR at risk").
    caption
        Optional caption shown above the table (escaped).
    max_rows
        Show only the first ``max_rows`` rows.
    index
        Whether to show the index (default no).
    inf_rep
        Text for infinite numbers (e.g. ``"not reached"`` for a median lifetime).

    Returns
    -------
    pandas.io.formats.style.Styler
        Displayed as HTML by Jupyter; every text cell and header is HTML-escaped. Numbers are
        right-aligned, text left-aligned; long text wraps.

    Examples
    --------
    >>> df = pd.DataFrame({"comment": ["<b>slow</b>"], "mrr": [1200.0]})
    >>> html_out = safe_table(df, formats={"mrr": "{:,.0f}"}).to_html()
    >>> "&lt;b&gt;slow&lt;/b&gt;" in html_out and "<b>slow" not in html_out
    True
    """
    shown = mask_emails(frame.head(max_rows) if max_rows is not None else frame)
    shown = shown.reset_index(drop=not index)
    column_formats: dict[str, Any] = dict(formats or {})
    numeric, wrapped, plain = [], [], []
    for col in shown.columns:
        series = shown[col]
        if pd.api.types.is_bool_dtype(series):
            column_formats.setdefault(col, lambda v: "yes" if v else "no")
            plain.append(col)
        elif pd.api.types.is_numeric_dtype(series):
            numeric.append(col)
            if pd.api.types.is_float_dtype(series):
                column_formats[col] = _finite_or(column_formats.get(col, "{:,.1f}"), inf_rep)
        elif pd.api.types.is_datetime64_any_dtype(series):
            column_formats.setdefault(col, "{:%d %b %Y}")
            plain.append(col)
        elif (series.astype("string").str.len().fillna(0) > _WRAP_CHARS).any():
            wrapped.append(col)
        else:
            plain.append(col)
    names = {c: (labels or {}).get(c, column_label(c)) for c in shown.columns}
    styler = shown.style.format(column_formats, escape="html", na_rep="–")
    styler = styler.format_index(lambda c: html.escape(names.get(c, str(c))), axis=1)
    styler = styler.hide(axis="index")
    styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    styler = styler.set_properties(subset=plain, **{"text-align": "left", "white-space": "nowrap"})
    styler = styler.set_properties(subset=wrapped, **{"text-align": "left", "min-width": "18em",
                                                      "max-width": "32em"})
    if caption:
        styler = styler.set_caption(html.escape(caption))
    header_styles = [{"selector": f"th.col_heading.col{i}",
                      "props": f"text-align: {'right' if c in numeric else 'left'};"}
                     for i, c in enumerate(shown.columns)]
    return styler.set_table_styles(
        [
            {"selector": "th", "props": "padding: 4px 10px; vertical-align: bottom;"},
            {"selector": "td", "props": "padding: 3px 10px; vertical-align: top;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; "
                                             "font-weight: bold; padding-bottom: 6px;"},
            *header_styles,
        ]
    )


class _Missing:
    """Stands for a missing number in a narrative: formats as "n/a" under any format spec."""

    def __format__(self, spec: str) -> str:
        return "n/a"


def _escape_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return _Missing()
    if isinstance(value, str):
        return _MD_SPECIAL.sub(r"\\\1", html.escape(mask_email(value), quote=False))
    return value


def narrate(template: str, **values: Any):
    """A one-line Markdown narrative with the data values escaped.

    Parameters
    ----------
    template
        Markdown written by the notebook author with ``str.format`` fields, e.g.
        ``"NPS is **{score:.0f}** ({low:.0f} to {high:.0f})."``. The template itself is trusted.
    **values
        Field values. Text values (segment names, problem themes) are masked, HTML-escaped and
        Markdown-escaped so that they render as the literal text. Missing numbers (NaN, None)
        show as "n/a" whatever the format spec.

    Returns
    -------
    IPython.display.Markdown
        Displayed by Jupyter; ``.data`` holds the Markdown text.

    Examples
    --------
    >>> narrate("Top problem: **{theme}** ({n} mentions).", theme="<script>x", n=3).data
    'Top problem: **&lt;script&gt;x** (3 mentions).'
    >>> narrate("NPS {nps:+.0f}", nps=float("nan")).data
    'NPS n/a'
    """
    from IPython.display import Markdown

    return Markdown(template.format(**{k: _escape_value(v) for k, v in values.items()}))


def compact(value: float, *, signed: bool = False, digits: int = 1) -> str:
    """A money or count amount in compact form for narratives and slide titles.

    Examples
    --------
    >>> compact(47351712), compact(876925.9), compact(950), compact(-1.23e6, signed=True)
    ('47.4M', '877k', '950', '-1.2M')
    >>> compact(12345, signed=True), compact(float("nan"))
    ('+12.3k', 'n/a')
    """
    if value is None or value != value:  # NaN
        return "n/a"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    size = abs(float(value))
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = size / limit
            text = f"{scaled:.{digits}f}" if scaled < 100 else f"{scaled:.0f}"
            if suffix == "k" and scaled >= 100:
                text = f"{scaled:.0f}"
            return f"{sign}{text}{suffix}"
    return f"{sign}{size:.0f}"


def compact_formatter():
    """A matplotlib tick formatter showing amounts as :func:`compact` does (``47.4M``).

    Use as ``ax.yaxis.set_major_formatter(compact_formatter())``.
    """
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: compact(value))
