"""Validate raw tables against the data contract and coerce them to canonical dtypes.

Two stages, all failures collected before anything is reported:

1. *Parsing* (vectorised): each column is converted to its canonical kind
   (:mod:`feedback_lib.io.schema`); a non-empty cell that does not parse is a ``type`` failure.
2. *Rules* (pandera, lazy validation): emptiness, ranges, allowed values, unique keys and
   cross-column rules, then referential integrity (every ``account_id`` must exist in accounts).

Every failure is a row ``table, row, column, rule, value`` with ``row`` the 1-based source row
(header excluded). ``errors="raise"`` turns them into one :class:`SchemaError` that names file,
column, rule, rows and example values; ``errors="quarantine"`` keeps the valid rows and returns
one rejected line per failing source row, so valid + rejected = input rows for every table.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import permutations

import numpy as np
import pandas as pd
import pandera.pandas as pdv
import pyarrow as pa
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from feedback_lib._util.arrow import text_array
from feedback_lib.errors import DataQualityWarning, SchemaError
from feedback_lib.io._parse import _failures, _parse_table, _show
from feedback_lib.io.schema import REJECTED_COLUMNS, SCHEMAS, TABLES, Column, Table

__all__ = ["FUTURE_MARGIN_DAYS", "validate_tables", "ValidationResult"]

#: A date later than this many days after the end of the data's own range is flagged.
FUTURE_MARGIN_DAYS = 31

EVENT_DATES = {
    "responses": "responded_at",
    "conversations": "held_on",
    "tickets": "opened_at",
    "usage": "week",
}


#: Dates that may legitimately lie in the future (a contract's scheduled end).
SCHEDULED_DATES = {("subscriptions", "end_date")}


@dataclass
class ValidationResult:
    """Canonical valid tables plus the rejected and flagged cells."""

    tables: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    flags: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# Stage 1: parsing
# ---------------------------------------------------------------------------------------------




























# ---------------------------------------------------------------------------------------------
# Stage 2: rules with pandera
# ---------------------------------------------------------------------------------------------


def _value_checks(col: Column) -> list[pdv.Check]:
    """pandera checks of one column's values, named as the rule reads in error messages."""
    checks = []
    if col.ge is not None and col.le is not None:
        lo, hi = col.ge, col.le
        checks.append(pdv.Check(lambda s: (s >= lo) & (s <= hi), name=f"between {lo:g} and {hi:g}"))
    elif col.ge is not None:
        lo = col.ge
        checks.append(pdv.Check(lambda s: s >= lo, name=f">= {lo:g}"))
    if col.isin is not None:
        allowed = list(col.isin)
        checks.append(pdv.Check(lambda s: s.isin(allowed), name="one of " + ", ".join(allowed)))
    return checks


def _wide_checks(spec: Table) -> list[pdv.Check]:
    if spec.name == "subscriptions":
        return [
            pdv.Check(
                lambda df: df["end_date"].isna() | (df["end_date"] > df["start_date"]),
                name="end_date after start_date",
            )
        ]
    if spec.name == "tickets":
        return [
            pdv.Check(
                lambda df: df["closed_at"].isna() | (df["closed_at"] >= df["opened_at"]),
                name="closed_at on or after opened_at",
            )
        ]
    if spec.name == "usage":
        return [pdv.Check(lambda df: df["week"].isna() | (df["week"].dt.dayofweek == 0), name="week is a Monday")]
    return []


WIDE_CHECK_COLUMN = {
    "end_date after start_date": "end_date",
    "closed_at on or after opened_at": "closed_at",
    "week is a Monday": "week",
}


def pandera_schema(spec: Table) -> pdv.DataFrameSchema:
    """The pandera schema of one canonical table (dtypes already coerced by stage 1)."""
    columns = {
        c.name: pdv.Column(None, checks=_value_checks(c), nullable=c.nullable, required=False)
        for c in spec.columns
        if c.kind != "list"
    }
    return pdv.DataFrameSchema(columns, checks=_wide_checks(spec))


