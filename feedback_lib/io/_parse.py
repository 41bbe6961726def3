"""Parsing raw export columns into canonical dtypes, recording every cell that fails as a
``table, row, column, rule, value`` failure row (used by ``validate``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feedback_lib._util.arrow import string_series, text_array
from feedback_lib.errors import DataQualityWarning, SchemaError
from feedback_lib.io.schema import LIST_SEPARATOR, Table


def _as_arrow_text(series: pd.Series) -> pa.ChunkedArray | None:
    """The column as Arrow strings (zero-copy when Arrow-backed), or None if it is not text."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return None
    return text_array(series)  # mixed cells (e.g. numbers in a workbook) keep their text form


def _blank_mask(text: pa.ChunkedArray, trimmed: pa.ChunkedArray | None = None) -> pa.ChunkedArray:
    """True where a text cell is missing or only whitespace."""
    trimmed = pc.utf8_trim_whitespace(text) if trimmed is None else trimmed
    return pc.fill_null(pc.equal(pc.binary_length(trimmed), 0), True)


def _blank(series: pd.Series) -> pd.Series:
    text = _as_arrow_text(series)
    if text is None:
        return series.isna()
    return pd.Series(_blank_mask(text).to_numpy(zero_copy_only=False), index=series.index)


def _parse_text(series: pd.Series, strip: bool) -> pd.Series:
    """Text cells as ``string[pyarrow]``, blank cells missing, ids stripped of outer whitespace.

    Arrow-backed input that needs no change is passed through without copying its buffers.
    """
    text = text_array(series)  # numbers or dates where text is expected keep their text form
    trimmed = pc.utf8_trim_whitespace(text)
    blank = _blank_mask(text, trimmed)
    out = text
    if strip and not pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(text))).as_py():
        out = trimmed
    if pc.any(pc.and_(blank, pc.is_valid(text))).as_py():
        out = pc.if_else(blank, pa.scalar(None, out.type), out)
    return string_series(out, series.index)


def _parse_date(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return out.astype("datetime64[ns]", copy=False), pd.Series(False, index=series.index)
    blank = _blank(series)
    if isinstance(series.dtype, pd.StringDtype):
        values = string_series(pc.utf8_trim_whitespace(text_array(series)), series.index)
    else:  # e.g. a workbook column mixing dates and text
        values = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    parsed = pd.to_datetime(values.where(~blank, None), errors="coerce", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[ns]"), (~blank) & parsed.isna()


def _parse_number(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(series)
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index), ~blank
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=series.index), pd.Series(False, index=series.index)
    text = text_array(series)
    trimmed = string_series(pc.utf8_trim_whitespace(text), series.index).mask(blank)
    parsed = pd.to_numeric(trimmed, errors="coerce")
    parsed = pd.Series(parsed.to_numpy(dtype="float64", na_value=np.nan), index=series.index)
    return parsed, (~blank) & parsed.isna()


def _to_int64(values: pd.Series) -> pd.Series:
    """Whole-valued floats (NaN = missing) as a nullable ``Int64`` column, without a Python loop."""
    missing = values.isna().to_numpy()
    data = np.where(missing, 0, values.to_numpy(dtype="float64")).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(data, missing), index=values.index)


