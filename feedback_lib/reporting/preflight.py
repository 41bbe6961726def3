"""Cheap checks of a report's source before the notebook starts: the data's date range.

A report whose ``as_of`` lies outside the data would run for a minute and publish empty or
meaningless numbers; the runner refuses it first, reading only the date columns (one column per
CSV/Parquet file, a ``min``/``max`` query per table of a DuckDB store), without validating or
loading the dataset.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pandas as pd

from feedback_lib.errors import ParameterError

__all__ = ["check_as_of_in_range", "source_date_range"]

#: The dated column of each table; the data's range is the union of their ranges (the same
#: tables and columns as the weekly report's own check).
DATE_COLUMNS: dict[str, str] = {
    "responses": "responded_at",
    "conversations": "held_on",
    "tickets": "opened_at",
    "usage": "week",
    "subscriptions": "start_date",
}


def _column_range(values: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    dates = pd.to_datetime(values.astype(str).str.slice(0, 10), errors="coerce",
                           format="%Y-%m-%d").dropna()
    return (dates.min(), dates.max()) if len(dates) else None


def _folder_ranges(folder: Path) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    ranges = []
    for table, column in DATE_COLUMNS.items():
        for suffix in (".csv", ".csv.gz", ".parquet"):
            path = folder / f"{table}{suffix}"
            if not path.is_file():
                continue
            try:
                if suffix == ".parquet":
                    frame = pd.read_parquet(path, columns=[column])
                else:
                    frame = pd.read_csv(path, usecols=[column], dtype=str,
                                        encoding="utf-8-sig", encoding_errors="replace")
            except (ValueError, KeyError, OSError, ImportError):
                continue  # unreadable here: the loader names the problem in the notebook
            found = _column_range(frame[column])
            if found:
                ranges.append(found)
            break
    return ranges


def _duckdb_ranges(path: Path) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        con = duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error:
        return []  # a corrupt or locked store: the loader's error says which
    ranges = []
    try:
        tables = {row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()}
        for table, column in DATE_COLUMNS.items():
            if table not in tables:
                continue
            try:
                row = con.execute(
                    f'SELECT min("{column}"), max("{column}") FROM "{table}"').fetchone()
            except duckdb.Error:
                continue
            if row is not None and row[0] is not None and row[1] is not None:
                ranges.append((pd.Timestamp(row[0]), pd.Timestamp(row[1])))
    finally:
        con.close()
    return ranges


def source_date_range(source: str | Path) -> tuple[_dt.date, _dt.date] | None:
    """First and last date of any dated row in a report source, read cheaply.

    Parameters
    ----------
    source
        A folder of CSV/Parquet exports or a ``.duckdb`` store. Workbooks (``.xlsx``) are not
        read here (reading one sheet costs as much as loading it); the notebook checks them.

    Returns
    -------
    tuple of date or None
        ``(first, last)`` over :data:`DATE_COLUMNS`; None when nothing dated could be read.
    """
    path = Path(source)
    if path.is_dir():
        ranges = _folder_ranges(path)
    elif path.suffix.lower() in (".duckdb", ".db"):
        ranges = _duckdb_ranges(path)
    else:
        return None
    if not ranges:
        return None
    return min(r[0] for r in ranges).date(), max(r[1] for r in ranges).date()


def check_as_of_in_range(source: str | Path, as_of: _dt.date) -> None:
    """Raise ``ParameterError`` if ``as_of`` is outside the source's date range.

    Raises
    ------
    ParameterError
        One line naming ``as_of``, the range and the source, e.g. ``as_of 2027-01-04 is outside
        the data's date range 2023-10-01 to 2026-09-30 (/data/export)``.
    """
    found = source_date_range(source)
    if found is None:
        return
    first, last = found
    if not first <= as_of <= last:
        raise ParameterError(f"as_of {as_of.isoformat()} is outside the data's date range "
                             f"{first.isoformat()} to {last.isoformat()} ({source})")
