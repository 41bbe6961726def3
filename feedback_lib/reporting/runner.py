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
7. *publishing* -- the work folder replaces ``out/KIND/<period>`` in one atomic step
   (:mod:`feedback_lib.reporting.publish`).

Before step 2 the run repairs what crashed runs left (:func:`~feedback_lib.reporting.publish.recover`).
On any failure the work folder is deleted and an earlier ``out/KIND/<period>`` is left as it was.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import json
import re
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
from feedback_lib.reporting.kernel import execute_notebook
from feedback_lib.reporting.metrics_schema import validate_metrics
from feedback_lib.reporting.params import (
    coerce_parameters,
    parse_as_of,
    read_parameters,
    report_period,
)
from feedback_lib.reporting.preflight import check_as_of_in_range
from feedback_lib.reporting.publish import WorkFolder
from feedback_lib.reporting.safety import active_html, active_html_outputs, find_unmasked_emails

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
    verbose: bool = False,
) -> Path:
    """Run a scheduled report and publish it as ``out/KIND/<period>/``.

    Parameters
    ----------
    kind
        ``"weekly"``, ``"quarterly"`` or ``"valuation"``.
    as_of
        Last day the report covers, ``YYYY-MM-DD`` or a date; it must lie within the source's
        date range (:func:`~feedback_lib.reporting.preflight.check_as_of_in_range`).
    source
        Anything :func:`feedback_lib.load_dataset` reads (folder of CSV/Parquet, ``.xlsx``,
        ``.duckdb``). An empty string runs the report on the generated demo company.
    out
        Root folder of the reports.
    params
        Further notebook parameters, name -> value. Text values (from the command line) are
        converted by the notebook's annotation and checked against the range its comment
        documents; see :func:`read_parameters`.
    progress
        Show papermill's progress bar.
    notebook
        Run this notebook instead of the installed one for ``kind`` (for tests and drafts).
        Its ``metrics.json`` must be a JSON object but is not checked against ``kind``'s
        schema, which the installed notebooks must follow.
    kernel_name
        Jupyter kernel to execute with.
    execution_timeout
        Seconds one cell may run before the run fails (None = no limit), so that a hung kernel
        cannot block the next scheduled run.
    verbose
        Let the Jupyter kernel's own log lines through to stderr (hidden by default).

    Returns
    -------
    Path
        The published folder, ``out/KIND/<period>`` with ``period`` the ISO week
        (``2026-W40``), the quarter (``2026-Q3``) or the date (valuation), followed by
        ``-<segment>`` for a run with a ``segment`` parameter (``2026-W40-SMB``).

    Raises
    ------
    ParameterError
        Unknown kind, a bad ``as_of`` (or one outside the data) or ``source``, or a parameter
        the notebook does not declare, that does not fit its type or lies outside its
        documented range -- raised before anything is executed or written, and before
        papermill, nbformat or any plotting library is imported.
    ReportError
        Any later failure; the message names the step, e.g. ``"executing notebook
        weekly_feedback_loop.ipynb: cell 7 raised SchemaError: ..."``. Nothing is published,
        and a source that changed or vanished during the run fails it.
    """
    started = _dt.datetime.now(_dt.UTC)
    timer = _Timer()
    with timer.step("validating parameters"):
        nb_path, as_of_date, source_text, values = validate_run(kind, as_of=as_of, source=source,
                                                                params=params, notebook=notebook)
    period = report_period(kind, as_of_date) + _segment_suffix(values.get("segment"))
    with WorkFolder(Path(out).resolve() / kind, period) as work:
        tmp = work.path
        scratch = tmp / ".scratch"
        scratch.mkdir()
        with timer.step("hashing inputs"):
            hashes = file_hashes(source_text) if source_text else {}
        executed = tmp / nb_path.name
        all_params = {"as_of": as_of_date.isoformat(), "source": source_text,
                      "output_dir": str(tmp), **values}
        with timer.step(f"executing notebook {nb_path.name}"):
            execute_notebook(nb_path, executed, all_params, scratch=scratch, progress=progress,
                             verbose=verbose, kernel_name=kernel_name,
                             execution_timeout=execution_timeout)
        with timer.step("checking inputs"):
            _check_unchanged(source_text, hashes)
        with timer.step("checking metrics"):
            metrics = read_metrics(tmp / METRICS_FILE)
            if notebook is None:  # a draft notebook need not follow the published contract yet
                validate_metrics(kind, metrics)
        import nbformat
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
        shutil.rmtree(scratch)
        with timer.step("checking outputs"):
            _check_outputs(executed_nb, tmp)
        manifest: dict[str, Any] = {
            "kind": kind,
            "period": period,
            "as_of": as_of_date.isoformat(),
            "notebook": nb_path.name,
            "parameters": {k: v for k, v in all_params.items() if k != "output_dir"},
            "source": source_text or "demo (generated)",
            "input_files": hashes,
            "packages": package_versions(),
            "python": sys.version.split()[0],
            "git_revision": git_revision(_PACKAGE_DIR),
            "started": started.isoformat(timespec="seconds"),
            "finished": None,
            "duration_seconds": None,
            "steps_seconds": timer.steps,
            "recovered": work.recovered,
            "warnings": stderr_messages(executed_nb),
        }
        with timer.step("publishing"):
            finished = _dt.datetime.now(_dt.UTC)
            manifest["finished"] = finished.isoformat(timespec="seconds")
            manifest["duration_seconds"] = round((finished - started).total_seconds(), 3)
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8")
            final = work.publish()
    return final


