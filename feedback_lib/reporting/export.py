"""Report artifacts: ``metrics.json``, the code-free ``report.html`` and provenance helpers."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import html
import json
import math
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feedback_lib.errors import ReportError

__all__ = ["export_html", "read_metrics", "write_metrics"]

METRICS_FILE = "metrics.json"
PROVENANCE_PACKAGES = (
    "feedback_lib", "pandas", "numpy", "lifelines", "statsmodels", "papermill", "duckdb",
)
# Cells a reader never needs: the parameters papermill injected (they may hold secrets,
# nteract/papermill#253) and anything the author tagged to hide.
_DROPPED_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}

# An offline, self-contained page without scripts: the lab template minus require.js, MathJax,
# Mermaid and widget loaders (all fetched from a CDN),
# a readable measure and print-friendly tables.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; }
  .jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.5; }
  .jp-RenderedHTMLCommon table { font-size: 13px; margin: 6px 0 14px; }
  .jp-RenderedHTMLCommon h1 { margin-top: 0; }
  .jp-RenderedHTMLCommon h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px;
                              margin-top: 32px; }
  .jp-OutputArea-output img { max-width: 100%; height: auto; }
  .jp-Cell { padding: 2px 0; }
  .jp-OutputArea-output, .jp-RenderedMarkdown { padding-left: 0 !important; }
  .jp-Cell-inputWrapper, .jp-Cell-outputWrapper { padding-left: 0; }
  .jp-Collapser { display: none; }
  .celltag_summary .jp-RenderedMarkdown { background: #f2f6fb; border-left: 4px solid #1f5fa8;
                                          padding: 10px 16px !important; margin: 8px 0 18px; }
  .report-footer { color: #666; font-size: 12px; }
  @media print { body.jp-Notebook { max-width: none; padding: 0; } }
</style>
{%- endblock extra_css -%}
"""


def _jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, dates, dataclasses and NaN to plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return _jsonable(value.to_dict(orient="records"))
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        midnight = value.hour == value.minute == value.second == value.microsecond == 0
        return value.date().isoformat() if midnight and value.tzinfo is None else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, (str, Path)):
        return str(value)
    raise ReportError(f"writing metrics: cannot store a {type(value).__name__} in JSON")


def write_metrics(metrics: dict, output_dir: str | Path) -> Path:
    """Write the headline numbers of a report as ``output_dir/metrics.json``.

    Parameters
    ----------
    metrics
        Name -> value; values may be numbers, text, dates, numpy/pandas scalars, dataclasses
        (``NPSResult``, ``Proportion``), lists and dicts of these. NaN is stored as ``null``.
    output_dir
        The report's ``output_dir`` parameter (created if needed).

    Returns
    -------
    Path
        The file written. Keys keep their insertion order; the file is UTF-8, indented.

    Examples
    --------
    >>> import tempfile
    >>> p = write_metrics({"nps": np.float64(31.5), "n": np.int64(200)}, tempfile.mkdtemp())
    >>> read_metrics(p)
    {'nps': 31.5, 'n': 200}
    """
    path = Path(output_dir) / METRICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_jsonable(metrics), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_metrics(path: str | Path) -> dict:
    """Read a ``metrics.json`` and check it is a JSON object; ``ReportError`` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(
            f"the notebook wrote no {path.name} into its output_dir (expected {path}); "
            "its last cell should call write_metrics(metrics, output_dir)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path.name} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path.name} must hold a JSON object, not {type(data).__name__}")
    return data


def _report_notebook(nb, footer: str | None):
    """A copy of an executed notebook as a reader should see it."""
    import nbformat
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy as NotebookNode
    kept = []
    for cell in nb.cells:
        if _DROPPED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code":
            # Warnings and logs go to stderr; they stay in the executed notebook and the
            # manifest, not in the board's report.
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            if not cell.outputs:
                continue
        kept.append(cell)
    # A cell tagged "summary" is computed last but read first: move it under the title.
    summary = [c for c in kept if "summary" in c.get("metadata", {}).get("tags", [])]
    rest = [c for c in kept if c not in summary]
    title = 1 if rest and rest[0].cell_type == "markdown" else 0
    kept = rest[:title] + summary + rest[title:]
    if footer:
        kept.append(nbformat.v4.new_markdown_cell(footer))
    nb.cells = kept
    return nb


def stderr_messages(nb) -> list[dict]:
    """Warnings and other stderr output of an executed notebook: ``[{cell, text}]``."""
    out = []
    for index, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.append({"cell": index, "text": "".join(o.get("text", ""))[:2000]})
    return out


def export_html(
    notebook: str | Path, html_path: str | Path, *, title: str, footer: str | None = None
) -> Path:
    """Write an executed notebook as a self-contained HTML report without code.

    Parameters
    ----------
    notebook
        The executed ``.ipynb``.
    html_path
        Destination file.
    title
        The page title (HTML-escaped).
    footer
        Optional Markdown appended as a last cell (the run's parameters and provenance).

    Notes
    -----
    nbconvert's ``HTMLExporter`` runs in-process with ``exclude_input``, both prompt exclusions
    and a template that loads nothing from the network. Cells tagged ``parameters``,
    ``injected-parameters`` or ``remove-cell`` are dropped, as are stderr streams (warnings) and
    code cells left without output. Cells tagged ``summary`` (computed at the end) are moved
    right under the title cell. Text outputs are escaped by nbconvert; HTML outputs are
    trusted, which is why notebooks show data through :func:`safe_table`.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = _report_notebook(nbformat.read(str(notebook), as_version=4), footer)
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"feedback_report.html.j2": _TEMPLATE})],
        template_file="feedback_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": html.escape(title)}})
    path = Path(html_path)
    path.write_text(body, encoding="utf-8")
    return path


def file_hashes(source: str | Path) -> dict[str, str]:
    """SHA-256 of the input: every file under a source folder, or the source file itself."""
    source = Path(source)
    if source.is_file():
        return {source.name: _sha256(source)}
    if source.is_dir():
        return {str(p.relative_to(source)): _sha256(p)
                for p in sorted(source.rglob("*")) if p.is_file()}
    return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that determine a report's numbers."""
    out: dict[str, str | None] = {}
    for name in PROVENANCE_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    if out.get("feedback_lib") is None:
        from feedback_lib._util.version import PACKAGE_VERSION as __version__

        out["feedback_lib"] = __version__
    out["python"] = platform.python_version()
    return out


def git_revision(path: str | Path) -> str | None:
    """``git rev-parse HEAD`` of the repository holding ``path``; None when there is none."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=str(path), capture_output=True, text=True,
            timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = done.stdout.strip()
    return rev if done.returncode == 0 and rev else None
