"""Text columns as Arrow arrays: zero-copy access, construction, and id look-ups.

Canonical id and text columns are ``string[pyarrow]`` (:data:`feedback_lib.io.schema.STRING_DTYPE`).
These helpers reach their Arrow buffers without converting to Python strings, so that the
validation and the account-level aggregations run in Arrow's compiled kernels. Every helper also
accepts object or ``string[python]`` columns (hand-built frames), converting them once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The dtype of id and text columns: pandas strings stored in Arrow buffers. Missing values are
#: ``pd.NA`` as with the default string dtype, but the values sit in one contiguous buffer, which
#: takes about a third of the memory of Python string objects and lets hashing, sorting and
#: look-ups run in Arrow's compiled kernels.
STRING_DTYPE = pd.StringDtype("pyarrow")


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
    (``None``, ``NaN``, ``pd.NA``) becoming nulls, and cells that are not text (numbers in a
    hand-built frame) becoming their ``str``.
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
    try:
        return pa.chunked_array([pa.array(objects, type=pa.large_string(), from_pandas=True)])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v) for v in objects]
        return pa.chunked_array([pa.array(text, type=pa.large_string())])


def is_strictly_increasing(values) -> bool:
    """Whether a text column is in strictly increasing order (so no value repeats), in O(n).

    One Arrow comparison of each value with the one before; a column with a missing value is
    not increasing.

    Examples
    --------
    >>> is_strictly_increasing(pd.Series(["a", "b", "c"])), is_strictly_increasing(pd.Series(["a", "a"]))
    (True, False)
    """
    array = text_array(values)
    if array.null_count:
        return False
    return len(array) < 2 or bool(pc.all(pc.greater(array[1:], array[:-1])).as_py())


def string_series(array: pa.Array | pa.ChunkedArray, index=None, *, name=None) -> pd.Series:
    """A ``string[pyarrow]`` Series over an Arrow string array (no copy of the text buffers)."""
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array], type=array.type)
    return pd.Series(pd.arrays.ArrowStringArray(array), index=index, name=name, dtype=STRING_DTYPE)


def lookup(values, ids) -> np.ndarray:
    """Position of every element of ``values`` in ``ids`` (int64; -1 when absent or missing).

    ``ids`` must hold distinct values. A hash look-up in Arrow (``pyarrow.compute.index_in``);
    see :func:`lookup_columns` for several columns at once.

    Examples
    --------
    >>> lookup(pd.Series(["b", "b", "x", None, "a"]), pd.Index(["a", "b"])).tolist()
    [1, 1, -1, -1, 0]
    """
    return lookup_columns([values], ids)[0]


#: Above this many values, :func:`lookup_columns` probes in two threads.
_PARALLEL_ROWS = 500_000


def lookup_columns(columns: list, ids, *, threads: int = 2) -> list[np.ndarray]:
    """:func:`lookup` of several columns against the same ``ids``, with one hash table per thread.

    The columns' Arrow chunks are probed as one array (no copy), split over two threads when
    there are more than ``_PARALLEL_ROWS`` values and ``threads`` is 2: Arrow's kernels release
    the GIL, so the two cores of a laptop-class machine share the work. Callers that already
    keep the other core busy pass ``threads=1``.
    """
    arrays = [text_array(c) for c in columns]
    key_set = text_array(ids).combine_chunks()
    if key_set.type != pa.large_string():
        key_set = key_set.cast(pa.large_string())
    chunks = [chunk if chunk.type == key_set.type else chunk.cast(key_set.type) for a in arrays for chunk in a.chunks]
    probe = pa.chunked_array(chunks, type=key_set.type)
    n = len(probe)

    def codes(part: pa.ChunkedArray) -> np.ndarray:
        found = pc.index_in(part, value_set=key_set)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    if n > _PARALLEL_ROWS and threads > 1:
        half = n // 2
        with ThreadPoolExecutor(2) as pool:
            flat = np.concatenate(list(pool.map(codes, [probe.slice(0, half), probe.slice(half)])))
    else:
        flat = codes(probe) if n else np.zeros(0, dtype=np.int64)
    bounds = np.cumsum([0, *(len(a) for a in arrays)])
    return [flat[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]

