"""Dates: the one ``as_of`` parser, the month toolkit and working days.

Every public function that takes ``as_of`` (or another date argument) parses it with
:func:`parse_as_of`; every module that counts in calendar months uses the month numbers defined
here (months since 1970-01, so 1970-01 is 0 and 2026-09 is 680).
"""

from __future__ import annotations

import datetime as _dt
from typing import TypeAlias

import numpy as np
import pandas as pd

from feedback_lib.errors import ParameterError

DateLike: TypeAlias = str | _dt.date | np.datetime64 | pd.Timestamp
"""What a date argument accepts: ``'YYYY-MM-DD'`` text, a ``date``/``datetime``, a numpy
``datetime64`` or a pandas ``Timestamp``."""

DAY_NS = 86_400_000_000_000
"""Nanoseconds in a day (the unit of ``datetime64[ns]``)."""


def parse_as_of(value: DateLike, *, name: str = "as_of", where: str | None = None) -> pd.Timestamp:
    """``value`` as a midnight ``Timestamp``, or a :class:`ParameterError` naming the argument.

    A time of day is dropped (the day is what counts); a time zone is dropped too, keeping the
    wall-clock date.

    Examples
    --------
    >>> parse_as_of("2026-03-31")
    Timestamp('2026-03-31 00:00:00')
    >>> parse_as_of("31.3.2026 or so", where="fl.top_share")
    Traceback (most recent call last):
    ...
    feedback_lib.errors.ParameterError: fl.top_share: as_of='31.3.2026 or so' is not a date; pass e.g. as_of='2026-06-30'
    """
    prefix = f"{where}: " if where else ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{prefix}{name}={value!r} is not a date; pass e.g. {name}='2026-06-30'") from exc
    if pd.isna(ts):
        raise ParameterError(f"{prefix}{name} is missing; pass the last day to include, e.g. {name}='2026-06-30'")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def working_days(start: pd.Timestamp, end_inclusive: pd.Timestamp) -> int:
    """Monday-to-Friday days from ``start`` to ``end_inclusive``.

    Examples
    --------
    >>> working_days(pd.Timestamp("2026-09-25"), pd.Timestamp("2026-09-28"))  # Friday to Monday
    2
    """
    return int(np.busday_count(start.date(), (end_inclusive + pd.Timedelta(days=1)).date()))


def month_index(ts: pd.Timestamp) -> int:
    """Months since 1970-01 of a date; :func:`month_of_dates` does the same for an array.

    Examples
    --------
    >>> month_index(pd.Timestamp("2026-09-30")), month_index(pd.Timestamp("1969-12-31"))
    (680, -1)
    """
    return (ts.year - 1970) * 12 + ts.month - 1


def month_start(index) -> np.ndarray:
    """First day of the month (``datetime64[ns]``) of month numbers: the inverse of
    :func:`month_index`. Goes through a lookup table, because numpy's calendar conversion from
    months is slow per element.

    Examples
    --------
    >>> month_start(np.array([680, 0])).astype(str).tolist()
    ['2026-09-01T00:00:00.000000000', '1970-01-01T00:00:00.000000000']
    """
    months = np.asarray(index, dtype=np.int64)
    if months.ndim == 0:
        return months.astype("datetime64[M]").astype("datetime64[ns]")
    if len(months) == 0:
        return np.zeros(0, dtype="datetime64[ns]")
    low = int(months.min())
    table = np.arange(low, int(months.max()) + 1).astype("datetime64[M]").astype("datetime64[ns]")
    return table[months - low]


def last_complete_month(as_of: pd.Timestamp) -> int:
    """Month number of the last month that ends on or before ``as_of``.

    Examples
    --------
    >>> last_complete_month(pd.Timestamp("2026-09-30")), last_complete_month(pd.Timestamp("2026-09-29"))
    (680, 679)
    """
    return month_index(as_of) - (0 if (as_of + pd.Timedelta(days=1)).day == 1 else 1)


def month_end(index: int) -> pd.Timestamp:
    """Last day of the month with number ``index``.

    Examples
    --------
    >>> month_end(680)
    Timestamp('2026-09-30 00:00:00')
    """
    return pd.Timestamp(np.datetime64(int(index) + 1, "M")) - pd.Timedelta(days=1)


def month_of_dates(values) -> np.ndarray:
    """Month numbers (as in :func:`month_index`) of an array or Series of dates (NaT -> int64 min).
    Goes through a day -> month table, because numpy's calendar conversion to months is slow per
    element.

    Examples
    --------
    >>> month_of_dates(np.array(["1969-12-31", "1970-01-01", "NaT"], dtype="datetime64[ns]")).tolist()[:2]
    [-1, 0]
    """
    values = np.asarray(values)
    if values.dtype != np.dtype("datetime64[ns]"):
        values = values.astype("datetime64[ns]")
    nat = np.isnat(values)
    if nat.all():
        return np.full(len(values), np.iinfo(np.int64).min)
    days = values.view(np.int64) // DAY_NS  # floor: days since 1970-01-01 (also before it)
    valid = days[~nat] if nat.any() else days
    low, high = int(valid.min()), int(valid.max())
    table = np.arange(low, high + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if not nat.any():
        days -= low
        return table[days]
    return np.where(nat, np.iinfo(np.int64).min, table[np.where(nat, low, days) - low])


#: The calendar frequencies the library knows, with the months in one period (a week has none):
#: ``W`` weeks start on Monday; ``M``, ``Q`` and ``Y`` are calendar months, quarters and years.
FREQUENCIES: dict[str, int | None] = {"W": None, "M": 1, "Q": 3, "Y": 12}

_FREQ_NAMES = {"W": "week", "M": "month", "Q": "quarter", "Y": "year"}


def check_freq(freq: str, *, allowed: str = "WMQY", where: str | None = None) -> str:
    """``freq`` if it is one of the ``allowed`` frequency letters, else a :class:`ParameterError`.

    Examples
    --------
    >>> check_freq("Q")
    'Q'
    >>> check_freq("W", allowed="MQY", where="fl.arr_bridge")
    Traceback (most recent call last):
    ...
    feedback_lib.errors.ParameterError: fl.arr_bridge: freq='W' is not supported; use 'M' (month), 'Q' (quarter) or 'Y' (year)
    """
    if not isinstance(freq, str) or freq not in allowed or freq not in FREQUENCIES:
        prefix = f"{where}: " if where else ""
        options = [f"'{f}' ({_FREQ_NAMES[f]})" for f in allowed]
        listed = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]
        raise ParameterError(f"{prefix}freq={freq!r} is not supported; use {listed}")
    return freq


def months_per_period(freq: str, *, where: str | None = None) -> int:
    """Months in one period of a monthly, quarterly or yearly frequency.

    Examples
    --------
    >>> months_per_period("Q"), months_per_period("Y")
    (3, 12)
    """
    months = FREQUENCIES[check_freq(freq, allowed="MQY", where=where)]
    assert months is not None  # guaranteed by allowed="MQY"
    return months
