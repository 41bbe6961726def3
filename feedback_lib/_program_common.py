"""Private helpers shared by the feedback-programme modules (program, survey, callbacks, text,
drivers, health, capacity): point-in-time MRR, MRR bands, masking and argument checks.

Nothing here is public API; the public functions document the rules these helpers implement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ._arrow import lookup, text_array
from .errors import FeedbackLibError
from .stats import Proportion, wilson_interval


def timestamp(value, *, name: str = "as_of") -> pd.Timestamp:
    """``value`` as a midnight ``Timestamp``; a readable error for anything unparseable.

    Examples
    --------
    >>> timestamp("2026-03-31")
    Timestamp('2026-03-31 00:00:00')
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise FeedbackLibError(
            f"{name}={value!r} is not a date; pass a 'YYYY-MM-DD' string or a Timestamp"
        ) from exc
    if pd.isna(ts):
        raise FeedbackLibError(f"{name} is missing; pass a 'YYYY-MM-DD' string or a Timestamp")
    return ts.normalize()


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, table: str, func: str) -> None:
    """Raise ``FeedbackLibError`` naming the missing canonical columns of ``table``."""
    if not isinstance(frame, pd.DataFrame):
        raise FeedbackLibError(
            f"{func}: {table} must be a pandas DataFrame, got {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FeedbackLibError(
            f"{func}: {table} lacks column(s) {missing}; load it with fl.load_dataset or rename "
            f"the columns to the canonical names (see feedback_lib.schema)"
        )


def mrr_on(subscriptions: pd.DataFrame, account_id, date) -> np.ndarray:
    """MRR of each (account, date) pair: the sum of ``mrr`` over the account's subscriptions with
    ``start_date <= date < end_date`` (``end_date`` NaT = running), as in ``fl.monthly_revenue``.

    Examples
    --------
    >>> subs = pd.DataFrame({"account_id": ["a", "a"], "mrr": [10.0, 5.0],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime([None, "2024-04-01"])})
    >>> mrr_on(subs, ["a", "a", "b"], pd.to_datetime(["2024-02-01", "2024-03-15", "2024-03-15"]))
    array([10., 15.,  0.])
    """
    when = pd.to_datetime(np.asarray(date)).to_numpy(dtype="datetime64[ns]")
    n = len(when)
    if n == 0 or len(subscriptions) == 0:
        return np.zeros(n)
    ids = text_array(account_id if isinstance(account_id, pd.Series) else np.asarray(account_id, dtype=object))
    distinct = pc.unique(ids).drop_null()
    point = lookup(ids, distinct)
    sub = lookup(subscriptions["account_id"], distinct)
    # the subscriptions of each point's account: a range of the subscriptions sorted by account
    rows = np.flatnonzero(sub >= 0)
    rows = rows[np.argsort(sub[rows], kind="stable")]
    lo = np.searchsorted(sub[rows], point, side="left")
    count = np.searchsorted(sub[rows], point, side="right") - lo
    count[point < 0] = 0
    pair_point = np.repeat(np.arange(n), count)
    pair_sub = rows[np.arange(count.sum()) - np.repeat(np.cumsum(count) - count - lo, count)]
    start = subscriptions["start_date"].to_numpy(dtype="datetime64[ns]")[pair_sub]
    end = subscriptions["end_date"].to_numpy(dtype="datetime64[ns]")[pair_sub]
    day = when[pair_point]
    active = (start <= day) & (np.isnat(end) | (day < end))
    mrr = subscriptions["mrr"].to_numpy(dtype=float, na_value=np.nan)[pair_sub]
    return np.bincount(pair_point[active], weights=mrr[active], minlength=n)


