"""``run_report``: execute a report notebook for one period and publish its outputs atomically.

Steps (each timed in ``manifest.json``; a failure names its step in the ``ReportError``):

1. *validating parameters* -- ``as_of`` is a date, ``source`` exists, every supplied parameter
   is declared in the notebook's ``parameters`` cell and coerces to its annotation;
2. *executing notebook* -- papermill, kernel ``python3``, cwd = the notebook's folder, output
   into a temporary folder ``out/KIND/.tmp-<period>-<random>/`` next to the final one;
3. *checking metrics* -- the notebook wrote a JSON object to ``metrics.json``;
4. *exporting HTML* -- ``report.html`` without code, prompts or the injected parameters;
5. *building deck* (quarterly) -- ``deck.pptx`` and ``deck.pdf`` from ``deck.json``;
6. *checking outputs* -- no active HTML in outputs, no unmasked e-mail address in any text file;
7. *publishing* -- the temporary folder replaces ``out/KIND/<period>`` by renames.

On any failure the temporary folder is deleted and an earlier ``out/KIND/<period>`` is left as
it was.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feedback_lib.errors import ParameterError, ReportError
from feedback_lib.reporting.deck import DECK_FILE, read_deck, write_pdf, write_pptx
from feedback_lib.reporting.export import (
    METRICS_FILE,
    export_html,
    file_hashes,
    git_revision,
    package_versions,
    read_metrics,
    stderr_messages,
)
from feedback_lib.reporting.params import (
    coerce_parameters,
    parse_as_of,
    read_parameters,
    report_period,
)
from feedback_lib.reporting.safety import active_html_outputs, find_unmasked_emails

__all__ = ["REPORTS", "report_notebook", "run_report"]

REPORTS: dict[str, str] = {
    "weekly": "weekly_feedback_loop.ipynb",
    "quarterly": "quarterly_strategy_review.ipynb",
    "valuation": "retention_valuation.ipynb",
}
REPORT_TITLES: dict[str, str] = {
    "weekly": "Weekly feedback loop",
    "quarterly": "Quarterly strategy review",
    "valuation": "Retention and valuation",
}
_RESERVED = ("as_of", "source", "output_dir")
_DECK_KINDS = ("quarterly",)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def report_notebook(kind: str) -> Path:
    """Path of the notebook that produces report ``kind``.

    Looks in ``notebooks/reports/`` of the source tree, then in ``feedback_lib/notebooks/`` of an
    installed package.
    """
    if kind not in REPORTS:
        raise ParameterError(f"unknown report kind {kind!r}; choose one of {', '.join(REPORTS)}")
    for folder in (_PACKAGE_DIR.parent / "notebooks" / "reports", _PACKAGE_DIR / "notebooks"):
        path = folder / REPORTS[kind]
        if path.is_file():
            return path
    raise ReportError(f"the {kind} report notebook {REPORTS[kind]} is not installed "
                      f"(looked in {_PACKAGE_DIR.parent / 'notebooks' / 'reports'})")


class _Timer:
    """Per-step timings; turns unexpected exceptions into ReportError naming the step."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except ParameterError:
            raise
        except ReportError as exc:
            msg = str(exc)
            raise ReportError(msg if msg.startswith(name) else f"{name}: {msg}") from exc
        except Exception as exc:  # any library/IO error inside a step is a failed run
            raise ReportError(f"{name}: {type(exc).__name__}: {exc}") from exc
        finally:
            self.steps[name] = round(time.perf_counter() - start, 3)


