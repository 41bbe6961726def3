"""Report parameters: read a notebook's ``parameters`` cell and validate values against it.

papermill injects whatever it is given and only *warns* about names the notebook does not declare
(nteract/papermill#818). A scheduled report must instead refuse to start: this module reads the
tagged ``parameters`` cell with :mod:`ast` (annotated assignments ``name: type = literal  #
comment``), and coerces each supplied value by its annotation, so that a typo or an ill-typed
command-line value stops the run before a kernel is started.

A parameter's comment may end with its valid range, checked the same way: ``[lo, hi]`` for a
number (inclusive; ``inf`` for no bound; for a list, every item) or ``{a, b, c}`` for a closed set
of values, e.g. ``top_n: int = 20  # rows shown [1, 1000]``. The module needs no kernel, no
nbformat and no plotting library, so validation takes milliseconds.
"""

from __future__ import annotations

import ast
import datetime as _dt
import io
import json
import math
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from feedback_lib._util import dates
from feedback_lib.errors import ParameterError, ReportError

if TYPE_CHECKING:
    import nbformat

__all__ = [
    "NotebookParameter",
    "coerce_parameters",
    "describe_parameters",
    "parse_as_of",
    "read_parameters",
    "report_period",
]

PARAMETERS_TAG = "parameters"
_SCALARS = ("str", "int", "float", "bool")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE_RE = re.compile(r"\s*(\[[^\[\]]*\]|\{[^{}]*\})\s*$")


