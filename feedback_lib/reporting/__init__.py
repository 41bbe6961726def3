"""Scheduled reports: run a parameterised notebook, publish HTML, metrics, manifest and deck.

``run_report`` is what ``feedback-lib report`` calls. The other names are used by the report
notebooks themselves: :func:`safe_table` and :func:`narrate` to show data escaped,
:func:`mask_email` and :func:`safe_csv` for personal data and spreadsheet-safe exports,
:func:`write_metrics` for the machine-readable headline numbers and :class:`SlideDeck` for the
quarterly board deck.
"""

from __future__ import annotations

from feedback_lib.reporting.context import (
    ReportContext,
    load_report_data,
    period_row,
    report_context,
    trailing_weeks,
)
from feedback_lib.reporting.deck import (
    Kpi,
    Slide,
    SlideDeck,
    read_deck,
    write_pdf,
    write_pptx,
)
from feedback_lib.reporting.display import (
    compact,
    compact_formatter,
    narrate,
    safe_table,
)
from feedback_lib.reporting.export import export_html, read_metrics, write_metrics
from feedback_lib.reporting.params import (
    NotebookParameter,
    coerce_parameters,
    parse_as_of,
    read_parameters,
    report_period,
)
from feedback_lib.reporting.runner import REPORTS, report_notebook, run_report
from feedback_lib.reporting.safety import (
    active_html_outputs,
    find_unmasked_emails,
    mask_email,
    mask_emails,
    safe_csv,
)
from feedback_lib.reporting.sections import (
    WeeklyNPS,
    entered_list,
    nps_by_group,
    significance,
    weekly_nps,
)

__all__ = [
    "REPORTS",
    "Kpi",
    "NotebookParameter",
    "ReportContext",
    "Slide",
    "SlideDeck",
    "WeeklyNPS",
    "active_html_outputs",
    "coerce_parameters",
    "compact",
    "compact_formatter",
    "entered_list",
    "export_html",
    "find_unmasked_emails",
    "load_report_data",
    "mask_email",
    "mask_emails",
    "narrate",
    "nps_by_group",
    "parse_as_of",
    "period_row",
    "read_deck",
    "read_metrics",
    "read_parameters",
    "report_context",
    "report_notebook",
    "report_period",
    "run_report",
    "safe_csv",
    "safe_table",
    "significance",
    "trailing_weeks",
    "weekly_nps",
    "write_metrics",
    "write_pdf",
    "write_pptx",
]
