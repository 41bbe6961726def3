"""Check that a library result and a SQL baseline result hold the same rows and values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Check", "combine", "compare_frames", "compare_scalars"]

RTOL = 1e-9  # relative tolerance of every numeric comparison
MONEY_ATOL = 1e-6  # absolute tolerance for money: the library rounds MRR to micro-units


@dataclass(frozen=True)
class Check:
    """Outcome of comparing a library result with its baseline.

    Attributes
    ----------
    equal
        True when the rows match and every value agrees within the tolerances.
    rows
        Rows compared (summed over the parts of a multi-part result).
    max_abs_diff
        Largest absolute difference over the numeric columns (0.0 when none).
    detail
        Empty when equal; else the first disagreement, in words.
    """

    equal: bool
    rows: int
    max_abs_diff: float
    detail: str = ""


def _as_pandas(frame: pd.DataFrame | pa.Table) -> pd.DataFrame:
    return frame.to_pandas(date_as_object=False) if isinstance(frame, pa.Table) else frame


def _normalise(col: pd.Series) -> pd.Series:
    """Datetimes to datetime64[ns]; categoricals and strings to Python str (missing -> None);
    booleans to bool; numbers to float64 (missing -> NaN)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col.astype("datetime64[ns]")
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(bool)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return pd.Series(col.to_numpy(dtype=float, na_value=np.nan), index=col.index)
    values = col.astype(object)
    return values.where(values.notna(), None).map(lambda v: v if v is None else str(v))


def compare_frames(
    library: pd.DataFrame | pa.Table,
    baseline: pd.DataFrame | pa.Table,
    *,
    keys: list[str],
    columns: list[str],
    atol: float = MONEY_ATOL,
    what: str = "",
) -> Check:
    """Compare two tables row by row after sorting both by ``keys``.

    Parameters
    ----------
    library, baseline
        The two results (pandas or Arrow); both need ``keys`` and ``columns``.
    keys
        Columns that identify a row; compared exactly and used to align the rows.
    columns
        Value columns; numbers agree when ``|a - b| <= atol + RTOL * |b|`` (NaN equals NaN),
        anything else must be equal.
    atol
        Absolute tolerance of numeric columns.
    what
        Name of the result for the messages.

    Returns
    -------
    Check
    """
    left, right = _as_pandas(library), _as_pandas(baseline)
    label = f"{what}: " if what else ""
    missing = [c for c in [*keys, *columns] if c not in left.columns or c not in right.columns]
    if missing:
        return Check(False, 0, np.nan, f"{label}column(s) {missing} missing on one side")
    if len(left) != len(right):
        return Check(False, 0, np.nan, f"{label}{len(left):,} library rows vs {len(right):,} baseline rows")
    left = pd.DataFrame({c: _normalise(left[c]) for c in [*keys, *columns]})
    right = pd.DataFrame({c: _normalise(right[c]) for c in [*keys, *columns]})
    left = left.sort_values(keys, kind="stable").reset_index(drop=True)
    right = right.sort_values(keys, kind="stable").reset_index(drop=True)
    worst = 0.0
    for c in [*keys, *columns]:
        a, b = left[c], right[c]
        if c in columns and a.dtype == np.float64 and b.dtype == np.float64:
            x, y = a.to_numpy(), b.to_numpy()
            both_nan = np.isnan(x) & np.isnan(y)
            diff = np.where(both_nan, 0.0, np.abs(x - y))
            with np.errstate(invalid="ignore"):
                bad = ~(both_nan | (diff <= atol + RTOL * np.abs(y)))
            if len(diff):
                worst = max(worst, float(np.nanmax(np.where(np.isfinite(diff), diff, np.nan), initial=0.0)))
        else:
            bad = ~((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = {k: left.at[i, k] for k in keys}
            return Check(False, len(left), worst, f"{label}{int(bad.sum()):,} row(s) differ in {c!r}; first at "
                         f"{row}: library {a.iat[i]!r}, baseline {b.iat[i]!r}")
    return Check(True, len(left), worst)


def compare_scalars(library: dict[str, float], baseline: dict[str, float], *, atol: float = 1e-12) -> Check:
    """Compare named scalar results with ``|a - b| <= atol + RTOL * |b|``."""
    worst = 0.0
    for name, value in library.items():
        other = baseline[name]
        diff = abs(value - other)
        worst = max(worst, diff)
        if not diff <= atol + RTOL * abs(other):
            return Check(False, 1, worst, f"{name}: library {value!r}, baseline {other!r}")
    return Check(True, 1, worst)


def combine(*checks: Check) -> Check:
    """One check for a multi-part result: equal when every part is."""
    failed = [c.detail for c in checks if not c.equal]
    return Check(
        equal=not failed,
        rows=sum(c.rows for c in checks),
        max_abs_diff=max((c.max_abs_diff for c in checks), default=0.0),
        detail="; ".join(failed),
    )