@dataclass(frozen=True)
class NotebookParameter:
    """One declared report parameter.

    Attributes
    ----------
    name : str
        Variable name in the notebook.
    annotation : str
        The annotation as written (``"int"``, ``"list[str]"``, ``"str | None"``).
    default : Any
        The literal default value of the notebook.
    comment : str
        The trailing comment, which documents the parameter (without its range).
    low, high : float or None
        Inclusive bounds of a numeric parameter (of each item of a list), from ``[lo, hi]``.
    choices : tuple or None
        The allowed values, from ``{a, b, c}``.
    """

    name: str
    annotation: str
    default: Any
    comment: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def range_text(self) -> str:
        """The valid range as written in the notebook, e.g. ``[1, 1000]``; empty if none."""
        if self.choices is not None:
            return "{" + ", ".join(_show(c) for c in self.choices) + "}"
        if self.low is None and self.high is None:
            return ""
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return f"[{_show(low)}, {_show(high)}]"

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ``ParameterError``.

        Strings (command-line values) are parsed by the annotation: ``int`` and ``float`` as
        numbers, ``bool`` as true/false/yes/no/1/0, ``list``/``dict`` as JSON or YAML. Values that
        are not strings must already have the right type (an ``int`` is accepted for ``float``).

        Examples
        --------
        >>> NotebookParameter("top_n", "int", 20).coerce("15")
        15
        >>> NotebookParameter("segments", "list[str]", []).coerce('["SMB", "Enterprise"]')
        ['SMB', 'Enterprise']
        >>> NotebookParameter("top_n", "int", 20).coerce("many")
        Traceback (most recent call last):
        ...
        feedback_lib.errors.ParameterError: parameter 'top_n' expects int, got 'many'
        """
        try:
            out = _coerce(value, _parse_type(self.annotation))
        except _Mismatch as exc:
            hint = f" ({exc})" if str(exc) else ""
            raise ParameterError(
                f"parameter {self.name!r} expects {self.annotation}, got {value!r}{hint}"
            ) from None
        self.check(out)
        return out

    def check(self, value: Any) -> None:
        """Raise ``ParameterError`` if a converted value lies outside the documented range.

        Examples
        --------
        >>> NotebookParameter("top_n", "int", 20, "rows", low=1, high=1000).check(-5)
        Traceback (most recent call last):
        ...
        feedback_lib.errors.ParameterError: parameter 'top_n' = -5 is outside its range [1, 1000]
        """
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if self.choices is not None and item not in self.choices:
                raise ParameterError(f"parameter {self.name!r} = {_show(value)} is not one of "
                                     f"{self.range_text}")
            if isinstance(item, int | float) and not (
                    (self.low is None or item >= self.low)
                    and (self.high is None or item <= self.high)):
                raise ParameterError(f"parameter {self.name!r} = {_show(value)} is outside "
                                     f"its range {self.range_text}")


class _Mismatch(Exception):
    """A value that does not fit a type (internal)."""


def _show(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    return json.dumps(value) if isinstance(value, str) and not value else str(value)


def _parse_range(param: NotebookParameter, label: str) -> NotebookParameter:
    """Split a trailing ``[lo, hi]`` or ``{a, b}`` off the comment into bounds or choices."""
    match = _RANGE_RE.search(param.comment)
    if match is None:
        return param
    text = match[1]
    typ = _parse_type(param.annotation)
    while typ[0] in ("optional", "list") and typ[1] is not None:
        typ = typ[1]
    items = [i.strip() for i in text[1:-1].split(",")]
    comment = param.comment[: match.start()].rstrip()
    try:
        if text.startswith("["):
            if len(items) != 2 or typ[0] not in ("int", "float", "list"):
                raise _Mismatch("a range [lo, hi] needs two numbers and a numeric parameter")
            low, high = (float(i) for i in items)
            if not low <= high:
                raise _Mismatch(f"{text} is empty")
            out = NotebookParameter(param.name, param.annotation, param.default, comment,
                                    low=None if low == -math.inf else low,
                                    high=None if high == math.inf else high)
        else:
            choices = tuple(_coerce(ast.literal_eval(i) if i.startswith(("'", '"')) else i, typ)
                            for i in items)
            out = NotebookParameter(param.name, param.annotation, param.default, comment,
                                    choices=choices)
    except (_Mismatch, ValueError, SyntaxError) as exc:
        raise ReportError(f"reading parameters of {label}: the range {text} of {param.name!r} "
                          f"does not fit {param.annotation} ({exc})") from None
    try:
        out.check(param.default)
    except ParameterError as exc:
        raise ReportError(f"reading parameters of {label}: the default is invalid: {exc}") from None
    return out


def _parse_type(annotation: str) -> tuple:
    """Parse an annotation into a small type tree: ('str',), ('list', inner), ('optional', t)."""
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError as exc:
        raise ReportError(f"unsupported parameter annotation {annotation!r}") from exc
    return _type_of(node, annotation)


def _type_of(node: ast.AST, annotation: str) -> tuple:
    if isinstance(node, ast.Name) and node.id in (*_SCALARS, "list", "dict"):
        return (node.id, None) if node.id in ("list", "dict") else (node.id,)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "list":
            return ("list", _type_of(node.slice, annotation))
        if node.value.id == "dict":
            return ("dict", None)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        none = [p for p in parts if isinstance(p, ast.Constant) and p.value is None]
        other = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
        if len(none) == 1 and len(other) == 1:
            return ("optional", _type_of(other[0], annotation))
    raise ReportError(
        f"unsupported parameter annotation {annotation!r}: use str, int, float, bool, "
        "list, list[str|int|float], dict, or one of these '| None'"
    )


def _coerce(value: Any, typ: tuple) -> Any:
    kind = typ[0]
    if kind == "optional":
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
            return None
        return _coerce(value, typ[1])
    if kind == "str":
        if isinstance(value, str):
            return value
        raise _Mismatch("")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Mismatch("use true or false")
    if kind == "int":
        if isinstance(value, bool):
            raise _Mismatch("")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise _Mismatch("")
    if kind == "float":
        if isinstance(value, bool):
            raise _Mismatch("")
        if isinstance(value, (int, float)):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value)
            except ValueError:
                raise _Mismatch("a number") from None
        else:
            raise _Mismatch("")
        if not math.isfinite(out):
            raise _Mismatch("a finite number")
        return out
    if kind in ("list", "dict"):
        parsed = _parse_structured(value) if isinstance(value, str) else value
        want = list if kind == "list" else dict
        if isinstance(parsed, tuple) and kind == "list":
            parsed = list(parsed)
        if not isinstance(parsed, want):
            example = '\'["SMB", "Enterprise"]\'' if kind == "list" else "'{\"key\": 1}'"
            raise _Mismatch(f"give a {kind} in JSON or YAML, e.g. {example}")
        if kind == "list" and typ[1] is not None:
            return [_coerce(item, typ[1]) for item in parsed]
        return parsed
    raise _Mismatch("")  # pragma: no cover - _parse_type admits nothing else


def _parse_structured(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise _Mismatch("not valid JSON or YAML") from None


def _comments_by_line(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return comments


def read_parameters(notebook: str | Path | nbformat.NotebookNode) -> dict[str, NotebookParameter]:
    """Declared parameters of a notebook, from its cell tagged ``parameters``.

    Parameters
    ----------
    notebook
        Path of an ``.ipynb`` file, or a notebook already read with :mod:`nbformat`.

    Returns
    -------
    dict
        ``name -> NotebookParameter`` in the order of the cell.

    Raises
    ------
    ReportError
        The notebook has no (or more than one) ``parameters`` cell, or the cell holds something
        other than assignments of literals.

    Notes
    -----
    Each line is ``name: type = literal  # comment [range]`` (an unannotated ``name = literal``
    takes the type of its literal; the range is optional, see the module's docstring). The
    literal is read with :func:`ast.literal_eval`; nothing is executed. A path is read as plain
    JSON (nbformat 4), without importing :mod:`nbformat`.
    """
    label = Path(notebook).name if isinstance(notebook, (str, Path)) else "notebook"
    if isinstance(notebook, (str, Path)):
        try:
            nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportError(f"reading parameters of {label}: {exc}") from exc
    else:
        nb = notebook
    cells = [c for c in nb["cells"] if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ReportError(
            f"reading parameters of {label}: expected exactly one cell tagged 'parameters', "
            f"found {len(cells)}"
        )
    source = cells[0]["source"]
    source = "".join(source) if isinstance(source, list) else source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(f"reading parameters of {label}: line {exc.lineno}: {exc.msg}") from exc
    comments = _comments_by_line(source)
    declared: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            name, annotation, value_node = node.target.id, ast.unparse(node.annotation), node.value
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name, annotation, value_node = node.targets[0].id, "", node.value
        else:
            raise ReportError(
                f"reading parameters of {label}: line {node.lineno} is not an assignment "
                f"'name: type = literal'"
            )
        try:
            default = ast.literal_eval(value_node)
        except ValueError as exc:
            raise ReportError(
                f"reading parameters of {label}: the default of {name!r} is not a literal"
            ) from exc
        if not annotation:
            annotation = "str | None" if default is None else type(default).__name__
        _parse_type(annotation)  # unsupported annotations fail here, at read time
        declared[name] = _parse_range(
            NotebookParameter(name, annotation, default, comments.get(node.lineno, "")), label)
    return declared


def describe_parameters(declared: dict[str, NotebookParameter],
                        skip: tuple[str, ...] = ()) -> str:
    """The parameters as help text: name, type, default, meaning and valid range, one per line.

    Examples
    --------
    >>> print(describe_parameters({"top_n": NotebookParameter("top_n", "int", 20, "rows shown",
    ...                                                       low=1, high=1000)}))
      -p top_n INT          rows shown (default 20; valid [1, 1000])
    """
    lines = []
    for p in declared.values():
        if p.name in skip:
            continue
        default = json.dumps(p.default, ensure_ascii=False) if p.default in ("", None) or \
            isinstance(p.default, list | dict) else str(p.default)
        valid = f"; valid {p.range_text}" if p.range_text else ""
        head = f"  -p {p.name} {p.annotation.upper().replace(' ', '')}"
        lines.append(f"{head:<22}{' ' if len(head) < 22 else chr(10) + ' ' * 22}"
                     f"{p.comment or '(undocumented)'} (default {default}{valid})")
    return "\n".join(lines)


def coerce_parameters(
    declared: dict[str, NotebookParameter], given: dict[str, Any] | None
) -> dict[str, Any]:
    """Validate and convert supplied values against the declared parameters.

    Parameters
    ----------
    declared
        As returned by :func:`read_parameters`.
    given
        Name -> value; values may be strings (from the command line) or Python objects.

    Returns
    -------
    dict
        The supplied names with converted values (defaults are not filled in).

    Raises
    ------
    ParameterError
        For the first unknown name (listing the known ones) or ill-typed value (naming the
        parameter, the expected type and the value).

    Examples
    --------
    >>> declared = {"top_n": NotebookParameter("top_n", "int", 20)}
    >>> coerce_parameters(declared, {"top_n": "5"})
    {'top_n': 5}
    >>> coerce_parameters(declared, {"topn": "5"})
    Traceback (most recent call last):
    ...
    feedback_lib.errors.ParameterError: unknown parameter 'topn'; this report takes: top_n
    """
    out: dict[str, Any] = {}
    for name, value in (given or {}).items():
        if name not in declared:
            raise ParameterError(
                f"unknown parameter {name!r}; this report takes: {', '.join(declared) or 'none'}"
            )
        out[name] = declared[name].coerce(value)
    return out


def parse_as_of(value: Any) -> _dt.date:
    """The report date from ``YYYY-MM-DD`` text or a date-like object.

    Stricter than the library's :func:`feedback_lib._util.dates.parse_as_of` (which it calls): a
    scheduled run accepts only ISO text, so that ``30.9.2026`` or ``09/30/2026`` never means a
    different day on another machine.

    Examples
    --------
    >>> parse_as_of("2026-09-30")
    datetime.date(2026, 9, 30)
    >>> parse_as_of("30.9.2026")
    Traceback (most recent call last):
    ...
    feedback_lib.errors.ParameterError: as_of expects a date YYYY-MM-DD, got '30.9.2026'
    """
    if isinstance(value, str) and not _DATE_RE.match(value.strip()):
        raise ParameterError(f"as_of expects a date YYYY-MM-DD, got {value!r}")
    if isinstance(value, _dt.date | str):
        try:
            return dates.parse_as_of(value.strip() if isinstance(value, str) else value).date()
        except ParameterError:
            pass
    raise ParameterError(f"as_of expects a date YYYY-MM-DD, got {value!r}")


def report_period(kind: str, as_of: _dt.date) -> str:
    """Folder name of the period a report covers.

    ``weekly`` -> ISO week (``2026-W40``), ``quarterly`` -> calendar quarter (``2026-Q3``),
    anything else -> the date itself.

    Examples
    --------
    >>> import datetime
    >>> report_period("weekly", datetime.date(2026, 9, 30))
    '2026-W40'
    >>> report_period("weekly", datetime.date(2027, 1, 1))
    '2026-W53'
    >>> report_period("quarterly", datetime.date(2026, 9, 30))
    '2026-Q3'
    >>> report_period("valuation", datetime.date(2026, 9, 30))
    '2026-09-30'
    """
    if kind == "weekly":
        year, week, _ = as_of.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "quarterly":
        return f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
    return as_of.isoformat()
