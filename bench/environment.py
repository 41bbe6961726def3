"""Where and with what a benchmark ran: machine, operating system, Python and package versions."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

__all__ = ["PACKAGES", "describe_environment"]

PACKAGES = ("feedback_lib", "numpy", "pandas", "pyarrow", "duckdb", "scipy", "lifelines", "papermill", "nbconvert")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, kernel {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _git_revision(root: Path) -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _library_fingerprint() -> str:
    """First 12 hex digits of the SHA-256 of every ``feedback_lib`` source file (the tree may
    hold uncommitted work, so the git revision alone does not say which code ran)."""
    import feedback_lib

    digest = hashlib.sha256()
    for path in sorted(Path(feedback_lib.__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def describe_environment() -> dict:
    """Machine, OS, Python, package versions, git revision and library fingerprint, date, load average."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": _os_name(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES},
        "git_revision": _git_revision(Path(__file__).resolve().parents[1]),
        "library_fingerprint": _library_fingerprint(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