def current_mrr(revenue_or_subscriptions: pd.DataFrame, *, as_of, func: str) -> pd.Series:
    """MRR per paying account on ``as_of`` (a Series indexed by account_id, only MRR > 0).

    Accepts either the subscriptions table (MRR on the ``as_of`` date) or the output of
    ``fl.monthly_revenue`` (the row of the month of ``as_of``, which is the MRR on ``as_of``).
    """
    frame = revenue_or_subscriptions
    as_of = timestamp(as_of)
    if "subscription_id" in frame.columns or "start_date" in frame.columns:
        require_columns(frame, ["account_id", "start_date", "end_date", "mrr"], table="subscriptions", func=func)
        active = (frame["start_date"] <= as_of) & (frame["end_date"].isna() | (as_of < frame["end_date"]))
        rows = frame.loc[active]
    else:
        require_columns(frame, ["account_id", "month", "mrr"], table="revenue", func=func)
        rows = frame.loc[frame["month"] == as_of.to_period("M").start_time]
    mrr = rows.groupby("account_id", observed=True, sort=True)["mrr"].sum()
    mrr = mrr[mrr > 0].astype(float)
    mrr.index.name = "account_id"
    mrr.name = "mrr"
    return mrr


def band_edges(mrr, *, bands: int) -> np.ndarray:
    """Inner edges of ``bands`` equal-count MRR bands over the positive values of ``mrr``.

    Examples
    --------
    >>> band_edges([0, 10, 20, 30, 40], bands=2)
    array([25.])
    """
    values = np.asarray(mrr, dtype=float)
    values = values[values > 0]
    if bands < 1:
        raise FeedbackLibError(f"bands must be a positive whole number, got {bands!r}")
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.arange(1, bands) / bands))


def assign_band(mrr, edges: np.ndarray) -> np.ndarray:
    """Band number of each MRR: 0 = not paying, 1 = lowest ... len(edges) + 1 = highest.

    Examples
    --------
    >>> assign_band([0, 5, 25, 90], np.array([25.0]))
    array([0, 1, 1, 2])
    """
    values = np.asarray(mrr, dtype=float)
    return np.where(values > 0, np.searchsorted(edges, values, side="left") + 1, 0)


def mask_email(emails: pd.Series) -> pd.Series:
    """Keep the first character and the domain: ``"cfo@acme.example"`` -> ``"c***@acme.example"``.

    Examples
    --------
    >>> mask_email(pd.Series(["cfo@acme.example", None])).tolist()
    ['c***@acme.example', <NA>]
    """
    s = emails.astype("string")
    masked = s.str.replace(r"^(.)[^@]*@", r"\1***@", regex=True)
    # anything that is not an e-mail address is hidden completely
    return masked.where(masked.str.contains("***@", regex=False), pd.NA).where(s.notna(), pd.NA)


def proportion_or_nan(successes: float, n: int, *, confidence: float) -> Proportion:
    """Wilson proportion, or a NaN proportion with ``n = 0`` when there is nothing to count."""
    if n == 0:
        return Proportion(math.nan, math.nan, math.nan, 0, 0, confidence)
    return wilson_interval(float(successes), int(n), confidence=confidence)


def proportion_columns(successes, n, *, confidence: float) -> pd.DataFrame:
    """``share, ci_low, ci_high`` for a few groups (one Wilson interval per group)."""
    rows = [
        proportion_or_nan(float(k), int(m), confidence=confidence)
        for k, m in zip(np.asarray(successes), np.asarray(n))
    ]
    return pd.DataFrame(
        {
            "share": [p.share for p in rows],
            "ci_low": [p.ci_low for p in rows],
            "ci_high": [p.ci_high for p in rows],
        }
    )


def newcombe_difference(a: Proportion, b: Proportion) -> tuple[float, float, float]:
    """Difference ``a - b`` of two independent shares with Newcombe's hybrid score interval.

    Newcombe (1998), *Interval estimation for the difference between independent proportions*,
    Statistics in Medicine 17, method 10: built from the two Wilson intervals.

    Examples
    --------
    >>> d = newcombe_difference(wilson_interval(56, 70), wilson_interval(48, 80))
    >>> [round(x, 4) for x in d]
    [0.2, 0.0524, 0.3339]
    """
    d = a.share - b.share
    low = d - math.sqrt((a.share - a.ci_low) ** 2 + (b.ci_high - b.share) ** 2)
    high = d + math.sqrt((a.ci_high - a.share) ** 2 + (b.share - b.ci_low) ** 2)
    return d, low, high


def working_days(start: pd.Timestamp, end_inclusive: pd.Timestamp) -> int:
    """Monday-to-Friday days from ``start`` to ``end_inclusive``."""
    return int(np.busday_count(start.date(), (end_inclusive + pd.Timedelta(days=1)).date()))
