"""Wall time and memory of a child process, and of one call inside the current process.

Two honest memory measures are used:

- inside a worker process, :func:`peak_during` resets the kernel's high-water mark of the
  resident set (``/proc/self/clear_refs``, Linux >= 4.0) just before the call and reads it
  (``VmHWM``) just after, so the peak covers everything the call allocated: numpy, pandas,
  DuckDB's own allocator, pyarrow;
- for a child process, :func:`run_measured` reads ``ru_maxrss`` from ``os.wait4`` (the largest
  resident set of the child or of any descendant it waited for) and also samples the summed
  resident set of the whole process tree every 0.2 s (a papermill run has the CLI process and
  a Jupyter kernel alive at the same time).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["ChildRun", "peak_during", "rss_mb", "run_measured"]

_SAMPLE_SECONDS = 0.2


def _status_kb(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {key} line")


def rss_mb() -> float:
    """Resident set size of this process now, in MB (2**20 bytes)."""
    return _status_kb("VmRSS") / 1024


def peak_during(call):
    """Run ``call()`` and return ``(result, peak_mb, base_mb)``.

    ``base_mb`` is the resident set just before the call, ``peak_mb`` the highest resident set
    during it (the kernel's high-water mark after a reset), so ``peak_mb - base_mb`` is the
    memory the call needed on top of its inputs.
    """
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")  # resets VmHWM to the current VmRSS
    base = rss_mb()
    result = call()
    return result, _status_kb("VmHWM") / 1024, base


@dataclass(frozen=True)
class ChildRun:
    """Outcome of :func:`run_measured`.

    Attributes
    ----------
    seconds
        Wall time from start to exit.
    returncode
        Exit status of the child.
    cpu_seconds
        User + system CPU time of the child and the descendants it waited for (``os.wait4``);
        on a loaded machine a better guide than wall time to what the run costs.
    max_rss_mb
        ``ru_maxrss`` of the child from ``os.wait4``: the largest single process of its tree.
    tree_peak_mb
        Highest sampled sum of the resident sets of the child and all its descendants.
    stdout, stderr
        What the child printed.
    """

    seconds: float
    returncode: int
    cpu_seconds: float
    max_rss_mb: float
    tree_peak_mb: float
    stdout: str
    stderr: str


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            continue
    return total


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> ChildRun:
    """Run ``cmd`` to completion and measure its wall time and memory (see the module notes)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            try:
                tree = psutil.Process(child.pid)
            except psutil.Error:  # already gone
                return
            while not done.is_set():
                peak = max(peak, _tree_rss(tree))
                done.wait(_SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            seconds=seconds,
            returncode=child.returncode,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,
            tree_peak_mb=max(peak, usage.ru_maxrss * 1024) / 2**20,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
