"""Column checks on Ibis tables, with the message of ``feedback_lib._util.checks.require_columns``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from feedback_lib.errors import SchemaError


def require_table_columns(table_expr: Any, columns: Iterable[str], *, table: str, where: str | None = None) -> None:
    """Raise :class:`SchemaError` naming the canonical columns of ``table`` that an Ibis table lacks
    (read from its schema; nothing runs in the engine)."""
    prefix = f"{where}: " if where else ""
    have = list(table_expr.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        has = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
        raise SchemaError(
            f"{prefix}{table}: missing column(s) {', '.join(map(repr, missing))}; {table} lacks columns "
            f"this needs (it has: {has or 'no columns'}). Rename the columns to the canonical names "
            "(see feedback_lib.io.schema)."
        )