def validate_run(
    kind: str,
    *,
    as_of: str | _dt.date,
    source: str | Path,
    params: dict[str, Any] | None = None,
    notebook: str | Path | None = None,
) -> tuple[Path, _dt.date, str, dict[str, Any]]:
    """Check a run's arguments without starting it (what ``run_report`` does first).

    Reads the notebook's ``parameters`` cell as JSON and the source's date columns only:
    milliseconds for a folder of exports, no kernel, no plotting or notebook library.

    Returns
    -------
    tuple
        ``(notebook path, as_of date, resolved source ("" for the demo), coerced parameters)``.

    Raises
    ------
    ParameterError
        As :func:`run_report`, one line naming the parameter, the value and the valid range.
    """
    if kind not in REPORTS:
        raise ParameterError(f"unknown report kind {kind!r}; choose one of {', '.join(REPORTS)}")
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
    if source_text:
        check_as_of_in_range(source_text, as_of_date)
    return nb_path, as_of_date, source_text, values


def _segment_suffix(segment: Any) -> str:
    """``-SMB`` for a segment run (characters unsafe in a folder name become ``_``)."""
    if not segment or not isinstance(segment, str):
        return ""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", segment.strip()).strip("._")
    return f"-{slug}" if slug else ""


def _check_unchanged(source: str, hashes: dict[str, str]) -> None:
    """The input files hashed before the run hold the same bytes after it."""
    if not source:
        return
    now = file_hashes(source)
    changed = sorted(name for name in hashes.keys() | now.keys() if hashes.get(name) != now.get(name))
    if changed:
        what = ", ".join(f"{n} ({'vanished' if n not in now else 'appeared' if n not in hashes else 'changed'})"
                         for n in changed[:5])
        raise ReportError(f"the source {source} changed during the run: {what}; the report would "
                          "not match its manifest, so nothing was published")


def _check_source(source: str | Path) -> str:
    if source is None or str(source) == "":
        return ""
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise ParameterError(f"source {str(source)!r} does not exist (a folder of CSV/Parquet "
                             "exports, an .xlsx workbook or a .duckdb file)")
    return str(path)


def _check_outputs(executed_nb, folder: Path) -> None:
    active = active_html(folder / "report.html")
    cells = active_html_outputs(executed_nb)
    if active or cells:
        where = (f"report.html ({'; '.join(active[:3])})" if active else
                 f"the outputs of cell(s) {', '.join(map(str, cells))}")
        raise ReportError(f"{where} contain active HTML (script, iframe, event handler or "
                          "javascript: URL); show data with safe_table/narrate so it is escaped")
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
