"""The data's date range, read cheaply, refuses an as_of outside it before a notebook starts."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from feedback_lib.errors import ParameterError
from feedback_lib.reporting.preflight import check_as_of_in_range, source_date_range


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "exports"
    out.mkdir()
    (out / "responses.csv").write_text(
        "response_id,account_id,responded_at,score\n"
        "R1,A1,2024-03-05T14:03:00,9\nR2,A1,2024-06-30,3\nR3,A2,,7\n")
    (out / "tickets.csv").write_text("ticket_id,account_id,opened_at\nT1,A1,2024-01-15\n")
    (out / "usage.csv").write_text("account_id,week,active_users\nA1,2024-07-01,3\n")
    (out / "accounts.csv").write_text("account_id\nA1\nA2\n")
    return out


def test_folder_range_is_the_union_of_the_dated_tables(folder):
    assert source_date_range(folder) == (dt.date(2024, 1, 15), dt.date(2024, 7, 1))


def test_duckdb_range_uses_min_max(tmp_path):
    path = tmp_path / "store.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE responses (response_id VARCHAR, responded_at TIMESTAMP)")
    con.execute("INSERT INTO responses VALUES ('R1', '2025-02-01 10:00'), ('R2', '2025-05-31')")
    con.execute("CREATE TABLE conversations (held_on DATE)")
    con.execute("INSERT INTO conversations VALUES ('2025-01-20')")
    con.close()
    assert source_date_range(path) == (dt.date(2025, 1, 20), dt.date(2025, 5, 31))


@pytest.mark.parametrize("as_of", ["2024-01-15", "2024-04-01", "2024-07-01"])
def test_as_of_inside_the_range_passes(folder, as_of):
    check_as_of_in_range(folder, dt.date.fromisoformat(as_of))


@pytest.mark.parametrize("as_of", ["2024-01-14", "2027-01-04"])
def test_as_of_outside_the_range_is_one_line_naming_the_range(folder, as_of):
    with pytest.raises(ParameterError) as info:
        check_as_of_in_range(folder, dt.date.fromisoformat(as_of))
    assert str(info.value) == (f"as_of {as_of} is outside the data's date range 2024-01-15 to "
                               f"2024-07-01 ({folder})")


def test_undated_or_unreadable_sources_are_left_to_the_loader(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n")
    (tmp_path / "responses.csv").write_text("id,when\n1,2\n")  # no responded_at column
    assert source_date_range(tmp_path) is None
    check_as_of_in_range(tmp_path, dt.date(1999, 1, 1))
