"""What a benchmarked operation is: a library call, its SQL baseline and the check between them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from ..compare import Check
from ..inputs import Inputs

__all__ = ["Operation", "month_literal", "month_number", "month_of", "month_start", "timestamp_literal"]


@dataclass(frozen=True)
class Operation:
    """One row of the benchmark table.

    Attributes
    ----------
    name
        Key used on the command line (``--ops``) and in the JSON results.
    label
        Text of the table row: the library call.
    inputs
        Tables and derived inputs (:data:`bench.inputs.DERIVED`) the operation reads; each is
        registered under its name in the DuckDB connection of the baseline.
    library
        ``library(inputs, as_of)``: the library call; returns its result.
    baseline
        ``baseline(con, as_of)``: the hand-written DuckDB SQL over the registered inputs, or
        ``None`` (a library-only timing such as a lifelines fit).
    check
        ``check(library_result, baseline_result)``: the equality check of the two results.
    ratio_target
        Whether the issue's target "library / baseline <= 1.0 at L" applies.
    info
        ``info(library_result)``: facts worth reporting about the result (a dict of numbers),
        e.g. the number of accounts a sampled model was fitted on.
    """

    name: str
    label: str
    inputs: tuple[str, ...]
    library: Callable[[Inputs, str], Any]
    baseline: Callable[[duckdb.DuckDBPyConnection, str], Any] | None = None
    check: Callable[[Any, Any], Check] | None = None
    ratio_target: bool = True
    info: Callable[[Any], dict] | None = None


def timestamp_literal(day: str) -> str:
    """SQL literal of a day (validated through pandas, so nothing else can be injected)."""
    return f"TIMESTAMP '{pd.Timestamp(day):%Y-%m-%d}'"


def month_number(day: str) -> int:
    """Months since 1970-01 of ``day`` (the integer month key the SQL baselines use)."""
    ts = pd.Timestamp(day)
    return (ts.year - 1970) * 12 + ts.month - 1


def month_literal(day: str) -> str:
    """SQL literal of the first day of the month of ``day``."""
    return f"TIMESTAMP '{pd.Timestamp(day):%Y-%m}-01'"


def month_of(column: str) -> str:
    """SQL expression: months since 1970-01 of a date or timestamp column."""
    return f"((year({column}) - 1970) * 12 + month({column}) - 1)"


def month_start(expression: str) -> str:
    """SQL expression: first day (DATE) of the month number ``expression`` (inverse of :func:`month_of`)."""
    return f"make_date(1970 + ({expression}) // 12, ({expression}) % 12 + 1, 1)"
