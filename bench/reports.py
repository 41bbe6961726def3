"""End-to-end report runs: ``feedback-lib report KIND`` in a child process, wall time and memory.

The child is the real command line (papermill executes the notebook in a Jupyter kernel, then
the HTML export and, for ``quarterly``, the deck). Its wall time, the largest single process
(``ru_maxrss``) and the sampled peak of the whole process tree are recorded, with the step times
of the report's ``manifest.json`` and the slowest notebook cells (papermill's per-cell
durations), which show where the time goes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from .measure import run_measured

__all__ = ["REPORT_KINDS", "run_report"]

REPORT_KINDS = ("weekly", "quarterly")
_SLOWEST_CELLS = 5


def _available(kind: str) -> str:
    """Empty when the report notebook is installed, else why not."""
    from feedback_lib import FeedbackLibError

    try:
        from feedback_lib.reporting.runner import report_notebook
    except ImportError as exc:
        return f"report runner not importable ({exc})"
    try:
        report_notebook(kind)
    except FeedbackLibError as exc:
        return str(exc)
    return ""


def _command(kind: str, *, as_of: str, source: Path, out: Path) -> list[str]:
    script = Path(sys.executable).with_name("feedback-lib")
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "feedback_lib"]
    return [*entry, "report", kind, "--as-of", as_of, "--source", str(source), "--out", str(out), "--no-progress"]


def _slowest_cells(folder: Path) -> list[dict]:
    notebooks = sorted(folder.rglob("*.ipynb"))
    if not notebooks:
        return []
    cells = []
    for cell in nbformat.read(notebooks[0], as_version=4).cells:
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.cell_type == "code" and duration is not None:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            cells.append({"seconds": float(duration), "cell": first[:90]})
    return sorted(cells, key=lambda c: c["seconds"], reverse=True)[:_SLOWEST_CELLS]


def run_report(kind: str, *, as_of: str, source: Path) -> dict:
    """Run report ``kind`` on ``source`` into a temporary folder and measure it.

    Returns
    -------
    dict
        ``kind``, ``status`` (``ok``, ``failed`` or ``not yet available``), ``seconds``,
        ``cpu_seconds``, ``max_rss_mb``, ``tree_peak_mb``, ``steps_seconds`` (from ``manifest.json``),
        ``slowest_cells`` and ``detail`` (the reason when not ok).
    """
    missing = _available(kind)
    if missing:
        return {"kind": kind, "status": "not yet available", "detail": missing}
    out = Path(tempfile.mkdtemp(prefix=f"bench-report-{kind}-"))
    try:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},  # glibc defaults
               "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        run = run_measured(_command(kind, as_of=as_of, source=source, out=out), env=env)
        result = {"kind": kind, "seconds": run.seconds, "cpu_seconds": run.cpu_seconds, "max_rss_mb": run.max_rss_mb,
                  "tree_peak_mb": run.tree_peak_mb}
        if run.returncode != 0:
            lines = (run.stderr.strip() or run.stdout.strip()).splitlines()
            errors = [line for line in lines if "error" in line.lower()] or lines[-8:]
            return {**result, "status": "failed", "detail": f"exit {run.returncode}: " + " | ".join(errors[-3:])}
        manifests = sorted(out.rglob("manifest.json"))
        steps = json.loads(manifests[0].read_text(encoding="utf-8")).get("steps_seconds", {}) if manifests else {}
        return {**result, "status": "ok", "steps_seconds": steps, "slowest_cells": _slowest_cells(out), "detail": ""}
    finally:
        shutil.rmtree(out, ignore_errors=True)
