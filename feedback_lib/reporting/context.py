"""What a report notebook needs before its first section: settings and the data as of a date.

The config cell of every report notebook calls :func:`report_context` (so that a notebook run by
hand or by nbval fails as clearly as one run by :func:`run_report`), and the load cell calls
:func:`load_report_data`, which returns the company *as it stood on* ``as_of``: events after it
are dropped, so that functions without an ``as_of`` argument (``nps_table``) cannot see the
future either.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from feedback_lib._util.arrow import lookup
from feedback_lib.errors import ParameterError
from feedback_lib.reporting.params import parse_as_of, report_period

__all__ = ["ReportContext", "load_report_data", "period_row", "report_context", "trailing_weeks"]

# Date column of each event table; rows after as_of are not yet known on as_of.
_EVENT_DATES = {
    "accounts": "signup_date",
    "subscriptions": "start_date",
    "responses": "responded_at",
    "conversations": "held_on",
    "tickets": "opened_at",
    "usage": "week",
}


@dataclass(frozen=True)
class ReportContext:
    """Validated settings of one report run.

    Attributes
    ----------
    kind : str
        ``weekly``, ``quarterly`` or ``valuation``.
    as_of : Timestamp
        Last day included (midnight).
    period : str
        ``2026-W40``, ``2026-Q3`` or the date, as in the report folder name.
    week_start, quarter_start : Timestamp
        Monday of the week and first day of the quarter holding ``as_of``.
    source : str
        Data source path; ``""`` means the generated demo company.
    segment : str
        Segment the report is restricted to; ``""`` = all segments.
    output_dir : Path
        Existing folder for ``metrics.json``, figures and CSV exports.
    """

    kind: str
    as_of: pd.Timestamp
    period: str
    week_start: pd.Timestamp
    quarter_start: pd.Timestamp
    source: str
    segment: str
    output_dir: Path

    @property
    def period_label(self) -> str:
        """The period, marked "to date" when ``as_of`` is not its last day (``2026-Q3 to date``)."""
        day = self.as_of
        if self.kind == "weekly":
            complete = day.weekday() == 6
        elif self.kind == "quarterly":
            complete = (day + pd.Timedelta(days=1)).month in (1, 4, 7, 10) and (
                day + pd.Timedelta(days=1)).day == 1
        else:
            complete = True
        return self.period if complete else f"{self.period} to date"

    @property
    def scope(self) -> str:
        """``"all segments"`` or ``"segment SMB"``, for titles."""
        return f"segment {self.segment}" if self.segment else "all segments"


def report_context(
    kind: str, *, as_of, source: str = "", output_dir: str = "", segment: str = ""
) -> ReportContext:
    """Validate a report notebook's parameters and create its output folder.

    Parameters
    ----------
    kind
        Report kind (used for the period label).
    as_of
        ``YYYY-MM-DD``.
    source
        Path of a folder, ``.xlsx`` or ``.duckdb``; ``""`` = the generated demo company.
    output_dir
        Folder for outputs (created); ``""`` = a new temporary folder, so that running a
        notebook by hand or under nbval writes nothing into the source tree.
    segment
        ``""`` or one segment name (checked against the data by :func:`load_report_data`).

    Examples
    --------
    >>> ctx = report_context("weekly", as_of="2026-09-30")
    >>> ctx.period, str(ctx.week_start.date()), str(ctx.quarter_start.date())
    ('2026-W40', '2026-09-28', '2026-07-01')
    """
    day = parse_as_of(as_of)
    if source and not Path(source).expanduser().exists():
        raise ParameterError(f"source {source!r} does not exist")
    if not isinstance(segment, str):
        raise ParameterError(f"segment expects str, got {segment!r}")
    folder = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix=f"{kind}-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    ts = pd.Timestamp(day)
    return ReportContext(
        kind=kind,
        as_of=ts,
        period=report_period(kind, day),
        week_start=ts - pd.Timedelta(days=day.weekday()),
        quarter_start=pd.Timestamp(_dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)),
        source=str(Path(source).expanduser().resolve()) if source else "",
        segment=segment,
        output_dir=folder.resolve(),
    )


def load_report_data(context: ReportContext, *, demo_accounts: int = 2000, demo_seed: int = 42):
    """The company as it stood on ``context.as_of``, restricted to ``context.segment``.

    Parameters
    ----------
    context
        From :func:`report_context`.
    demo_accounts, demo_seed
        Size and seed of the generated demo company (used when ``context.source`` is empty;
        its history runs from 2023-10-01 to 2026-09-30).

    Returns
    -------
    feedback_lib.Dataset
        Rows dated after ``as_of`` are dropped from every table (subscriptions by start date;
        their end dates are kept, ``monthly_revenue(as_of=...)`` ignores what follows). With a
        segment, every table keeps only that segment's accounts. ``responses`` and
        ``conversations`` gain a ``segment`` column from ``accounts`` for grouping.

    Raises
    ------
    ParameterError
        The segment does not occur in ``accounts.segment`` (the known ones are listed).
    """
    import dataclasses

    from feedback_lib.demo import generate_demo
    from feedback_lib.io import load_dataset

    if context.source:
        data = load_dataset(context.source)
    else:
        data = generate_demo(seed=demo_seed, n_accounts=demo_accounts, start="2023-10-01",
                             end="2026-09-30")
    tables = {}
    for name, column in _EVENT_DATES.items():
        frame = getattr(data, name)
        later = (frame[column] > context.as_of).to_numpy()
        tables[name] = frame[~later].reset_index(drop=True) if later.any() else frame  # no copy when nothing is later
    closed_later = (tables["tickets"]["closed_at"] > context.as_of).to_numpy()
    if closed_later.any():  # still open on as_of
        tables["tickets"] = tables["tickets"].assign(
            closed_at=tables["tickets"]["closed_at"].mask(closed_later, pd.NaT))
    if context.segment:
        known = sorted(map(str, data.accounts["segment"].dropna().unique()))
        if context.segment not in known:
            raise ParameterError(f"segment {context.segment!r} is not in accounts.segment "
                                 f"(known: {', '.join(known) or 'none'}); use '' for all")
        ids = data.accounts.loc[data.accounts["segment"] == context.segment, "account_id"]
        tables = {name: frame[lookup(frame["account_id"], ids) >= 0].reset_index(drop=True)
                  for name, frame in tables.items()}
    segments = tables["accounts"].set_index("account_id")["segment"]
    for name in ("responses", "conversations"):
        tables[name] = tables[name].assign(segment=tables[name]["account_id"].map(segments))
    return dataclasses.replace(data, **tables)


def trailing_weeks(frame: pd.DataFrame, column: str, *, as_of, weeks: int) -> pd.DataFrame:
    """Rows of ``frame`` dated in the ``weeks`` Monday-based weeks ending with that of ``as_of``.

    Examples
    --------
    >>> f = pd.DataFrame({"d": pd.to_datetime(["2026-09-20", "2026-09-21", "2026-09-30"])})
    >>> trailing_weeks(f, "d", as_of="2026-09-30", weeks=2)["d"].dt.day.tolist()
    [21, 30]
    """
    end = pd.Timestamp(parse_as_of(as_of))
    start = end - pd.Timedelta(days=end.weekday()) - pd.Timedelta(weeks=weeks - 1)
    dates = frame[column]
    return frame[(dates >= start) & (dates <= end)].reset_index(drop=True)


def period_row(table: pd.DataFrame, *, start) -> pd.Series:
    """The row of a per-period table (``period`` column) for the period starting ``start``.

    A period without data gives a row of missing values with ``n = 0``, so a quiet week reads
    as "no responses" instead of silently showing the previous week.

    Examples
    --------
    >>> t = pd.DataFrame({"period": pd.to_datetime(["2026-09-21"]), "n": [19], "nps": [42.1]})
    >>> float(period_row(t, start="2026-09-21")["nps"]), period_row(t, start="2026-09-28")["n"]
    (42.1, 0)
    """
    hit = table[table["period"] == pd.Timestamp(start)]
    if len(hit):
        return hit.iloc[0]
    empty = pd.Series({c: pd.NA for c in table.columns}, dtype="object")
    empty["period"], empty["n"] = pd.Timestamp(start), 0
    return empty
