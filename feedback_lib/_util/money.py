"""Money: amounts are summed in integer micro-units of the currency (``UNITS`` per unit), so that
totals and bridges reconcile exactly; per-row amounts must be finite and below ``MAX_MONEY``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_lib._util.checks import row_list
from feedback_lib.errors import SchemaError

UNITS = 1_000_000  # money is summed in integer micro-units of the currency
MAX_MONEY = 1e12  # per row; totals must stay below 9.2e12 (int64 micro-units)


def to_units(col: pd.Series, what: str, *, nonnegative: bool) -> np.ndarray:
    """Money as int64 micro-units (rounded to the nearest millionth)."""
    values = money_values(col, what, nonnegative=nonnegative)
    scaled = np.multiply(values, UNITS)
    return np.rint(scaled, out=np.empty(len(values), dtype=np.int64), casting="unsafe")  # no third array


def is_paid(col: pd.Series, what: str) -> np.ndarray:
    """``to_units(col) > 0`` without the micro-units: money that rounds to at least one millionth.

    ``rint(x * 1e6) > 0`` holds exactly when ``x * 1e6 > 0.5`` (``rint`` rounds half to even).
    """
    values = money_values(col, what, nonnegative=True)
    return np.multiply(values, UNITS) > 0.5


def money_values(col: pd.Series, what: str, *, nonnegative: bool) -> np.ndarray:
    """A money column as float64, or an error naming the rows that are not finite numbers."""
    try:
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what}: values are not numbers ({exc})") from exc
    # NaN and infinities fail both comparisons
    bad = ~((values >= (0.0 if nonnegative else -MAX_MONEY)) & (values <= MAX_MONEY))
    if bad.any():
        rule = "finite numbers" + (" >= 0" if nonnegative else "") + " below 1e12"
        raise SchemaError(
            f"{what}: {bad.sum()} value(s) are not {rule} (rows {row_list(bad)}; "
            f"e.g. {values[bad][0]!r}); fix or drop those rows"
        )
    return values
