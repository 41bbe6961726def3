"""The DuckDB store: validated, idempotent, all-or-nothing ingests with a log.

``ingest(source, db=...)`` validates ``source`` exactly as :func:`~feedback_lib.load_dataset`
does (orphans are checked against the accounts of the source *and* of the store), then, in one
transaction, upserts every table on its natural key (``INSERT OR REPLACE``; re-ingesting the same
or an overlapping export changes nothing it already holds), appends a row to ``ingest_log`` and
the quarantined rows to ``rejected_rows``. Any error rolls the whole batch back. Only DuckDB's
built-in features are used: nothing is downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from feedback_lib.errors import StoreError
from feedback_lib.io.dataset import load_dataset
from feedback_lib.io.schema import SCHEMAS, TABLES

__all__ = ["ingest", "IngestResult"]

_SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "date": "TIMESTAMP",
    "int": "BIGINT",
    "float": "DOUBLE",
    "list": "VARCHAR[]",
}

_ARROW_TYPES = {
    "id": pa.string(),
    "text": pa.string(),
    "date": pa.timestamp("us"),
    "int": pa.int64(),
    "float": pa.float64(),
    "list": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did: rows upserted and rejected per table."""

    ingest_id: int
    source: str
    accepted: dict
    rejected: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per table: accepted and rejected rows."""
        return pd.DataFrame(
            {"table": list(TABLES), "accepted": [self.accepted.get(t, 0) for t in TABLES],
             "rejected": [self.rejected.get(t, 0) for t in TABLES]}
        )


def _create_schema(con) -> None:
    for table in TABLES:
        spec = SCHEMAS[table]
        cols = ", ".join(f'"{c.name}" {_SQL_TYPES[c.kind]}' for c in spec.columns)
        key = ", ".join(f'"{k}"' for k in spec.key)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({cols}, PRIMARY KEY ({key}))')
    con.execute(
        "CREATE TABLE IF NOT EXISTS ingest_log (ingest_id BIGINT PRIMARY KEY, source VARCHAR, "
        "file_hashes VARCHAR, rows_accepted BIGINT, rows_rejected BIGINT, rows_by_table VARCHAR, "
        "ingested_at TIMESTAMP)"
    )
    con.execute(
        'CREATE TABLE IF NOT EXISTS rejected_rows (ingest_id BIGINT, "table" VARCHAR, "row" BIGINT, '
        '"column" VARCHAR, "rule" VARCHAR, "value" VARCHAR)'
    )


def _to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    spec = SCHEMAS[table]
    arrays = []
    for col in spec.columns:
        values = frame[col.name]
        if col.kind == "date":
            values = values.astype("datetime64[us]")
        elif col.kind in ("id", "text"):
            values = values.astype(object).where(values.notna(), None)
        elif col.kind == "int":
            values = values.astype(object).where(values.notna(), None)
        arrays.append(pa.array(values, type=_ARROW_TYPES[col.kind], from_pandas=True))
    return pa.Table.from_arrays(arrays, names=spec.column_names)


def ingest(source: str | Path, *, db: str | Path, errors: str = "raise", encoding: str | None = None) -> IngestResult:
    """Validate ``source`` and load it into the DuckDB store ``db`` in one transaction.

    Parameters
    ----------
    source : str or Path
        Anything :func:`~feedback_lib.load_dataset` reads.
    db : str or Path
        The DuckDB file (created with the canonical tables and primary keys if missing).
    errors : {"raise", "quarantine"}
        With ``"raise"`` (default) one bad row fails the whole batch and the store is unchanged;
        with ``"quarantine"`` valid rows are loaded and rejected rows are kept in
        ``rejected_rows`` with their reasons.

    Returns
    -------
    IngestResult
    """
    import duckdb

    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    try:
        _create_schema(con)
        known = [r[0] for r in con.execute("SELECT account_id FROM accounts").fetchall()]
        dataset = load_dataset(source, errors=errors, encoding=encoding, known_accounts=known)
        present = set(dataset.tables_present)
        accepted = {t: len(getattr(dataset, t)) for t in TABLES if t in present}
        rejected = dataset.rejected["table"].value_counts().to_dict() if len(dataset.rejected) else {}
        con.execute("BEGIN TRANSACTION")
        try:
            for table in TABLES:
                frame = getattr(dataset, table)
                if table not in present or frame.empty:
                    continue
                con.register("_incoming", _to_arrow(table, frame))
                cols = ", ".join(f'"{c}"' for c in SCHEMAS[table].column_names)
                con.execute(f'INSERT OR REPLACE INTO "{table}" ({cols}) SELECT {cols} FROM _incoming')
                con.unregister("_incoming")
            ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchone()[0]  # type: ignore[index]
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, current_timestamp)",
                [
                    ingest_id,
                    str(source),
                    json.dumps(dataset.input_hashes, sort_keys=True),
                    sum(accepted.values()),
                    len(dataset.rejected),
                    json.dumps(accepted, sort_keys=True),
                ],
            )
            if len(dataset.rejected):
                rej = dataset.rejected.astype({"table": str, "column": str, "rule": str, "value": str})
                rej = rej.assign(row=rej["row"].astype("int64"))
                rej.insert(0, "ingest_id", ingest_id)
                con.register("_rejected", rej)
                con.execute('INSERT INTO rejected_rows SELECT * FROM _rejected')
                con.unregister("_rejected")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    except duckdb.Error as exc:
        raise StoreError(f"{db}: the store could not be updated ({exc}); nothing was changed") from exc
    finally:
        con.close()
    return IngestResult(int(ingest_id), str(source), accepted, rejected)

