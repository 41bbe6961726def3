"""Helpers shared by the Ibis expressions: the lazy Ibis import, the ibis-table test, month numbers,
money in integer micro-units and a small calendar of month numbers.

Month numbers count months since 1970-01 (2026-09 is 680), as ``feedback_lib._util.dates.month_index``.
"""

from __future__ import annotations

from typing import Any

from feedback_lib._util.money import UNITS

#: Month numbers the calendar covers: 1900-01 to 2199-12 (metrics outside it are not supported).
CALENDAR_LOW, CALENDAR_HIGH = (1900 - 1970) * 12, (2200 - 1970) * 12 - 1


def is_ibis_table(obj: object) -> bool:
    """Whether ``obj`` is an Ibis table expression, tested without importing Ibis.

    Examples
    --------
    >>> import pandas as pd
    >>> is_ibis_table(pd.DataFrame())
    False
    """
    module = type(obj).__module__
    return module.startswith("ibis.") and type(obj).__name__ == "Table"


def ibis_module() -> Any:
    """The ``ibis`` module, imported on first use (``import feedback_lib`` does not load it)."""
    import ibis

    return ibis


def month_number(col: Any) -> Any:
    """Month number of a date or timestamp column: ``12 * (year - 1970) + month - 1``."""
    return (col.year() - 1970) * 12 + col.month() - 1


def month_start(number: Any) -> Any:
    """First day (a timestamp at midnight) of the month with month number ``number``."""
    ibis = ibis_module()
    year = (number + 1970 * 12) // 12
    month = (number + 1970 * 12) % 12 + 1
    return ibis.date(year.cast("int32"), month.cast("int32"), 1).cast("timestamp")


def units(col: Any) -> Any:
    """Money as int64 micro-units, rounded to the nearest millionth (as ``to_units``)."""
    return (col.cast("float64") * UNITS).round().cast("int64")


def money(col: Any) -> Any:
    """Micro-units back to the currency unit, as float64 (exact below 2**53 micro-units)."""
    return col.cast("float64") / UNITS


def calendar(name: str = "m", low: int = CALENDAR_LOW, high: int = CALENDAR_HIGH) -> Any:
    """A one-column in-memory table of the integers ``low`` to ``high`` (month or period numbers),
    shipped to the backend with the query (a few thousand rows)."""
    import pandas as pd

    ibis = ibis_module()
    return ibis.memtable(pd.DataFrame({name: range(low, high + 1)}, dtype="int64"))


def as_int(condition: Any) -> Any:
    """1 where ``condition`` holds, else 0 (also for NULL), as int64 (PostgreSQL casts no bool to int)."""
    return condition.ifelse(1, 0).cast("int64")


def scalar(expr: Any) -> Any:
    """Run a scalar expression in its backend and return a Python value."""
    value = expr.execute()
    return value.item() if hasattr(value, "item") else value
