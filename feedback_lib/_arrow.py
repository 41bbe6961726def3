"""Text columns as Arrow arrays: zero-copy access, construction, and id look-ups.

Canonical id and text columns are ``string[pyarrow]`` (:data:`feedback_lib.schema.STRING_DTYPE`).
These helpers reach their Arrow buffers without converting to Python strings, so that the
validation and the account-level aggregations run in Arrow's compiled kernels. Every helper also
accepts object or ``string[python]`` columns (hand-built frames), converting them once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .schema import STRING_DTYPE

__all__ = ["is_arrow_text", "lookup", "string_series", "text_array"]


def is_arrow_text(values) -> bool:
    """Whether a Series, Index or array holds its text in Arrow buffers."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage != "python"
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    return False


def text_array(values) -> pa.ChunkedArray:
    """``values`` (Series, Index, array or list of str/None) as an Arrow string chunked array.

    Zero-copy for Arrow-backed columns; other columns are converted once, missing values
    (``None``, ``NaN``, ``pd.NA``) becoming nulls. Raises ``pa.ArrowInvalid`` or
    ``pa.ArrowTypeError`` when a cell is not text.
    """
    array = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if is_arrow_text(array):
        return array.__arrow_array__()
    if isinstance(array, pa.ChunkedArray):
        return array
    if isinstance(array, pa.Array):
        return pa.chunked_array([array])
    if isinstance(array, pd.api.extensions.ExtensionArray):
        objects = array.to_numpy(dtype=object, na_value=None)
    else:
        objects = np.asarray(array, dtype=object)
    return pa.chunked_array([pa.array(objects, type=pa.large_string(), from_pandas=True)])


def string_series(array: pa.Array | pa.ChunkedArray, index=None, *, name=None) -> pd.Series:
    """A ``string[pyarrow]`` Series over an Arrow string array (no copy of the text buffers)."""
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array], type=array.type)
    return pd.Series(pd.arrays.ArrowStringArray(array), index=index, name=name, dtype=STRING_DTYPE)


def lookup(values, ids) -> np.ndarray:
    """Position of every element of ``values`` in ``ids`` (int64; -1 when absent or missing).

    ``ids`` must hold distinct values. The hash look-up runs once per run of equal adjacent
    values, so tables sorted or grouped by account (usage weeks, tickets) cost about one
    look-up per account, not per row; the result does not depend on the order.

    Examples
    --------
    >>> lookup(pd.Series(["b", "b", "x", None, "a"]), pd.Index(["a", "b"])).tolist()
    [1, 1, -1, -1, 0]
    """
    arr = text_array(values)
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key_set = text_array(ids).combine_chunks()
    if arr.null_count == 0 and n > 1:
        differs = pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(np.r_[True, differs])
        if len(starts) < n // 2:  # long runs: look each run up once
            found = pc.index_in(arr.take(pa.array(starts)), value_set=key_set)
            codes = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            return np.repeat(codes, np.diff(np.r_[starts, n]))
    found = pc.index_in(arr, value_set=key_set)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
