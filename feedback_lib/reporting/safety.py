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

import numpy as np
import pandas as pd

__all__ = [
    "active_html_outputs",
    "find_unmasked_emails",
    "mask_email",
    "mask_emails",
    "safe_csv",
]

# An address as people write it: local part, @, dotted domain with an alphabetic top-level label.
# A masked address ("m***@example.com") does not match: '*' cannot precede the '@'.
EMAIL_RE = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}", re.UNICODE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ACTIVE_HTML_RE = re.compile(
    r"<\s*(?:script|iframe|object|embed)\b|javascript\s*:|\son[a-z]+\s*=", re.IGNORECASE
)
_TEXT_SUFFIXES = (".html", ".htm", ".json", ".csv", ".ipynb", ".md", ".txt")


def mask_email(address: Any) -> Any:
    """Mask an e-mail address to its first character and domain.

    Parameters
    ----------
    address
        An e-mail address; anything else (empty text, ``None``, NaN) is returned unchanged.

    Examples
    --------
    >>> mask_email("maria.virtanen@example.com")
    'm***@example.com'
    >>> mask_email("") == "" and mask_email(None) is None
    True
    """
    if not isinstance(address, str) or "@" not in address:
        return address
    return EMAIL_RE.sub(_mask_match, address)


def _mask_match(match: re.Match) -> str:
    local, _, domain = match.group(0).rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_emails(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Copy of ``frame`` with every e-mail address in its text cells masked.

    Parameters
    ----------
    frame
        Any DataFrame.
    columns
        Columns to mask; default every text (object or string) column, because verbatims and
        notes contain addresses too.

    Examples
    --------
    >>> df = pd.DataFrame({"contact": ["ab@x.com", None], "n": [1, 2]})
    >>> mask_emails(df)["contact"].tolist()
    ['a***@x.com', None]
    """
    out = frame.copy()
    targets = columns if columns is not None else _text_columns(out)
    for col in targets:
        # only cells with an '@' can hold an address (a vectorised test, then the regex on those)
        has_at = _cells(out[col], lambda text: text.str.contains("@", regex=False), lambda v: "@" in v)
        if has_at.any():
            values = out[col].astype(object)
            values[has_at] = values[has_at].map(mask_email)
            out[col] = values.astype(out[col].dtype) if isinstance(out[col].dtype, pd.StringDtype) else values
    return out


def _cells(column: pd.Series, vectorised, one) -> np.ndarray:
    """Boolean mask of the text cells of ``column`` for which a test holds (False elsewhere).

    ``vectorised`` runs on the ``.str`` accessor; a column the accessor refuses (lists, say)
    gets ``one`` cell by cell on its string values.
    """
    try:
        return vectorised(column).to_numpy(dtype=bool, na_value=False)
    except (AttributeError, TypeError):
        return np.fromiter((isinstance(v, str) and one(v) for v in column), dtype=bool, count=len(column))


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


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
    for col in _text_columns(out):
        formula = _cells(out[col], lambda text: text.str.startswith(_FORMULA_START),
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