def _parse_int(series: pd.Series, file: str, name: str, failures: list) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as ``Int64``; text that is no number and fractions are ``type: whole number`` failures."""
    if pd.api.types.is_integer_dtype(series):  # typed sources (Parquet, DuckDB): nothing can fail
        ok = pd.Series(False, index=series.index)
        if isinstance(series.dtype, pd.Int64Dtype):
            return series, ok
        values = series.to_numpy(dtype=np.int64)
        return pd.Series(pd.arrays.IntegerArray(values, np.zeros(len(values), dtype=bool)), index=series.index), ok
    parsed, not_number = _parse_number(series)
    fractional = parsed.notna() & (parsed % 1 != 0)
    failures.append(_failures(file, fractional, name, "type: whole number", series))
    failures.append(_failures(file, not_number, name, "type: whole number", series))
    bad = not_number | fractional
    return _to_int64(parsed.where(~bad)), bad


def _parse_list(series: pd.Series) -> pd.Series:
    def one(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            return [str(v).strip() for v in value if v is not None and str(v).strip()]
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return []
        return [part.strip() for part in str(value).split(LIST_SEPARATOR) if part.strip()]

    return pd.Series([one(v) for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)


def _failures(table: str, mask: pd.Series, column: str, rule: str, values: pd.Series) -> pd.DataFrame:
    pos = np.flatnonzero(mask.to_numpy(dtype=bool))
    idx = np.asarray(mask.index)[pos]
    return pd.DataFrame(
        {
            "table": table,
            "row": idx.astype(int) + 1,
            "column": column,
            "rule": rule,
            "value": values.iloc[pos].astype(object).map(_show).to_numpy(),
        }
    )


def _show(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


def _normalise_subscriptions(raw: pd.DataFrame, table: str, failures: list) -> pd.DataFrame:
    """Fill ``mrr`` from ``amount / billing_period_months`` where ``mrr`` is absent or empty."""
    if "amount" not in raw.columns and "billing_period_months" not in raw.columns:
        return raw
    if "amount" not in raw.columns or "billing_period_months" not in raw.columns:
        missing = "amount" if "amount" not in raw.columns else "billing_period_months"
        raise SchemaError(
            f"{table}: column '{missing}' is missing; 'amount' and 'billing_period_months' go "
            "together (mrr = amount / billing_period_months)"
        )
    raw = raw.copy()
    amount, bad_amount = _parse_number(raw["amount"])
    months, bad_months = _parse_number(raw["billing_period_months"])
    mrr_given = ~_blank(raw["mrr"]) if "mrr" in raw.columns else pd.Series(False, index=raw.index)
    use = ~mrr_given
    bad_months = bad_months | (use & ~(months >= 1) & ~_blank(raw["billing_period_months"]))
    bad_months = bad_months | (use & months.notna() & (months % 1 != 0))
    failures.append(_failures(table, use & bad_amount, "amount", "type: number", raw["amount"]))
    failures.append(
        _failures(table, use & bad_months, "billing_period_months", "whole number >= 1", raw["billing_period_months"])
    )
    computed = (amount / months).where(use & ~bad_amount & ~bad_months)
    base = raw["mrr"] if "mrr" in raw.columns else pd.Series(pd.NA, index=raw.index, dtype=object)
    raw["mrr"] = base.astype(object).where(mrr_given, computed.astype(object))
    return raw.drop(columns=["amount", "billing_period_months"])


def _parse_table(spec: Table, raw: pd.DataFrame, file: str, failures: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical frame of ``raw`` plus a mask frame of cells that failed to parse."""
    index = raw.index
    default_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    raw = raw.copy(deep=False) if default_index else raw.reset_index(drop=True)  # never mutate the input
    raw.columns = [str(c).strip() for c in raw.columns]
    if spec.name == "subscriptions":
        raw = _normalise_subscriptions(raw, file, failures)
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    if missing:
        raise SchemaError(
            f"{file}: required column(s) {', '.join(repr(m) for m in missing)} missing "
            f"(found: {', '.join(map(repr, raw.columns))}); see docs/data-model.md for table '{spec.name}'"
        )
    extra = [c for c in raw.columns if c not in spec.column_names]
    if extra:
        warnings.warn(
            f"{file}: column(s) {', '.join(map(repr, extra))} are not part of the '{spec.name}' "
            "contract and are ignored",
            DataQualityWarning,
            stacklevel=4,
        )
    out = {}
    bad = {}
    for col in spec.columns:
        series = raw[col.name] if col.name in raw.columns else pd.Series([pd.NA] * len(raw), dtype=object)
        bad_mask = pd.Series(False, index=raw.index)
        if col.kind in ("id", "text"):
            out[col.name] = _parse_text(series, strip=col.kind == "id")
        elif col.kind == "date":
            out[col.name], bad_mask = _parse_date(series)
            failures.append(_failures(file, bad_mask, col.name, "type: date (YYYY-MM-DD)", series))
        elif col.kind == "int":
            out[col.name], bad_mask = _parse_int(series, file, col.name, failures)
        elif col.kind == "float":
            parsed, bad_mask = _parse_number(series)
            failures.append(_failures(file, bad_mask, col.name, "type: number", series))
            out[col.name] = parsed.where(~bad_mask) if bad_mask.any() else parsed
        else:
            out[col.name] = _parse_list(series)
        bad[col.name] = bad_mask.to_numpy(dtype=bool)
    frame = pd.DataFrame(out, index=raw.index, copy=False)  # every parser returns the canonical dtype
    return frame, pd.DataFrame(bad, index=raw.index)
