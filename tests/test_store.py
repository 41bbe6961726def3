"""The DuckDB store: idempotent upserts, all-or-nothing batches, ingest log, exact read-back."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.io.schema import TABLES

from .test_dataset import assert_tables_equal, edit_cell


def store_counts(db) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in (*TABLES, "ingest_log", "rejected_rows")}
    finally:
        con.close()


def test_ingest_then_load_returns_exactly_what_was_ingested(tiny, tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    result = fl.ingest(tiny_folder, db=db)
    assert result.accepted == {"accounts": 3, "subscriptions": 4, "responses": 3, "conversations": 2, "tickets": 2, "usage": 3}
    assert result.rejected == {}
    assert_tables_equal(fl.load_dataset(db), tiny)


def test_ingest_is_idempotent(tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    fl.ingest(tiny_folder, db=db)
    first = fl.load_dataset(db)
    fl.ingest(tiny_folder, db=db)
    assert_tables_equal(fl.load_dataset(db), first)
    counts = store_counts(db)
    assert counts["ingest_log"] == 2 and counts["responses"] == 3


def test_overlapping_export_upserts_on_the_natural_key(tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    fl.ingest(tiny_folder, db=db)
    # a later export: response R3 corrected, one new response, accounts not included
    later = tmp_path / "later"
    later.mkdir()
    frame = pd.read_csv(tiny_folder / "responses.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "score"] = "9"
    extra = frame.iloc[[0]].assign(response_id="R4", score="8")
    pd.concat([frame.iloc[[2]], extra]).to_csv(later / "responses.csv", index=False)
    result = fl.ingest(later, db=db)  # orphans are checked against the accounts already stored
    assert result.accepted == {"responses": 2}
    scores = fl.load_dataset(db).responses.set_index("response_id")["score"].to_dict()
    assert scores == {"R1": 6, "R2": 3, "R3": 9, "R4": 8}


def test_one_bad_row_changes_nothing(tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    fl.ingest(tiny_folder, db=db)
    before = store_counts(db)
    snapshot = fl.load_dataset(db)
    edit_cell(tiny_folder, "responses", 1, "score", "6")  # a valid change ...
    edit_cell(tiny_folder, "responses", 3, "score", "11")  # ... and one bad row in the same batch
    with pytest.raises(fl.SchemaError, match="responses.csv: column 'score'"):
        fl.ingest(tiny_folder, db=db)
    assert store_counts(db) == before
    assert_tables_equal(fl.load_dataset(db), snapshot)


def test_quarantine_ingest_logs_rejected_rows(tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    edit_cell(tiny_folder, "tickets", 2, "severity", "urgent")
    result = fl.ingest(tiny_folder, db=db, errors="quarantine")
    assert result.rejected == {"tickets": 1} and result.accepted["tickets"] == 1
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute('select ingest_id, "table", "row", "column", "value" from rejected_rows').fetchall()
    log = con.execute("select rows_accepted, rows_rejected, file_hashes from ingest_log").fetchall()
    con.close()
    assert rows == [(1, "tickets", 2, "severity", "urgent")]
    assert log[0][0] == 16 and log[0][1] == 1 and "tickets.csv" in log[0][2]


def test_store_round_trips_lists_and_unicode(tiny, tiny_folder, tmp_path):
    db = tmp_path / "store.duckdb"
    fl.ingest(tiny_folder, db=db)
    ds = fl.load_dataset(db)
    assert ds.conversations["competitors_mentioned"].tolist() == [["Globex", "Initech"], []]
    assert ds.responses["comment"].iloc[1] == "客服响应太慢，价格太贵"
