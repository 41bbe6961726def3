"""Output safety for reports: masked e-mail addresses, inert CSV cells, no active HTML.

Reports carry customer verbatims and contact data into files that are mailed around and opened in
browsers and spreadsheets. Three rules hold for every output the report runner publishes:

1. contact e-mail addresses are masked (:func:`mask_email`), and a final scan
   (:func:`find_unmasked_emails`) fails the run if any address survives;
2. CSV exports cannot run spreadsheet formulas (:func:`safe_csv`, OWASP "CSV injection");
3. verbatims are shown as text, never as markup (:func:`feedback_lib.reporting.safe_table`);
   the final check (:func:`active_html`, :func:`active_html_outputs`) parses the rendered HTML and
   inspects its elements and attributes, so that a comment *about* ``javascript:`` or ``only =``
   (escaped text) passes and a real ``<script>`` element fails.
"""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from feedback_lib._util.privacy import EMAIL_RE, cells, mask_email, mask_emails, text_columns

__all__ = [
    "active_html",
    "active_html_outputs",
    "find_unmasked_emails",
    "mask_email",
    "mask_emails",
    "safe_csv",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Elements that run code, load other documents or send data; a report has none of them.
ACTIVE_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "portal", "noscript",
})
#: Attributes holding a URL, checked for script schemes.
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "poster",
                             "xlink:href", "background", "lowsrc", "dynsrc", "cite"})
_SCRIPT_URL_RE = re.compile(r"^(?:javascript|vbscript|data:(?!image/(?:png|jpeg|gif|webp);))",
                            re.IGNORECASE)
_URL_NOISE_RE = re.compile(r"[\x00-\x20]+")
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


class _ActiveHTML(HTMLParser):
    """Collects the active elements and attributes of a document (parsed, not pattern-matched)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_ELEMENTS:
            self.found.append(f"<{tag}> element")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh"
                                 for k, v in attrs):
            self.found.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name} attribute on <{tag}>")
            elif name == "srcdoc":
                self.found.append(f"srcdoc attribute on <{tag}>")
            elif name in _URL_ATTRIBUTES and value is not None:
                # browsers ignore control characters and spaces inside a scheme: "java\tscript:"
                if _SCRIPT_URL_RE.match(_URL_NOISE_RE.sub("", value)):
                    self.found.append(f"{name}={_URL_NOISE_RE.sub('', value)[:20]!r} on <{tag}>")

    handle_startendtag = handle_starttag


def active_html(markup: str | Path) -> list[str]:
    """The active elements and attributes of an HTML document or fragment.

    Parameters
    ----------
    markup
        HTML text, or the path of an HTML file.

    Returns
    -------
    list of str
        One description per finding (``"<script> element"``, ``"onerror attribute on <img>"``,
        ``"href='javascript:alert(1)' on <a>"``); empty for an inert document. Text is never a
        finding, whatever it says: ``&lt;script&gt;`` and ``javascript:`` in a paragraph are
        words, not markup.

    Notes
    -----
    Active content: elements that run scripts or embed other documents (:data:`ACTIVE_ELEMENTS`),
    event-handler attributes (``on*``), ``srcdoc``, a ``meta`` refresh, and URL attributes with a
    ``javascript:``, ``vbscript:`` or non-image ``data:`` scheme (OWASP XSS Filter Evasion Cheat
    Sheet, cheatsheetseries.owasp.org). Parsed with :class:`html.parser.HTMLParser`, which
    tokenises like a browser for these purposes (tags, attributes, character references).

    Examples
    --------
    >>> active_html("<p>only = fine; javascript: is a word &lt;script&gt;</p>")
    []
    >>> active_html('<img src=x onerror="alert(1)"><a href=" java\tscript:alert(1)">x</a>')
    ['onerror attribute on <img>', "href='javascript:alert(1)' on <a>"]
    """
    if isinstance(markup, Path):
        markup = markup.read_text(encoding="utf-8", errors="replace")
    parser = _ActiveHTML()
    parser.feed(markup)
    parser.close()
    return parser.found


def active_html_outputs(notebook) -> list[int]:
    """Indexes of cells whose HTML or Markdown outputs contain active content.

    Each ``text/html`` or ``text/markdown`` output is parsed with :func:`active_html`; finding
    anything means text was rendered as markup instead of escaped.

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
            if text and active_html(text):
                bad.append(index)
                break
    return bad
