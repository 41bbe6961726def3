"""The revenue frame shared by the revenue, retention, concentration and survival modules.

Private helpers: dates and months as integers, money as exact int64 micro-units, account ids as
ordinals, and :func:`_canonical_revenue`, which puts ``monthly_revenue`` output in (account,
month) order, checking sorted input in O(n) instead of sorting it again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns, row_list
from feedback_lib._util.dates import month_of_dates, month_start
from feedback_lib._util.money import is_paid, to_units
from feedback_lib.errors import SchemaError


def _datetimes(col: pd.Series, what: str) -> np.ndarray:
    """A date column as a numpy datetime64 array (NaT kept)."""
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        try:
            col = pd.to_datetime(col)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{what}: values are not dates ({exc}); use YYYY-MM-DD") from exc
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_localize(None)
    return col.to_numpy()






def _month_numbers(col: pd.Series, what: str) -> np.ndarray:
    """A month column as month numbers (days are floored to their month)."""
    values = _datetimes(col, what)
    bad = np.isnat(values)
    if bad.any():
        raise SchemaError(
            f"{what}: {bad.sum()} empty value(s) (rows {row_list(bad)}); every row needs a month"
        )
    return month_of_dates(values)








_EMPTY_ID = "revenue: column 'account_id' has empty values; every row needs an account"


def _id_values(col: pd.Series):
    """Account ids as a pyarrow or numpy array whose elements compare fast (no copy if possible)."""
    if getattr(col.dtype, "storage", None) == "pyarrow" or isinstance(col.dtype, pd.ArrowDtype):
        import pyarrow as pa

        values = pa.array(col.array)
        if values.null_count:
            raise SchemaError(_EMPTY_ID)
        return values
    if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        return np.asarray(col.array, dtype=object)
    return col.to_numpy()


def _adjacent_differ(values) -> np.ndarray:
    """``values[i] != values[i - 1]`` for i >= 1 (values from :func:`_id_values`), as bools."""
    if len(values) < 2:
        return np.zeros(0, dtype=bool)
    if isinstance(values, np.ndarray):
        try:
            return np.asarray(values[1:] != values[:-1], dtype=bool)
        except TypeError as exc:  # pd.NA refuses to be compared
            raise SchemaError(_EMPTY_ID) from exc
    import pyarrow.compute as pc

    return pc.not_equal(values.slice(1), values.slice(0, len(values) - 1)).to_numpy(zero_copy_only=False)


def _increasing_at(values, at: np.ndarray) -> bool:
    """Whether ``values[i] > values[i - 1]`` for every i in ``at``."""
    if isinstance(values, np.ndarray):
        try:
            return bool(np.asarray(values[at] > values[at - 1], dtype=bool).all())
        except TypeError as exc:
            raise SchemaError(_EMPTY_ID) from exc
    import pyarrow.compute as pc

    return bool(pc.all(pc.greater(values.take(at), values.take(at - 1))).as_py())


def _account_codes(col: pd.Series, what: str):
    """Integer codes (in order of appearance) and the distinct values of an account id column."""
    values = _id_values(col)
    if isinstance(values, np.ndarray):
        codes, uniques = pd.factorize(values)
    else:  # Arrow strings, hashed in Arrow (pd.factorize adds conversions around the same call)
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(values)
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        uniques = encoded.dictionary
    if (codes < 0).any():
        raise SchemaError(f"{what}: column 'account_id' has empty values; every row needs an account")
    return codes, uniques


def _sorted_codes(col: pd.Series, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``col`` in sorted order of its values, and the position of the first
    occurrence of each code. Strings are sorted by code point with pyarrow (fast)."""
    codes, uniques = _account_codes(col, what)
    if isinstance(uniques, np.ndarray) and uniques.dtype != object:
        order = np.argsort(uniques, kind="stable")
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            order = pc.sort_indices(pa.array(uniques)).to_numpy()
        except (pa.ArrowException, TypeError) as exc:
            raise SchemaError(
                f"{what}: column 'account_id' mixes kinds of values ({exc}); use text ids"
            ) from exc
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[codes]
    first_seen = np.full(len(order), len(codes), dtype=np.int64)
    np.minimum.at(first_seen, codes, np.arange(len(codes)))
    return codes, first_seen


class _Revenue(NamedTuple):
    """Revenue rows in canonical order (account_id, then month)."""

    first: np.ndarray  # bool: the row is an account's first row
    account: np.ndarray  # account ordinal (0, 1, ...) of each row, in account_id order
    labels: pd.api.extensions.ExtensionArray  # account_id of each ordinal (input dtype)
    month: np.ndarray  # month number
    units: np.ndarray  # mrr in micro-units; with money=False the bool "mrr rounds to > 0" instead


def _canonical_revenue(revenue: pd.DataFrame, *, last_month: int | None = None, money: bool = True) -> _Revenue:
    """Sort revenue rows by (account_id, month); input that is already sorted is only checked.

    ``money=False`` skips the micro-units: ``units`` then holds whether each row is paid
    (``units > 0`` of the money version), which is all that lifetimes need.
    """
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    month = _month_numbers(revenue["month"], "revenue: column 'month'")
    convert = to_units if money else lambda col, what, nonnegative: is_paid(col, what)
    units = convert(revenue["mrr"], "revenue: column 'mrr'", nonnegative=True)
    source = None  # None: canonical rows are the input rows
    if last_month is not None and (month > last_month).any():
        source = np.flatnonzero(month <= last_month)
        month, units = month[source], units[source]
    ids = _id_values(revenue["account_id"] if source is None else revenue["account_id"].iloc[source])
    new_account = _adjacent_differ(ids)
    in_order = bool(((month[1:] > month[:-1]) | new_account).all())
    if in_order:
        in_order = _increasing_at(ids, np.flatnonzero(new_account) + 1)
    if not in_order:
        if source is None:
            source = np.arange(len(month))
        codes, _ = _sorted_codes(revenue["account_id"].iloc[source], "revenue")
        order = np.lexsort((month, codes))
        codes, month, units, source = codes[order], month[order], units[order], source[order]
        new_account = codes[1:] != codes[:-1]
        dup = ~new_account & (np.diff(month) == 0)
        if dup.any():
            i = int(np.flatnonzero(dup)[0]) + 1
            raise SchemaError(
                f"revenue: account {revenue['account_id'].iloc[source[i]]!r} has several rows for month "
                f"{pd.Timestamp(month_start(month[i:i + 1])[0]):%Y-%m}; pass one row per "
                "account and month (as monthly_revenue returns)"
            )
    first = np.ones(len(month), dtype=bool)
    first[1:] = new_account
    account = np.cumsum(first, dtype=np.int64)
    account -= 1
    first_rows = np.flatnonzero(first)
    labels = revenue["account_id"].array.take(first_rows if source is None else source[first_rows])
    return _Revenue(first, account, labels, month, units)



def _empty(columns: list[str]) -> pd.DataFrame:
    dtypes = {"month": "datetime64[ns]", "start_month": "datetime64[ns]", "cohort": "datetime64[ns]",
              "n": "int64", "retained_accounts": "int64", "period_index": "int64",
              "accounts": "int64", "retained": "int64"}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, "float64")) for c in columns})


