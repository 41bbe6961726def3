"""Loaders and the data contract: every rule, quarantine accounting, encodings and formats."""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import feedback_lib as fl
from feedback_lib.io.schema import SCHEMAS, STRING_DTYPE, TABLES, empty_frame

from .conftest import tiny_company


def edit_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell of ``table.csv`` (row is 1-based, header excluded) to the raw text ``value``."""
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


def assert_tables_equal(a: fl.Dataset, b: fl.Dataset) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=True, obj=name)


def test_roundtrip_csv_is_identical(tiny, tiny_folder):
    loaded = fl.load_dataset(tiny_folder)
    assert_tables_equal(loaded, tiny)
    assert loaded.rejected.empty and loaded.flags.empty
    assert loaded.tables_present == TABLES


# one bad cell per contract rule: (table, row, column, bad raw value, rule text in the message)
RULES = [
    ("accounts", 2, "account_id", "A1", "unique key (account_id)"),
    ("accounts", 3, "segment", "", "required (not empty)"),
    ("accounts", 1, "signup_date", "15.01.2024", "type: date (YYYY-MM-DD)"),
    ("subscriptions", 2, "end_date", "2024-02-01", "end_date after start_date"),
    ("subscriptions", 1, "mrr", "-5", ">= 0"),
    ("subscriptions", 3, "mrr", "lots", "type: number"),
    ("subscriptions", 4, "account_id", "A999", "account_id exists in accounts"),
    ("responses", 1, "score", "11", "between 0 and 10"),
    ("responses", 2, "score", "7.5", "type: whole number"),
    ("responses", 3, "responded_at", "", "required (not empty)"),
    ("responses", 3, "response_id", "R1", "unique key (response_id)"),
    ("responses", 2, "account_id", "NOPE", "account_id exists in accounts"),
    ("conversations", 1, "opportunity_mrr", "-1", ">= 0"),
    ("conversations", 2, "executive", "", "required (not empty)"),
    ("tickets", 1, "closed_at", "2024-05-01", "closed_at on or after opened_at"),
    ("tickets", 2, "severity", "urgent", "one of low, medium, high, critical"),
    ("tickets", 1, "csat", "6", "between 1 and 5"),
    ("usage", 2, "week", "2024-06-11", "week is a Monday"),
    ("usage", 3, "active_users", "-2", ">= 0"),
    ("usage", 2, "week", "2024-06-03", "unique key (account_id, week)"),
]


@pytest.mark.parametrize(("table", "row", "column", "value", "rule"), RULES)
def test_each_rule_names_file_column_row_and_value(tiny_folder, table, row, column, value, rule):
    edit_cell(tiny_folder, table, row, column, value)
    with pytest.raises(fl.SchemaError) as info:
        fl.load_dataset(tiny_folder)
    message = str(info.value)
    failures = info.value.failures
    hit = failures[(failures["rule"] == rule)]
    assert len(hit) == 1, message
    assert hit["table"].iloc[0] == f"{table}.csv"
    assert hit["row"].iloc[0] == row
    assert f"{table}.csv: column '{hit['column'].iloc[0]}' breaks rule '{rule}' in 1 row (row {row};" in message
    if value:
        assert value in hit["value"].iloc[0]
    # SchemaError is also a ValueError and a FeedbackLibError
    assert isinstance(info.value, ValueError) and isinstance(info.value, fl.FeedbackLibError)


@pytest.mark.parametrize(("table", "row", "column", "value", "rule"), RULES)
def test_quarantine_keeps_valid_rows_and_counts_add_up(tiny_folder, table, row, column, value, rule):
    edit_cell(tiny_folder, table, row, column, value)
    inputs = {t: len(pd.read_csv(tiny_folder / f"{t}.csv")) for t in TABLES}
    ds = fl.load_dataset(tiny_folder, errors="quarantine")
    rejected = ds.rejected["table"].value_counts()
    for t in TABLES:
        assert len(getattr(ds, t)) + rejected.get(t, 0) == inputs[t], t
    assert ds.rejected.loc[ds.rejected["table"] == table, "row"].tolist() == [row]
    assert rule in ds.rejected["rule"].iloc[0]


def test_all_failures_reported_at_once(tiny_folder):
    edit_cell(tiny_folder, "responses", 1, "score", "11")
    edit_cell(tiny_folder, "responses", 3, "score", "12")
    edit_cell(tiny_folder, "tickets", 2, "severity", "urgent")
    with pytest.raises(fl.SchemaError) as info:
        fl.load_dataset(tiny_folder)
    message = str(info.value)
    assert "3 data contract failure(s)" in message
    assert "in 2 rows (rows 1, 3; e.g. '11', '12')" in message
    assert "tickets.csv: column 'severity'" in message


def test_one_row_breaking_two_rules_is_rejected_once(tiny_folder):
    edit_cell(tiny_folder, "responses", 2, "score", "11")
    edit_cell(tiny_folder, "responses", 2, "account_id", "NOPE")
    ds = fl.load_dataset(tiny_folder, errors="quarantine")
    assert len(ds.responses) == 2
    (line,) = ds.rejected.itertuples(index=False)
    assert line.row == 2 and "score" in line.column and "account_id" in line.column
    assert "between 0 and 10" in line.rule and "account_id exists in accounts" in line.rule


def test_orphan_rows_rejected_not_dropped(tiny_folder):
    edit_cell(tiny_folder, "tickets", 1, "account_id", "GHOST")
    ds = fl.load_dataset(tiny_folder, errors="quarantine")
    assert ds.rejected[["table", "row", "column", "value"]].values.tolist() == [["tickets", 1, "account_id", "GHOST"]]


def test_missing_required_column_is_a_clear_error(tiny_folder):
    frame = pd.read_csv(tiny_folder / "responses.csv").drop(columns=["score"])
    frame.to_csv(tiny_folder / "responses.csv", index=False)
    with pytest.raises(fl.SchemaError, match=r"responses.csv: required column\(s\) 'score' missing"):
        fl.load_dataset(tiny_folder)


def test_missing_table_is_empty_with_canonical_columns(tiny_folder):
    (tiny_folder / "usage.csv").unlink()
    ds = fl.load_dataset(tiny_folder)
    pd.testing.assert_frame_equal(ds.usage, empty_frame("usage"))
    assert "usage" not in ds.tables_present


def test_amount_and_billing_period_normalised_to_mrr(tiny_folder):
    frame = pd.read_csv(tiny_folder / "subscriptions.csv", dtype=str, keep_default_na=False)
    frame["amount"] = ["", "1194", "", ""]
    frame["billing_period_months"] = ["", "12", "", ""]
    frame.loc[1, "mrr"] = ""
    frame.to_csv(tiny_folder / "subscriptions.csv", index=False)
    ds = fl.load_dataset(tiny_folder)
    assert ds.subscriptions["mrr"].tolist() == [1200.0, 99.5, 450.0, 300.0]  # 1194 / 12 = 99.5


def test_bad_billing_period_rejected(tiny_folder):
    frame = pd.read_csv(tiny_folder / "subscriptions.csv", dtype=str, keep_default_na=False)
    frame["amount"] = ["", "1194", "", ""]
    frame["billing_period_months"] = ["", "0", "", ""]
    frame.loc[1, "mrr"] = ""
    frame.to_csv(tiny_folder / "subscriptions.csv", index=False)
    with pytest.raises(fl.SchemaError, match=r"column 'billing_period_months' breaks rule 'whole number >= 1' in 1 row \(row 2"):
        fl.load_dataset(tiny_folder)


def test_competitor_lists_parse_from_semicolons(tiny_folder):
    ds = fl.load_dataset(tiny_folder)
    assert ds.conversations["competitors_mentioned"].tolist() == [["Globex", "Initech"], []]


@pytest.mark.parametrize("bom", ["utf-8-sig", "utf-16"])
def test_bom_encodings_load_the_same(tiny_folder, tiny, bom):
    for table in TABLES:
        path = tiny_folder / f"{table}.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode(bom))
    if bom == "utf-16":
        assert (tiny_folder / "responses.csv").read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    assert_tables_equal(fl.load_dataset(tiny_folder), tiny)


def test_other_encoding_needs_explicit_argument(tiny_folder, tiny):
    path = tiny_folder / "accounts.csv"
    text = path.read_text(encoding="utf-8").replace("北京科技", "Åbo Akademi")
    path.write_bytes(text.encode("cp1252"))
    (tiny_folder / "responses.csv").unlink()  # holds Chinese text, which cp1252 cannot encode
    with pytest.raises(fl.SchemaError, match=r"accounts.csv: cannot decode the file as utf-8 .* encoding="):
        fl.load_dataset(tiny_folder)
    ds = fl.load_dataset(tiny_folder, encoding="cp1252")
    assert ds.accounts.loc[1, "name"] == "Åbo Akademi"


def test_finnish_and_chinese_roundtrip_byte_exact(tiny, tiny_folder, tmp_path):
    ds = fl.load_dataset(tiny_folder)
    again = fl.save_dataset(ds, tmp_path / "again")
    for table in TABLES:
        assert (again / f"{table}.csv").read_bytes() == (tiny_folder / f"{table}.csv").read_bytes()
    comments = ds.responses["comment"].tolist()
    assert comments[0].encode("utf-8") == "Raportointityökalu on hidas ja asiakastuki ei vastaa".encode()
    assert comments[1] == "客服响应太慢，价格太贵"


def test_parquet_source_loads_the_same(tiny, tmp_path):
    folder = fl.save_dataset(tiny, tmp_path / "pq", format="parquet")
    assert_tables_equal(fl.load_dataset(folder), tiny)


@pytest.mark.parametrize("source", ["csv", "parquet", "duckdb"])
def test_id_and_text_columns_load_as_arrow_strings(tiny_folder, tmp_path, source):
    # the canonical text dtype (schema.STRING_DTYPE) whatever the source, so that look-ups and
    # hashing run on Arrow buffers
    if source == "parquet":
        path = fl.save_dataset(fl.load_dataset(tiny_folder), tmp_path / "pq", format="parquet")
    elif source == "duckdb":
        path = tmp_path / "store.duckdb"
        fl.ingest(tiny_folder, db=path)
    else:
        path = tiny_folder
    loaded = fl.load_dataset(path)
    for table in TABLES:
        for col in SCHEMAS[table].columns:
            if col.kind in ("id", "text"):
                assert getattr(loaded, table)[col.name].dtype == STRING_DTYPE, (source, table, col.name)
    assert loaded.accounts["account_id"].array.__arrow_array__().type in (pa.string(), pa.large_string())


def test_xlsx_source_loads_the_same(tiny, tiny_folder, tmp_path):
    book = tmp_path / "exports.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table in TABLES:
            pd.read_csv(tiny_folder / f"{table}.csv", dtype=str, keep_default_na=False).to_excel(
                writer, sheet_name=table, index=False
            )
    assert_tables_equal(fl.load_dataset(book), tiny)


def test_xlsx_typed_cells_load_the_same(tiny, tmp_path):
    """A workbook written from typed frames (real dates and numbers in cells)."""
    book = tmp_path / "typed.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table, frame in tiny.tables().items():
            out = frame.copy()
            if "competitors_mentioned" in out:
                out["competitors_mentioned"] = out["competitors_mentioned"].map(";".join)
            out.to_excel(writer, sheet_name=table, index=False)
    assert_tables_equal(fl.load_dataset(book), tiny)


def test_both_csv_and_parquet_for_one_table_is_ambiguous(tiny, tiny_folder):
    tiny.usage.to_parquet(tiny_folder / "usage.parquet")
    with pytest.raises(fl.SchemaError, match="both usage.csv and usage.parquet"):
        fl.load_dataset(tiny_folder)


def test_future_dates_are_flagged_not_dropped(tiny_folder):
    edit_cell(tiny_folder, "responses", 2, "responded_at", "2031-01-01")
    with pytest.warns(fl.DataQualityWarning, match="responded_at"):
        ds = fl.load_dataset(tiny_folder, as_of="2024-12-31")
    assert len(ds.responses) == 3
    assert ds.flags[["table", "row", "column", "value"]].values.tolist() == [["responses", 2, "responded_at", "2031-01-01"]]


def test_future_dates_flagged_against_the_datas_own_range(tiny_folder):
    edit_cell(tiny_folder, "tickets", 2, "opened_at", "2030-06-02")
    with pytest.warns(fl.DataQualityWarning):
        ds = fl.load_dataset(tiny_folder)
    assert ("tickets", 2, "opened_at") in {tuple(r) for r in ds.flags[["table", "row", "column"]].values}


def test_unknown_columns_warned_and_ignored(tiny_folder):
    frame = pd.read_csv(tiny_folder / "usage.csv")
    frame["note"] = "x"
    frame.to_csv(tiny_folder / "usage.csv", index=False)
    with pytest.warns(fl.DataQualityWarning, match="'note' are not part of the 'usage' contract"):
        ds = fl.load_dataset(tiny_folder)
    assert list(ds.usage.columns) == ["account_id", "week", "active_users", "seats"]


def test_unsupported_source_and_missing_path(tmp_path):
    with pytest.raises(fl.FeedbackLibError, match="no such file"):
        fl.load_dataset(tmp_path / "nothing")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(fl.FeedbackLibError, match="unsupported source"):
        fl.load_dataset(tmp_path / "x.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(fl.SchemaError, match="no table files found"):
        fl.load_dataset(tmp_path / "empty")


def test_validation_does_not_mutate_input():
    from feedback_lib.io.validate import validate_tables

    raw = {t: f.copy() for t, f in tiny_company().tables().items()}
    raw["responses"].loc[0, "score"] = 11
    before = {t: f.copy() for t, f in raw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validate_tables(raw, errors="quarantine")
    for t in TABLES:
        pd.testing.assert_frame_equal(raw[t], before[t])


@pytest.mark.parametrize("order", [["account_id", "week"], ["week", "account_id"], None])
def test_unique_key_check_finds_repeats_in_any_row_order(tmp_path, order):
    # exports sorted by the key columns (in either order) are checked without hashing; the
    # repeat of (A1, 2024-06-10) must be found the same way in sorted and in shuffled files
    usage = pd.DataFrame({"account_id": ["A1", "A1", "A2", "A2", "A1"],
                          "week": ["2024-06-03", "2024-06-10", "2024-06-03", "2024-06-10", "2024-06-10"],
                          "active_users": [1, 2, 3, 4, 5], "seats": [9, 9, 9, 9, 9]})
    usage = usage.sort_values(order, kind="stable") if order else usage.sample(frac=1, random_state=3)
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "name": "", "segment": "SMB", "region": "", "industry": "",
                             "owner": "", "csm": "", "signup_date": "2024-01-01"})
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    usage.to_csv(tmp_path / "usage.csv", index=False)
    loaded = fl.load_dataset(tmp_path, errors="quarantine")
    assert loaded.rejected["rule"].tolist() == ["unique key (account_id, week)"]
    assert loaded.rejected["value"].tolist() == ["A1, 2024-06-10"]
    assert len(loaded.usage) == 4
    usage.drop_duplicates(["account_id", "week"]).to_csv(tmp_path / "usage.csv", index=False)
    assert fl.load_dataset(tmp_path).rejected.empty
