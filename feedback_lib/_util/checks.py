"""Column checks: the one rule for "this frame lacks the canonical columns a function needs"."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from feedback_lib.errors import ParameterError, SchemaError


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, table: str, where: str | None = None) -> None:
    """Raise :class:`SchemaError` naming the canonical columns of ``table`` that ``frame`` lacks.

    ``where`` names the calling function; a ``frame`` that is not a DataFrame is a
    :class:`ParameterError`.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "mrr"], table="revenue", where="fl.arpa")
    Traceback (most recent call last):
    ...
    feedback_lib.errors.SchemaError: fl.arpa: revenue: missing column(s) 'mrr'; revenue lacks columns this needs (it has: a). Load it with fl.load_dataset or rename the columns to the canonical names (see feedback_lib.io.schema).
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{prefix}{table} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        has = ", ".join(map(str, list(frame.columns)[:12])) + (", ..." if len(frame.columns) > 12 else "")
        raise SchemaError(
            f"{prefix}{table}: missing column(s) {', '.join(map(repr, missing))}; {table} lacks columns "
            f"this needs (it has: {has or 'no columns'}). Load it with fl.load_dataset or rename the "
            "columns to the canonical names (see feedback_lib.io.schema)."
        )


def row_list(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)[:5] + 1
    return ", ".join(str(r) for r in rows) + (", ..." if mask.sum() > 5 else "")
