"""``fl.connect``: the six canonical tables as Ibis tables in the engine that holds them, and the
data contract checked there.

A source is a DuckDB file, a folder of Parquet exports (read in place by DuckDB, out of core), a
URL that Ibis understands (``postgresql://user@host:port/db``, ``duckdb:///path.duckdb``, ...) or
an Ibis backend object (``ibis.pyspark.connect(session)``, ``ibis.postgres.connect(...)``,
Snowflake, BigQuery, Trino, ...). Nothing is pulled into Python: :meth:`EngineDataset.validate`
runs one counting query per rule and fetches at most three example rows of a broken rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from feedback_lib.engines._ibis import as_int, ibis_module
from feedback_lib.errors import ParameterError, SchemaError
from feedback_lib.io.schema import SCHEMAS, TABLES, Column, Table, empty_frame

__all__ = ["EngineDataset", "connect"]

_EXAMPLES = 3  # example rows named per broken rule
_WIDE_RULES = {  # cross-column rules of feedback_lib.io.validate, as (column, rule, ok-expression)
    "subscriptions": ("end_date", "end_date after start_date", lambda t: t.end_date.isnull() | (t.end_date > t.start_date)),
    "tickets": ("closed_at", "closed_at on or after opened_at", lambda t: t.closed_at.isnull() | (t.closed_at >= t.opened_at)),
}


@dataclass
class EngineDataset:
    """The canonical tables of one engine, each an Ibis table (a table the source lacks is an empty
    in-memory table with the canonical columns); ``backend`` is the Ibis backend.

    Attributes ``accounts``, ``subscriptions``, ``responses``, ``conversations``, ``tickets`` and
    ``usage`` are what ``fl.load_dataset`` gives as DataFrames; ``missing`` names the tables the
    source lacks.
    """

    backend: Any
    tables: dict[str, Any] = field(repr=False)
    missing: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def validate(self, *, errors: str = "raise") -> pd.DataFrame:
        """Check the data contract with queries in the engine.

        Rules (those of ``feedback_lib.io.validate``): canonical columns present, required cells
        not empty, value ranges and allowed values, ``end_date`` after ``start_date`` and
        ``closed_at`` on or after ``opened_at``, unique keys, and every ``account_id`` known in
        ``accounts``.

        Parameters
        ----------
        errors
            ``"raise"`` (default): a :class:`SchemaError` naming table, column, rule, the number of
            broken rows and example values (engines have no row numbers: the examples give the
            rows' keys). ``"report"``: return the failures instead.

        Returns
        -------
        DataFrame
            ``table, column, rule, rows, examples``: one row per broken rule (empty when the data
            keeps the contract).
        """
        if errors not in ("raise", "report"):
            raise ParameterError(f"validate: errors must be 'raise' or 'report', got {errors!r}")
        found: list[dict] = []
        for name in TABLES:
            if name not in self.missing:
                found += _table_failures(SCHEMAS[name], self.tables[name], self.tables["accounts"]
                                         if "accounts" not in self.missing and name != "accounts" else None)
        report = pd.DataFrame(found, columns=["table", "column", "rule", "rows", "examples"])
        if errors == "raise" and len(report):
            lines = [f"{r.table}: column '{r.column}' breaks rule '{r.rule}' in {r.rows} row(s) (e.g. {r.examples})"
                     for r in report.itertuples()]
            head = f"{len(report)} data contract rule(s) broken in the engine; fix the source tables:"
            failures = report.assign(row=pd.NA, value=report["examples"])[["table", "row", "column", "rule", "value"]]
            raise SchemaError("\n".join([head, *("  " + line for line in lines)]), failures=failures)
        return report


def _examples(table: Any, broken: Any, key: tuple[str, ...], column: str) -> str:
    shown = list(dict.fromkeys([*key, column]))
    rows = table.filter(broken).select(*shown).limit(_EXAMPLES).to_pandas()
    return "; ".join(", ".join(f"{c}={row[c]!r}" for c in shown) for _, row in rows.iterrows())


def _column_rule(col: Column, t: Any) -> tuple[str, Any] | None:
    """(rule name, broken-row predicate) of a column's value rule, as named by io.validate."""
    value = t[col.name]
    if col.ge is not None and col.le is not None:
        return f"between {col.ge:g} and {col.le:g}", value.notnull() & ((value < col.ge) | (value > col.le))
    if col.ge is not None:
        return f">= {col.ge:g}", value.notnull() & (value < col.ge)
    if col.isin is not None:
        return "one of " + ", ".join(col.isin), value.notnull() & ~value.isin(list(col.isin))
    return None


def _table_failures(spec: Table, t: Any, accounts: Any | None) -> list[dict]:
    have = set(t.columns)
    out: list[dict] = []
    absent = [c.name for c in spec.columns if c.required and c.name not in have]
    for name in absent:
        out.append(dict(table=spec.name, column=name, rule="column present", rows=0, examples="the column is missing"))
    if absent:
        return out
    checks: list[tuple[str, str, Any]] = []
    for col in spec.columns:
        if col.name not in have:
            continue
        if not col.nullable:
            checks.append((col.name, "required (not empty)", t[col.name].isnull()))
        value_rule = _column_rule(col, t)
        if value_rule is not None:
            checks.append((col.name, *value_rule))
    if spec.name in _WIDE_RULES:
        wide_column, wide_rule, ok = _WIDE_RULES[spec.name]
        checks.append((wide_column, wide_rule, ~ok(t)))
    if accounts is not None and spec.references_accounts and "account_id" in have:
        known = accounts.select(_known=accounts.account_id).distinct()
        checks.append(("account_id", "account_id in accounts",
                       t.account_id.notnull() & ~t.account_id.isin(known._known)))
    counts = t.aggregate(**{f"c{i}": as_int(check[2]).sum() for i, check in enumerate(checks)}).to_pandas()
    for i, (column, rule, broken) in enumerate(checks):
        n = int(counts[f"c{i}"].fillna(0).iloc[0]) if len(counts) else 0
        if n:
            out.append(dict(table=spec.name, column=column, rule=rule, rows=n,
                            examples=_examples(t, broken, spec.key, column)))
    key = list(spec.key)
    dup = t.group_by(key).aggregate(_n=t.count()).filter(lambda g: g._n > 1)
    n_dup = int(dup.aggregate(rows=dup._n.sum()).to_pandas()["rows"].iloc[0] or 0)
    if n_dup:
        shown = dup.limit(_EXAMPLES).to_pandas()
        examples = "; ".join(", ".join(f"{c}={row[c]!r}" for c in key) for _, row in shown.iterrows())
        out.append(dict(table=spec.name, column=", ".join(key), rule=f"unique key ({', '.join(key)})",
                        rows=n_dup, examples=examples))
    return out


def _backend(source: Any) -> tuple[Any, dict[str, str]]:
    """An Ibis backend for ``source`` and, for a Parquet folder, the files to read."""
    ibis = ibis_module()
    if type(source).__module__.startswith("ibis.backends"):
        return source, {}
    if not isinstance(source, (str, Path)):
        raise ParameterError(
            f"connect: source must be a DuckDB file, a Parquet folder, a URL (postgresql://..., duckdb://...) "
            f"or an Ibis backend, got {type(source).__name__}")
    text = str(source)
    if "://" in text:
        return ibis.connect(text), {}
    path = Path(text)
    if path.is_dir():
        files = {t: str(f) for t in TABLES if (f := path / f"{t}.parquet").exists()}
        if not files:
            raise ParameterError(f"connect: {path} holds no <table>.parquet files (e.g. subscriptions.parquet)")
        return ibis.duckdb.connect(), files
    if path.suffix in (".duckdb", ".db"):
        if not path.exists():
            raise ParameterError(f"connect: {path} does not exist")
        return ibis.duckdb.connect(str(path), read_only=True), {}
    raise ParameterError(f"connect: cannot read {text!r}; pass a .duckdb file, a Parquet folder, a URL or an Ibis backend")


def _table_names(backend: Any, database: str | None) -> set[str]:
    """Tables of the backend (DuckDB's are read from information_schema directly: ibis 12's
    ``list_tables`` calls a method duckdb 2.0 no longer has)."""
    if backend.name != "duckdb":
        return set(backend.list_tables(database=database))
    where = "" if database is None else f" WHERE table_schema = '{database.replace(chr(39), '')}'"
    rows = backend.raw_sql(f"SELECT table_name FROM information_schema.tables{where}").fetchall()
    return {row[0] for row in rows}


def connect(source: Any, *, database: str | None = None) -> EngineDataset:
    """The canonical tables of ``source`` as Ibis tables, run where the data lives.

    Parameters
    ----------
    source
        A DuckDB file (``.duckdb``/``.db``, opened read-only), a folder of ``<table>.parquet``
        files (DuckDB reads them in place), a URL Ibis connects to (``postgresql://...``,
        ``duckdb://...``) or an Ibis backend object.
    database
        Schema (or database) holding the tables, when not the backend's default.

    Returns
    -------
    EngineDataset
        With ``accounts``, ``subscriptions``, ``responses``, ``conversations``, ``tickets`` and
        ``usage`` as Ibis tables and :meth:`~EngineDataset.validate`.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> con = ibis.duckdb.connect()
    >>> _ = con.create_table("accounts", ibis.memtable(pd.DataFrame({"account_id": ["a"]})))
    >>> ds = connect(con)
    >>> ds.accounts.count().execute(), ds.missing[:2]
    (1, ('subscriptions', 'responses'))
    """
    ibis = ibis_module()
    backend, files = _backend(source)
    present = _table_names(backend, database) if not files else set()
    tables, missing = {}, []
    for name in TABLES:
        if name in files:
            tables[name] = backend.read_parquet(files[name], table_name=name)
        elif name in present:
            tables[name] = backend.table(name, database=database)
        else:
            tables[name] = ibis.memtable(empty_frame(name))
            missing.append(name)
    return EngineDataset(backend=backend, tables=tables, missing=tuple(missing))
