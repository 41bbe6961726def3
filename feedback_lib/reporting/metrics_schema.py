"""JSON Schemas for each report's ``metrics.json`` and the check the runner applies.

Each report kind has a schema in ``feedback_lib/reporting/schemas/<kind>.metrics.schema.json``
(JSON Schema draft 2020-12). :func:`validate_metrics` checks a metrics object against it and
raises :class:`~feedback_lib.errors.ReportError` naming every violation by its JSON path.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from feedback_lib.errors import ReportError

__all__ = ["SCHEMA_DIR", "metrics_schema", "validate_metrics"]

SCHEMA_DIR = Path(__file__).with_name("schemas")


@cache
def metrics_schema(kind: str) -> dict[str, Any] | None:
    """The JSON Schema of ``kind``'s ``metrics.json``, or ``None`` when the kind has none."""
    path = SCHEMA_DIR / f"{kind}.metrics.schema.json"
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def validate_metrics(kind: str, metrics: dict[str, Any]) -> None:
    """Raise :class:`ReportError` unless ``metrics`` validates against ``kind``'s schema.

    A kind without a schema file passes. The message lists at most ten violations, each as
    ``$.path.to.key: reason``.
    """
    schema = metrics_schema(kind)
    if schema is None:
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(metrics), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"{e.json_path}: {e.message[:200]}" for e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ReportError(f"metrics.json of the {kind} report breaks its schema{more}:\n  " + "\n  ".join(lines))
