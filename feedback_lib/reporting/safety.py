"""Output safety for reports: masked e-mail addresses, inert CSV cells, no active HTML.

Reports carry customer verbatims and contact data into files that are mailed around and opened in
browsers and spreadsheets. Three rules hold for every output the report runner publishes:

1. contact e-mail addresses are masked (:func:`mask_email`), and a final scan
   (:func:`find_unmasked_emails`) fails the run if any address survives;
2. CSV exports cannot run spreadsheet formulas (:func:`safe_csv`, OWASP "CSV injection");
3. verbatims are shown as text, never as markup (:func:`feedback_lib.reporting.safe_table`,
   :func:`active_html_outputs`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd

from feedback_lib._util.privacy import EMAIL_RE, cells, mask_email, mask_emails, text_columns

__all__ = [
    "active_html_outputs",
    "find_unmasked_emails",
    "mask_email",
    "mask_emails",
    "safe_csv",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ACTIVE_HTML_RE = re.compile(
    r"<\s*(?:script|iframe|object|embed)\b|javascript\s*:|\son[a-z]+\s*=", re.IGNORECASE
)
_TEXT_SUFFIXES = (".html", ".htm", ".json", ".csv", ".ipynb", ".md", ".txt")


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``frame`` as CSV that spreadsheets open as data, with e-mail addresses masked.

    A text cell (or header) starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
    prefixed with ``'`` so that Excel, LibreOffice and Google Sheets show it as text instead of
    evaluating it. Text fields are quoted (so embedded line breaks stay inside their cell);
    numbers are written unchanged.

    Parameters
    ----------
    frame
        The table to write.
    path
        Destination file; its folder is created if needed.
    index
        Whether to write the index (default no).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    OWASP, "CSV Injection" (owasp.org/www-community/attacks/CSV_Injection).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "queue.csv")
    >>> _ = safe_csv(pd.DataFrame({"comment": ["=HYPERLINK(1)", "ok"], "mrr": [-5, 3]}), p)
    >>> print(open(p).read().strip())
    "comment","mrr"
    "'=HYPERLINK(1)",-5
    "ok",3
    """
    out = mask_emails(frame)
    for col in text_columns(out):
        formula = cells(out[col], lambda text: text.str.startswith(_FORMULA_START),
                         lambda v: v.startswith(_FORMULA_START))
        if formula.any():
            values = out[col].astype(object)
            values[formula] = "'" + values[formula]
            out[col] = values
    out.columns = [_neutralise(str(c)) for c in out.columns]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Quote every text field: a bare carriage return in a verbatim would otherwise split the row.
    out.to_csv(path, index=index, quoting=csv.QUOTE_NONNUMERIC)
    return path


def find_unmasked_emails(folder: str | Path) -> dict[str, list[str]]:
    """E-mail addresses left unmasked in the text files of a report folder.

    Scans every ``.html``, ``.json``, ``.csv``, ``.ipynb``, ``.md`` and ``.txt`` file under
    ``folder``.

    Returns
    -------
    dict
        ``relative path -> up to 3 example addresses (already masked, so that the error message
        does not leak them)``; empty when the folder is clean.
    """
    folder = Path(folder)
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in _TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
            if "@" not in text:  # a fast substring test spares the regex most large exports
                continue
            hits = [h for line in text.splitlines() if "@" in line for h in EMAIL_RE.findall(line)]
            if hits:
                found[str(path.relative_to(folder))] = [mask_email(h) for h in hits[:3]]
    return found


def active_html_outputs(notebook) -> list[int]:
    """Indexes of cells whose HTML or Markdown outputs contain active content.

    Active content is a ``<script>``, ``<iframe>``, ``<object>`` or ``<embed>`` tag, a
    ``javascript:`` URL or an ``on...=`` event attribute. A report never needs any of these in
    its outputs; finding one means text was rendered as markup instead of escaped.

    Parameters
    ----------
    notebook
        An executed notebook read with :mod:`nbformat`.
    """
    bad = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(
                "".join(v) if isinstance(v, list) else str(v)
                for k, v in data.items() if k in ("text/html", "text/markdown")
            )
            if text and _ACTIVE_HTML_RE.search(text):
                bad.append(index)
                break
    return bad