def run_report(
    kind: str,
    *,
    as_of: str | _dt.date,
    source: str | Path,
    out: str | Path,
    params: dict[str, Any] | None = None,
    progress: bool = True,
    notebook: str | Path | None = None,
    kernel_name: str = "python3",
    execution_timeout: int | None = 3600,
) -> Path:
    """Run a scheduled report and publish it as ``out/KIND/<period>/``.

    Parameters
    ----------
    kind
        ``"weekly"``, ``"quarterly"`` or ``"valuation"``.
    as_of
        Last day the report covers, ``YYYY-MM-DD`` or a date.
    source
        Anything :func:`feedback_lib.load_dataset` reads (folder of CSV/Parquet, ``.xlsx``,
        ``.duckdb``). An empty string runs the report on the generated demo company.
    out
        Root folder of the reports.
    params
        Further notebook parameters, name -> value. Text values (from the command line) are
        converted by the notebook's annotation; see :func:`read_parameters`.
    progress
        Show papermill's progress bar.
    notebook
        Run this notebook instead of the installed one for ``kind`` (for tests and drafts).
    kernel_name
        Jupyter kernel to execute with.
    execution_timeout
        Seconds one cell may run before the run fails (None = no limit), so that a hung kernel
        cannot block the next scheduled run.

    Returns
    -------
    Path
        The published folder, ``out/KIND/<period>`` with ``period`` the ISO week
        (``2026-W40``), the quarter (``2026-Q3``) or the date (valuation).

    Raises
    ------
    ParameterError
        Unknown kind, a bad ``as_of`` or ``source``, or a parameter the notebook does not declare
        or that does not fit its type -- raised before anything is executed or written.
    ReportError
        Any later failure; the message names the step, e.g. ``"executing notebook
        weekly_feedback_loop.ipynb: cell 7 raised SchemaError: ..."``. Nothing is published.
    """
    import nbformat
    started = _dt.datetime.now(_dt.UTC)
    timer = _Timer()
    with timer.step("validating parameters"):
        if kind not in REPORTS:
            raise ParameterError(
                f"unknown report kind {kind!r}; choose one of {', '.join(REPORTS)}")
        nb_path = Path(notebook).resolve() if notebook is not None else report_notebook(kind)
        as_of_date = parse_as_of(as_of)
        source_text = _check_source(source)
        declared = read_parameters(nb_path)
        missing = [n for n in _RESERVED if n not in declared]
        if missing:
            raise ReportError(f"{nb_path.name} declares no parameter {', '.join(missing)}")
        reserved = [n for n in (params or {}) if n in _RESERVED]
        if reserved:
            raise ParameterError(
                f"parameter {reserved[0]!r} is set by the runner; use the as_of/source/out "
                "arguments (--as-of, --source, --out) instead")
        values = coerce_parameters(declared, params)
    period = report_period(kind, as_of_date)
    kind_dir = Path(out).resolve() / kind
    kind_dir.mkdir(parents=True, exist_ok=True)
    tmp = kind_dir / f".tmp-{period}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        executed = tmp / nb_path.name
        all_params = {"as_of": as_of_date.isoformat(), "source": source_text,
                      "output_dir": str(tmp), **values}
        with timer.step(f"executing notebook {nb_path.name}"):
            _execute(nb_path, executed, all_params, progress=progress, kernel_name=kernel_name,
                     execution_timeout=execution_timeout)
        with timer.step("checking metrics"):
            read_metrics(tmp / METRICS_FILE)
        title = f"{REPORT_TITLES.get(kind, kind.title())} {period}"
        with timer.step("exporting HTML"):
            executed_nb = nbformat.read(str(executed), as_version=4)
            footer = _footer(kind, period, as_of_date, source_text, values, started)
            export_html(executed, tmp / "report.html", title=title, footer=footer)
        if kind in _DECK_KINDS:
            with timer.step("building deck"):
                deck = read_deck(tmp / DECK_FILE)
                write_pptx(deck, tmp / "deck.pptx")
                write_pdf(deck, tmp / "deck.pdf")
        with timer.step("checking outputs"):
            _check_outputs(executed_nb, tmp)
        manifest: dict[str, Any] = {
            "kind": kind,
            "period": period,
            "as_of": as_of_date.isoformat(),
            "notebook": nb_path.name,
            "parameters": {k: v for k, v in all_params.items() if k != "output_dir"},
            "source": source_text or "demo (generated)",
            "input_files": file_hashes(source_text) if source_text else {},
            "packages": package_versions(),
            "python": sys.version.split()[0],
            "git_revision": git_revision(_PACKAGE_DIR),
            "started": started.isoformat(timespec="seconds"),
            "finished": None,
            "duration_seconds": None,
            "steps_seconds": timer.steps,
            "warnings": stderr_messages(executed_nb),
        }
        with timer.step("publishing"):
            finished = _dt.datetime.now(_dt.UTC)
            manifest["finished"] = finished.isoformat(timespec="seconds")
            manifest["duration_seconds"] = round((finished - started).total_seconds(), 3)
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8")
            final = _publish(tmp, kind_dir / period)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _check_source(source: str | Path) -> str:
    if source is None or str(source) == "":
        return ""
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise ParameterError(f"source {str(source)!r} does not exist (a folder of CSV/Parquet "
                             "exports, an .xlsx workbook or a .duckdb file)")
    return str(path)


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Environment of the report kernel, restored afterwards.

    The kernel imports this very feedback_lib when it runs from a source tree (``PYTHONPATH``),
    and draws figures inline whatever ``MPLBACKEND`` the scheduler's shell sets: a non-inline
    backend such as ``Agg`` would make every ``plt.show()`` draw nothing into the report.
    """
    changes = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    root = str(_PACKAGE_DIR.parent)
    if "site-packages" not in root and "dist-packages" not in root:
        old_path = os.environ.get("PYTHONPATH")
        changes["PYTHONPATH"] = root + (os.pathsep + old_path if old_path else "")
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _execute(nb_path: Path, executed: Path, parameters: dict, *, progress: bool,
             kernel_name: str, execution_timeout: int | None) -> None:
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillExecutionError

    try:
        with _kernel_environment():
            pm.execute_notebook(
                str(nb_path), str(executed), parameters=parameters, kernel_name=kernel_name,
                cwd=str(nb_path.parent), progress_bar=progress, log_output=False,
                execution_timeout=execution_timeout,
            )
    except PapermillExecutionError as exc:
        raise ReportError(
            f"cell {_source_cell_number(nb_path, exc.cell_index)} raised {exc.ename}: "
            f"{_first_line(exc.evalue)}"
        ) from exc
    except NoSuchKernel as exc:
        raise ReportError(
            f"no Jupyter kernel named {kernel_name!r}; install one in this environment with "
            f"'{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}'"
        ) from exc
    except (RuntimeError, TimeoutError) as exc:  # dead kernel, cell timeout
        raise ReportError(f"{type(exc).__name__}: {_first_line(str(exc))} (the kernel died or a "
                          "cell exceeded execution_timeout)") from exc


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


def _first_line(text: str, limit: int = 400) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_outputs(executed_nb, folder: Path) -> None:
    active = active_html_outputs(executed_nb)
    if active:
        raise ReportError(
            f"outputs of cell(s) {', '.join(map(str, active))} contain active HTML (script, "
            "iframe or event handler); show data with safe_table/narrate so it is escaped")
    leaks = find_unmasked_emails(folder)
    if leaks:
        where = "; ".join(f"{f} (e.g. {', '.join(ex)})" for f, ex in leaks.items())
        raise ReportError(f"unmasked e-mail addresses in {where}; mask them with mask_email")


def _footer(kind: str, period: str, as_of: _dt.date, source: str, values: dict,
            started: _dt.datetime) -> str:
    """The last cell of report.html: what was run, on what, when (escaped HTML)."""
    def show(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "(none)"
        return "(default)" if value in ("", None) else str(value)

    shown = {"period": period, "data up to": as_of.isoformat(),
             "source": Path(source).name if source else "generated demo company"}
    shown.update({k: show(v) for k, v in values.items()})
    items = " · ".join(f"{html.escape(k)}: {html.escape(show(v))}" for k, v in shown.items())
    return (f'<hr/>\n<p class="report-footer"><em>About this report.</em> {items} · run '
            f"{started:%Y-%m-%d %H:%M} UTC. Headline numbers are in metrics.json; parameters, "
            "input file hashes and package versions in manifest.json, next to this file.</p>")


def _publish(tmp: Path, final: Path) -> Path:
    """Move ``tmp`` to ``final`` by renames; an existing ``final`` is replaced."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{secrets.token_hex(4)}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final
