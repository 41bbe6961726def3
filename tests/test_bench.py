"""Smoke test of the benchmark suite in ``bench/`` at a tiny scale, so that it cannot rot.

The suite runs inline (one process, no reports, no memory runs) on a 300-account demo company;
every SQL baseline must give the same result as its library call, and the results table must
have a row with finite numbers for every operation. One worker also runs as a real child process.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.compare import compare_frames
from bench.ops import OPERATIONS
from bench.results import table_rows
from bench.run import run_suite

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    record = run_suite("tiny", data_dir=out / "data", out_dir=out, reports=False, memory=False, inline=True,
                       log=lambda *_: None)
    return out, record


def test_every_sql_baseline_agrees_with_the_library(tiny):
    _, record = tiny
    results = {r["name"]: r for r in record["operations"]}
    assert set(results) == {op.name for op in OPERATIONS}
    for op in OPERATIONS:
        result = results[op.name]
        assert "error" not in result, f"{op.name}: {result.get('error')}"
        if op.baseline is not None:
            assert result["check"]["equal"], f"{op.name}: {result['check']['detail']}"
            assert result["check"]["rows"] > 0
            assert result["default_allocator"]["ratio_median"] > 0  # timed a second time with glibc's defaults


def test_results_have_a_row_with_finite_numbers_per_operation(tiny):
    out, record = tiny
    rows = {r["operation"]: r for r in table_rows(record)}
    for op in OPERATIONS:
        row = rows[op.label]
        assert math.isfinite(row["library_s"]) and row["library_s"] > 0
        if op.baseline is not None:
            assert math.isfinite(row["baseline_s"]) and row["baseline_s"] > 0
            assert math.isfinite(row["ratio"]) and row["ratio"] > 0
    markdown = (out / "results.md").read_text(encoding="utf-8")
    for op in OPERATIONS:
        line = next(line for line in markdown.splitlines() if line.startswith(f"| {op.label} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        numbers = cells[1:4] if op.baseline is not None else cells[1:2]
        assert all(math.isfinite(float(c)) for c in numbers), line
    assert json.loads((out / "results" / "tiny.json").read_text(encoding="utf-8"))["scale"] == "tiny"
    assert "with glibc's default allocator" in markdown


def test_the_check_catches_a_wrong_value():
    library = pd.DataFrame({"account_id": ["a", "b"], "mrr": [100.0, 50.0]})
    baseline = library.assign(mrr=[100.0, 50.01]).iloc[::-1]
    assert compare_frames(library, library.iloc[::-1], keys=["account_id"], columns=["mrr"]).equal
    check = compare_frames(library, baseline, keys=["account_id"], columns=["mrr"])
    assert not check.equal and "'mrr'" in check.detail


def test_a_worker_measures_memory_in_a_fresh_process(tiny):
    out, _ = tiny
    result_file = out / "memory.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", "op", "--name", "monthly_revenue", "--data",
         str(out / "data" / "tiny" / "seed42"), "--as-of", "2026-09-30", "--mode", "memory", "--side", "baseline",
         "--out", str(result_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["peak_mb"] >= result["base_mb"] > 0
