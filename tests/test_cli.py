"""The command line: exit codes and readable messages."""

from __future__ import annotations

import subprocess
import sys

import feedback_lib as fl
from feedback_lib.cli import main

from .test_dataset import edit_cell


def test_ingest_command_reports_counts(tiny_folder, tmp_path, capsys):
    assert main(["ingest", str(tiny_folder), "--db", str(tmp_path / "s.duckdb")]) == 0
    assert "17 rows upserted, 0 rejected" in capsys.readouterr().out


def test_bad_export_exits_non_zero_with_the_rule(tiny_folder, tmp_path, capsys):
    edit_cell(tiny_folder, "responses", 2, "score", "11")
    assert main(["ingest", str(tiny_folder), "--db", str(tmp_path / "s.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "feedback-lib ingest: error:" in err
    assert "responses.csv: column 'score' breaks rule 'between 0 and 10' in 1 row (row 2; e.g. '11')" in err
    assert "Traceback" not in err


def test_quarantine_flag(tiny_folder, tmp_path, capsys):
    edit_cell(tiny_folder, "responses", 2, "score", "11")
    assert main(["ingest", str(tiny_folder), "--db", str(tmp_path / "s.duckdb"), "--quarantine"]) == 0
    assert "16 rows upserted, 1 rejected (see table rejected_rows)" in capsys.readouterr().out


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "feedback_lib", "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "demo" in proc.stdout and "report" in proc.stdout


def test_demo_command_writes_loadable_exports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--accounts", "60", "--seed", "3"]) == 0
    ds = fl.load_dataset(out)
    direct = fl.generate_demo(seed=3, n_accounts=60)
    assert len(ds.accounts) == 60 and ds.truth["seed"] == 3
    assert ds.row_counts() == direct.row_counts()
