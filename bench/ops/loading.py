"""Loading: ``fl.load_dataset`` on the Parquet cache, as every report starts with it."""

from __future__ import annotations

import feedback_lib as fl

from .base import Operation

__all__ = ["OPERATIONS"]


def _library(inputs, as_of):
    return fl.load_dataset(inputs.folder)


def _info(dataset) -> dict:
    return {"rows": sum(dataset.row_counts().values()), "rejected": len(dataset.rejected)}


OPERATIONS = (
    Operation("load_dataset", "fl.load_dataset (Parquet folder, validated)", (), _library, ratio_target=False,
              info=_info),
)