def _strictly_increasing(frame: pd.DataFrame, key: tuple[str, ...]) -> bool:
    """Whether the rows are in strictly increasing key order (then no key repeats), in O(n)."""
    ahead = np.ones(max(len(frame) - 1, 0), dtype=bool)  # row i + 1 still to be decided
    result = np.zeros(len(ahead), dtype=bool)
    for name in key:
        col = frame[name]
        if col.isna().any():
            return False
        if isinstance(col.dtype, pd.StringDtype):
            values = text_array(col)
            greater = pc.greater(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
            equal = pc.equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
        else:
            values = col.to_numpy()
            greater, equal = values[1:] > values[:-1], values[1:] == values[:-1]
        result |= ahead & greater
        ahead &= equal
    return bool(result.all())


def _duplicate_keys(spec: Table, frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Rows repeating the key of an earlier row (the first occurrence is kept)."""
    key = list(spec.key)
    # exports sorted by the key columns (in any order of them) cannot repeat a key: no hashing needed
    if len(frame) < 2 or any(_strictly_increasing(frame, order) for order in permutations(spec.key)):
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    repeated = frame.duplicated(subset=key, keep="first")
    rows = np.flatnonzero(repeated.to_numpy())
    values = [", ".join(_show(frame[k].iat[r]) for k in key) for r in rows]
    return pd.DataFrame({"table": file, "row": rows + 1, "column": ", ".join(key),
                         "rule": f"unique key ({', '.join(key)})", "value": values})


def _rule_failures(spec: Table, frame: pd.DataFrame, file: str) -> pd.DataFrame:
    duplicates = _duplicate_keys(spec, frame, file)
    try:
        pandera_schema(spec).validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return duplicates
    cases = cases[cases["index"].notna()].copy()
    rules = cases["check"].astype(str)
    wide = rules.map(WIDE_CHECK_COLUMN)
    column = wide.where(wide.notna(), cases["column"].astype(object))
    rules = rules.replace({"not_nullable": "required (not empty)"})
    rows = cases["index"].astype(int).to_numpy()
    values = [_show(frame.at[r, c]) for r, c in zip(rows, column)]
    out = pd.DataFrame({"table": file, "row": rows + 1, "column": column.to_numpy(), "rule": rules.to_numpy(), "value": values})
    out = pd.concat([out, duplicates], ignore_index=True) if len(duplicates) else out
    return out.drop_duplicates(["row", "column", "rule"])


# ---------------------------------------------------------------------------------------------
# Whole dataset
# ---------------------------------------------------------------------------------------------


def _future_reference(tables: dict[str, pd.DataFrame], as_of) -> pd.Timestamp | None:
    if as_of is not None:
        return pd.Timestamp(as_of)
    pooled = [tables[t][c].to_numpy(dtype="datetime64[ns]").view(np.int64) for t, c in EVENT_DATES.items() if t in tables]
    nanoseconds = np.concatenate(pooled) if pooled else np.zeros(0, dtype=np.int64)
    nanoseconds = nanoseconds[nanoseconds != np.iinfo(np.int64).min]  # NaT
    if len(nanoseconds) == 0:
        return None
    p99 = pd.Timestamp(int(round(float(np.quantile(nanoseconds, 0.99)))))  # linear interpolation, as pandas
    return p99 + pd.Timedelta(days=FUTURE_MARGIN_DAYS)


def _known_accounts(accounts: pd.DataFrame | None, file: str | None, failure_parts: list,
                    known_accounts: Iterable[str] | None) -> pa.Array | None:
    """Account ids an ``account_id`` may reference: the valid accounts rows plus ``known_accounts``.

    ``None`` when there is neither an accounts table nor a list of known accounts.
    """
    if accounts is None and known_accounts is None:
        return None
    parts = [pa.array(list(known_accounts or ()), type=pa.large_string())]
    if accounts is not None:
        failed = [part.loc[part["table"] == file, "row"].to_numpy() - 1 for part in failure_parts if len(part)]
        ok = np.ones(len(accounts), dtype=bool)
        if failed:
            ok[np.concatenate(failed).astype(np.int64)] = False
        ids = text_array(accounts["account_id"]).filter(pa.array(ok))
        parts += [chunk.cast(pa.large_string()) for chunk in ids.chunks]
    return pa.concat_arrays(parts).drop_null()


def _format_error(failures: pd.DataFrame) -> str:
    lines = []
    for (table, column, rule), group in failures.groupby(["table", "column", "rule"], sort=False):
        rows = group["row"].tolist()
        shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
        examples = ", ".join(repr(v) for v in pd.unique(group["value"].astype(str))[:3])
        noun = "row" if len(rows) == 1 else "rows"
        lines.append(
            f"{table}: column '{column}' breaks rule '{rule}' in {len(rows)} {noun} "
            f"({noun} {shown}; e.g. {examples})"
        )
    head = f"{len(failures)} data contract failure(s); fix the source or load with errors='quarantine':"
    return "\n".join([head, *("  " + line for line in lines)])


def validate_tables(
    raw: dict[str, pd.DataFrame],
    *,
    files: dict[str, str] | None = None,
    errors: str = "raise",
    known_accounts: Iterable[str] | None = None,
    as_of=None,
) -> ValidationResult:
    """Validate raw tables; return canonical valid tables, rejected rows and flagged cells.

    Parameters
    ----------
    raw : dict of DataFrame
        Tables by canonical name, as read from the source (strings or typed values).
    files : dict, optional
        Table name -> file name used in messages (defaults to the table name).
    errors : {"raise", "quarantine"}
        ``"raise"`` raises one :class:`SchemaError` listing every failure; ``"quarantine"`` keeps
        valid rows and returns one line per rejected source row in ``rejected``.
    known_accounts : iterable of str, optional
        Account ids that exist elsewhere (for example already in the store); rows referencing
        them are not orphans.
    as_of : date-like, optional
        Dates after it are flagged; by default the end of the data's own range is the 99th
        percentile of all event dates plus ``FUTURE_MARGIN_DAYS``.
    """
    if errors not in ("raise", "quarantine"):
        raise ValueError(f"errors must be 'raise' or 'quarantine', got {errors!r}")
    unknown = sorted(set(raw) - set(TABLES))
    if unknown:
        raise SchemaError(f"unknown table(s) {', '.join(unknown)}; the tables are {', '.join(TABLES)}")
    files = {t: (files or {}).get(t, t) for t in raw}
    failure_parts: list[pd.DataFrame] = []
    parsed: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if table not in raw:
            continue
        spec = SCHEMAS[table]
        parts: list[pd.DataFrame] = []
        frame, bad = _parse_table(spec, raw[table], files[table], parts)
        rule_fail = _rule_failures(spec, frame, files[table])
        if len(rule_fail):
            # a cell that did not parse is NA now: do not report it a second time as empty
            parse_bad = bad.stack()
            parse_bad = set(parse_bad[parse_bad].index)
            keep = [(r - 1, c) not in parse_bad for r, c in zip(rule_fail["row"], rule_fail["column"])]
            rule_fail = rule_fail[keep]
        parts.append(rule_fail)
        failure_parts.extend(p for p in parts if len(p))
        parsed[table] = frame

    known = _known_accounts(parsed.get("accounts"), files.get("accounts"), failure_parts, known_accounts)
    if known is not None:
        for table, frame in parsed.items():
            if not SCHEMAS[table].references_accounts:
                continue
            member = pc.is_in(text_array(frame["account_id"]), value_set=known).to_numpy(zero_copy_only=False)
            orphan = frame["account_id"].notna().to_numpy() & ~member
            if orphan.any():
                failure_parts.append(
                    _failures(files[table], pd.Series(orphan, index=frame.index), "account_id",
                              "account_id exists in accounts", frame["account_id"])
                )
    elif parsed:
        warnings.warn(
            "no accounts table and no known accounts: orphan rows (unknown account_id) cannot be checked",
            DataQualityWarning,
            stacklevel=3,
        )

    failures = (
        pd.concat(failure_parts, ignore_index=True)
        if failure_parts
        else pd.DataFrame(columns=REJECTED_COLUMNS)
    )
    if len(failures) and errors == "raise":
        raise SchemaError(_format_error(failures), failures=failures.reset_index(drop=True))

    rejected_parts = []
    drop_rows: dict[str, np.ndarray] = {}
    for table in parsed:
        mine = failures[failures["table"] == files[table]]
        drop_rows[table] = np.unique(mine["row"].to_numpy(dtype=int) - 1)
        if len(mine):
            grouped = (
                mine.astype({"value": str, "column": str, "rule": str})
                .groupby("row", sort=True)
                .agg({"column": "; ".join, "rule": "; ".join, "value": "; ".join})
                .reset_index()
            )
            grouped.insert(0, "table", table)
            rejected_parts.append(grouped[REJECTED_COLUMNS])
    rejected = (
        pd.concat(rejected_parts, ignore_index=True) if rejected_parts else pd.DataFrame(columns=REJECTED_COLUMNS)
    )
    kept = {t: frame.drop(index=drop_rows[t]) if len(drop_rows[t]) else frame for t, frame in parsed.items()}
    flags = _flag_future_dates(kept, files, as_of)
    valid = {t: frame.reset_index(drop=True) if len(drop_rows[t]) else frame for t, frame in kept.items()}
    return ValidationResult(valid, rejected, flags)


def _flag_future_dates(parsed: dict[str, pd.DataFrame], files: dict[str, str], as_of) -> pd.DataFrame:
    reference = _future_reference(parsed, as_of)
    parts = []
    if reference is None:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    rule = f"date after the end of the data's range ({reference:%Y-%m-%d})"
    for table, frame in parsed.items():
        for col in SCHEMAS[table].columns:
            if col.kind != "date" or (table, col.name) in SCHEDULED_DATES:
                continue
            late = frame[col.name] > reference
            if late.any():
                part = _failures(table, late, col.name, rule, frame[col.name])
                parts.append(part)
                warnings.warn(
                    f"{files[table]}: column '{col.name}' has {int(late.sum())} date(s) after "
                    f"{reference:%Y-%m-%d} (e.g. {part['value'].iloc[0]}); they are kept and listed "
                    "in Dataset.flags",
                    DataQualityWarning,
                    stacklevel=4,
                )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REJECTED_COLUMNS)
