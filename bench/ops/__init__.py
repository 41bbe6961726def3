"""The benchmarked operations, in table order."""

from __future__ import annotations

from .base import Operation
from .loading import OPERATIONS as _LOADING
from .nps import OPERATIONS as _NPS
from .revenue import OPERATIONS as _REVENUE
from .survival import OPERATIONS as _SURVIVAL

__all__ = ["OPERATIONS", "OPERATIONS_BY_NAME", "Operation"]

OPERATIONS: tuple[Operation, ...] = (*_LOADING, *_REVENUE, *_NPS, *_SURVIVAL)
OPERATIONS_BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
