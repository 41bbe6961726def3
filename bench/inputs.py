"""The inputs of the benchmarked operations: cached demo tables and frames derived from them.

Tables are read from the Parquet cache with the library's Arrow reader (the canonical dtypes,
text in Arrow buffers, survive the round trip), not with ``feedback_lib.load_dataset``, so that
validation time is not charged to any operation. Derived inputs are computed once per worker with the library and shared, unchanged,
by the library call and its SQL baseline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

import feedback_lib as fl
from feedback_lib.io.dataset import Dataset
from feedback_lib.io.readers import arrow_to_pandas
from feedback_lib.io.schema import empty_frame

__all__ = ["DERIVED", "Inputs"]

#: Derived inputs and how they are built (see :meth:`Inputs.get`).
DERIVED: dict[str, str] = {
    "revenue": "fl.monthly_revenue(subscriptions, as_of=AS_OF)",
    "responses_segment": "responses left-joined with accounts.segment on account_id",
    "lifetimes_segment": "fl.account_lifetimes(revenue, as_of=AS_OF) joined with accounts.segment",
}


class Inputs:
    """Lazy access to the tables of one cached demo company and to the derived inputs.

    Parameters
    ----------
    folder
        A cache folder written by :func:`bench.data.ensure_data`.
    as_of
        Date the derived inputs are computed for.
    """

    def __init__(self, folder: str | Path, *, as_of: str) -> None:
        self.folder = Path(folder)
        self.as_of = as_of
        self._frames: dict[str, pd.DataFrame] = {}

    def get(self, name: str) -> pd.DataFrame:
        """A table of the dataset (``accounts``, ``subscriptions``, ...) or a :data:`DERIVED` input."""
        if name not in self._frames:
            self._frames[name] = self._build(name)
        return self._frames[name]

    def dataset(self) -> Dataset:
        """The six tables as a :class:`feedback_lib.Dataset` (no copies)."""
        return Dataset(**{name: self.get(name) for name in fl.TABLES})

    def _build(self, name: str) -> pd.DataFrame:
        if name in fl.TABLES:
            path = self.folder / f"{name}.parquet"
            return arrow_to_pandas(pq.read_table(path)) if path.exists() else empty_frame(name)
        segments = self.get("accounts")[["account_id", "segment"]]
        if name == "revenue":
            return fl.monthly_revenue(self.get("subscriptions"), as_of=self.as_of)
        if name == "responses_segment":
            return self.get("responses").merge(segments, on="account_id", how="left")
        if name == "lifetimes_segment":
            lifetimes = fl.account_lifetimes(self.get("revenue"), as_of=self.as_of)
            return lifetimes.merge(segments, on="account_id", how="left")
        raise KeyError(f"unknown input {name!r}; known: {[*fl.TABLES, *DERIVED]}")
