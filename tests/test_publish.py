"""Crash-safe publishing (feedback_lib.reporting.publish): kill -9 at every file-system step.

A child process builds a report in a WorkFolder and publishes it over an earlier one; it kills
itself with SIGKILL at its k-th file-system call (mkdir, open, rename, unlink, rmdir, ...), for
every k until a run completes. After each kill the published path must hold the complete old or
the complete new report (with the atomic exchange: before any recovery; with the two-rename
fallback: after the next run's recovery), and the next run must leave no hidden debris.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feedback_lib.reporting import publish
from feedback_lib.reporting.publish import WorkFolder, recover

FILES = ("report.html", "metrics.json", "callbacks.csv", "manifest.json")

CHILD = textwrap.dedent("""
    import importlib.util, os, signal, sys

    kind_dir, version, kill_at, exchange = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    spec = importlib.util.spec_from_file_location("publish", sys.argv[5])  # stdlib only: fast
    publish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publish)
    calls = [0]

    def bomb(fn):
        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapper

    for name in ("mkdir", "open", "rename", "replace", "unlink", "rmdir", "scandir"):
        setattr(os, name, bomb(getattr(os, name)))
    with publish.WorkFolder(kind_dir, "2026-W39", exchange=exchange) as work:
        for name in sys.argv[6].split(","):
            with open(work.path / name, "w") as handle:
                handle.write(version + " " + name)
        work.publish()
""")


def write_report(folder: Path, version: str) -> None:
    folder.mkdir(parents=True)
    for name in FILES:
        (folder / name).write_text(f"{version} {name}")


def version_of(folder: Path) -> str:
    """'old' or 'new' when ``folder`` holds one complete report; fails otherwise."""
    assert folder.is_dir(), f"no report at {folder}"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    versions = {(folder / name).read_text().split()[0] for name in FILES}
    assert len(versions) == 1, f"mixed report {versions}"
    return versions.pop()


def hidden(kind_dir: Path) -> list[str]:
    return sorted(p.name for p in kind_dir.iterdir() if p.name.startswith((".tmp-", ".old-")))


def run_child(kind_dir: Path, kill_at: int, exchange: bool) -> int:
    return subprocess.run([sys.executable, "-c", CHILD, str(kind_dir), "new", str(kill_at),
                           "1" if exchange else "0", publish.__file__,
                           ",".join(FILES)], timeout=60).returncode


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_kill_at_every_step_leaves_the_old_or_the_new_report(tmp_path, exchange):
    kills = 0
    for kill_at in range(1, 200):
        kind_dir = tmp_path / f"k{kill_at}" / "weekly"
        write_report(kind_dir / "2026-W39", "old")
        code = run_child(kind_dir, kill_at, exchange)
        if code == 0:
            break
        assert code == -9, f"child failed at step {kill_at} with {code}, not by the kill"
        kills += 1
        if exchange:  # the path holds a complete report at every instant
            version_of(kind_dir / "2026-W39")
        recover(kind_dir)
        assert version_of(kind_dir / "2026-W39") in ("old", "new")
        assert hidden(kind_dir) == []
        # the next run is clean and publishes
        with WorkFolder(kind_dir, "2026-W39") as work:
            write_report(work.path / "x", "next")
            for name in FILES:
                os.rename(work.path / "x" / name, work.path / name)
            os.rmdir(work.path / "x")
            work.publish()
        assert version_of(kind_dir / "2026-W39") == "next"
        assert hidden(kind_dir) == []
    else:
        pytest.fail("the child never completed")
    assert kills >= 10  # the kill really hit many points of the run
    assert version_of(kind_dir / "2026-W39") == "new" and hidden(kind_dir) == []


def test_recover_restores_a_report_left_only_in_its_old_copy(tmp_path):
    kind_dir = tmp_path / "weekly"
    write_report(kind_dir / ".old-2026-W39-0a1b2c3d", "old")
    write_report(kind_dir / ".tmp-2026-W40-00000000", "half")  # crashed run: names, comments
    assert recover(kind_dir) == ["restored 2026-W39 from .old-2026-W39-0a1b2c3d",
                                 "deleted .tmp-2026-W40-00000000"]
    assert version_of(kind_dir / "2026-W39") == "old"
    assert hidden(kind_dir) == []


def test_recover_leaves_the_work_folder_of_a_live_run_alone(tmp_path):
    kind_dir = tmp_path / "weekly"
    with WorkFolder(kind_dir, "2026-W39") as live:
        (live.path / "report.html").write_text("in progress")
        assert recover(kind_dir) == []
        assert (live.path / "report.html").exists()
        live.publish()
    assert (kind_dir / "2026-W39" / "report.html").read_text() == "in progress"
    assert hidden(kind_dir) == []


def test_a_failed_run_deletes_its_work_folder_and_keeps_the_report(tmp_path):
    kind_dir = tmp_path / "weekly"
    write_report(kind_dir / "2026-W39", "old")
    with pytest.raises(RuntimeError), WorkFolder(kind_dir, "2026-W39") as work:
        (work.path / "report.html").write_text("new")
        raise RuntimeError("cell 7 raised")
    assert version_of(kind_dir / "2026-W39") == "old"
    assert hidden(kind_dir) == []
