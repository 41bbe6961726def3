"""Executing a report notebook with papermill: a quiet kernel, a private temp folder, clear errors.

A scheduled run's log should hold the runner's own lines only. The Jupyter kernel writes its own
log to the stderr it inherits (``[IPKernelApp] WARNING | Kernel is running over TCP without
encryption``, ``ERROR | KeyboardInterrupt caught in kernel`` at shutdown); here the kernel's
stdout and stderr go to a log file instead, shown only with ``verbose`` or quoted when the kernel
dies. The kernel's ``TMPDIR`` is a folder of the run, deleted with it, so that nothing a library
writes to the temp directory (matplotlib caches, IPython history) outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feedback_lib.errors import ReportError

__all__ = ["execute_notebook"]

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _kernel_environment(scratch: Path) -> Iterator[None]:
    """Environment of the report kernel, restored afterwards.

    The kernel imports this very feedback_lib when it runs from a source tree (``PYTHONPATH``),
    draws figures inline whatever ``MPLBACKEND`` the scheduler's shell sets (a non-inline
    backend such as ``Agg`` would make every ``plt.show()`` draw nothing into the report), and
    writes temporary files into ``scratch``.
    """
    changes = {"MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "TMPDIR": str(scratch), "TEMP": str(scratch), "TMP": str(scratch)}
    root = str(_PACKAGE_DIR.parent)
    if "site-packages" not in root and "dist-packages" not in root:
        old_path = os.environ.get("PYTHONPATH")
        changes["PYTHONPATH"] = root + (os.pathsep + old_path if old_path else "")
    saved = {name: os.environ.get(name) for name in changes}
    saved_tempdir = tempfile.tempdir
    os.environ.update(changes)
    tempfile.tempdir = str(scratch)
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _quiet_kernel_manager(log: Any) -> type:
    """An AsyncKernelManager whose kernel writes stdout and stderr to the file object ``log``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def execute_notebook(nb_path: Path, executed: Path, parameters: dict[str, Any], *,
                     scratch: Path, progress: bool, verbose: bool, kernel_name: str,
                     execution_timeout: int | None) -> None:
    """Run ``nb_path`` with ``parameters`` into ``executed``; ``ReportError`` on failure.

    Parameters
    ----------
    scratch
        An empty folder for the kernel's temporary files and log; the caller deletes it.
    verbose
        Let the kernel's own log reach this process's stderr.
    """
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillExecutionError

    log_path = scratch / "kernel.log"
    with contextlib.ExitStack() as stack:
        extra: dict[str, Any] = {}
        if not verbose:
            log = stack.enter_context(log_path.open("wb"))
            extra["kernel_manager_class"] = _quiet_kernel_manager(log)
        try:
            with _kernel_environment(scratch):
                pm.execute_notebook(
                    str(nb_path), str(executed), parameters=parameters, kernel_name=kernel_name,
                    cwd=str(nb_path.parent), progress_bar=progress, log_output=False,
                    execution_timeout=execution_timeout, **extra,
                )
        except PapermillExecutionError as exc:
            raise ReportError(
                f"cell {_source_cell_number(nb_path, exc.cell_index)} raised {exc.ename}: "
                f"{first_line(exc.evalue)}"
            ) from exc
        except NoSuchKernel as exc:
            raise ReportError(
                f"no Jupyter kernel named {kernel_name!r}; install one in this environment with "
                f"'{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}'"
            ) from exc
        except (RuntimeError, TimeoutError) as exc:  # dead kernel, cell timeout
            raise ReportError(
                f"{type(exc).__name__}: {first_line(str(exc))} (the kernel died or a cell "
                f"exceeded execution_timeout){_kernel_log_tail(log_path)}") from exc


def _kernel_log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return "; kernel log: " + " | ".join(text.splitlines()[-lines:]) if text else ""


def _source_cell_number(nb_path: Path, executed_index: int) -> int:
    """1-based position in the source notebook of a cell of the executed notebook.

    papermill inserts the injected-parameters cell after the ``parameters`` cell, so cells
    after it move down by one in the executed notebook.
    """
    import nbformat
    nb = nbformat.read(str(nb_path), as_version=4)
    tagged = [i for i, c in enumerate(nb.cells)
              if "parameters" in c.get("metadata", {}).get("tags", [])]
    shift = 1 if tagged and executed_index > tagged[0] else 0
    return executed_index - shift + 1


def first_line(text: str, limit: int = 400) -> str:
    """``text`` stripped and cut to ``limit`` characters (an error message's first part)."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
