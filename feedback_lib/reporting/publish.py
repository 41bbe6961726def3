"""Crash-safe publishing of report folders: ``out/KIND/<period>`` is always a complete report.

A run builds its report in a hidden work folder next to the final one and publishes it in one
step. Three rules make this safe against ``kill -9``, power loss and concurrent runs:

1. **Work folders are locked while in use.** A run holds an exclusive :func:`fcntl.flock` on its
   ``.tmp-<period>-<id>`` folder; the kernel drops the lock when the process dies, so an unlocked
   work folder is debris of a crashed run (it may hold names and comments) and is deleted.
2. **The swap is atomic.** On Linux the new folder and the published one are exchanged with
   ``renameat2(RENAME_EXCHANGE)``: at every instant the path holds the old report or the new one.
   Where the exchange is unavailable (other systems, some file systems) the old folder is first
   renamed to ``.old-<period>-<id>``, then the new one into place; a crash between the two renames
   is repaired by the next run (rule 3).
3. **Every run first recovers.** :func:`recover` restores a report whose only copy is a hidden
   ``.old-*`` folder, deletes ``.old-*`` copies of a report that is in place, and deletes unlocked
   ``.tmp-*`` folders.

Recovery, work-folder creation and the swap happen under a lock on the kind folder itself (no
lock file is left behind), so that concurrent runs never see each other's intermediate states.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["WorkFolder", "recover"]

TMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
_OLD_RE = re.compile(r"^\.old-(?P<period>.+)-[0-9a-f]{8}$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextlib.contextmanager
def _kind_lock(kind_dir: Path) -> Iterator[None]:
    fd = os.open(kind_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _locked_by_a_live_run(folder: Path) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _recover_unlocked(kind_dir: Path) -> list[str]:
    actions = []
    for entry in sorted(kind_dir.iterdir()):
        old = _OLD_RE.match(entry.name)
        if old and entry.is_dir():
            final = kind_dir / old["period"]
            if not os.path.lexists(final):
                os.rename(entry, final)
                actions.append(f"restored {final.name} from {entry.name}")
            else:
                shutil.rmtree(entry, ignore_errors=True)
                actions.append(f"deleted {entry.name}")
        elif entry.name.startswith(TMP_PREFIX) and entry.is_dir():
            if not _locked_by_a_live_run(entry):
                shutil.rmtree(entry, ignore_errors=True)
                actions.append(f"deleted {entry.name}")
    return actions


def recover(kind_dir: str | Path) -> list[str]:
    """Repair what crashed runs left in a kind folder (``out/KIND``).

    Returns
    -------
    list of str
        What was done, e.g. ``["restored 2026-W39 from .old-2026-W39-1a2b3c4d"]``; empty when
        the folder was clean.
    """
    kind_dir = Path(kind_dir)
    if not kind_dir.is_dir():
        return []
    with _kind_lock(kind_dir):
        return _recover_unlocked(kind_dir)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


class WorkFolder:
    """The hidden, locked folder a run writes its report into, and its publication.

    Use as a context manager: entering recovers the kind folder and creates
    ``kind_dir/.tmp-<period>-<id>``; leaving without :meth:`publish` (an exception, a
    ``KeyboardInterrupt``) deletes it, so a failed run leaves the published report as it was.

    Parameters
    ----------
    kind_dir
        ``out/KIND``; created if missing.
    period
        Name of the published folder, e.g. ``2026-W39`` or ``2026-W39-SMB``.
    exchange
        Publish with an atomic exchange where the system supports it (default); False forces
        the two-rename fallback (used by the tests of the fallback).
    """

    def __init__(self, kind_dir: str | Path, period: str, *, exchange: bool = True) -> None:
        self.kind_dir = Path(kind_dir)
        self.final = self.kind_dir / period
        self.recovered: list[str] = []
        self.path = self.kind_dir / f"{TMP_PREFIX}{period}-{secrets.token_hex(4)}"
        self._exchange = exchange
        self._fd: int | None = None

    def __enter__(self) -> WorkFolder:
        self.kind_dir.mkdir(parents=True, exist_ok=True)
        with _kind_lock(self.kind_dir):
            self.recovered = _recover_unlocked(self.kind_dir)
            self.path.mkdir()
            self._fd = os.open(self.path, os.O_RDONLY)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        shutil.rmtree(self.path, ignore_errors=True)

    def publish(self) -> Path:
        """Put the work folder at ``final`` in one step; the replaced report is deleted."""
        with _kind_lock(self.kind_dir):
            if not os.path.lexists(self.final):
                os.rename(self.path, self.final)
            elif self._exchange and _exchange(self.path, self.final):
                pass  # the old report now sits at self.path and is deleted on exit
            else:
                old = self.kind_dir / f"{OLD_PREFIX}{self.final.name}-{secrets.token_hex(4)}"
                os.rename(self.final, old)
                os.rename(self.path, self.final)
                shutil.rmtree(old, ignore_errors=True)
        return self.final
