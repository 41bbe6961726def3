"""Data in and out: the data contract (``schema``), raw readers for CSV/Parquet/xlsx/DuckDB
(``readers``), validation against the contract (``validate``), the :class:`Dataset` container with
``load_dataset``/``save_dataset`` (``dataset``) and the DuckDB store (``store``).

May import: ``feedback_lib._util`` and ``feedback_lib.errors``.
"""

from feedback_lib.io.dataset import Dataset, load_dataset, save_dataset
from feedback_lib.io.readers import RawSource, arrow_to_pandas, file_sha256, read_source
from feedback_lib.io.schema import TABLES
from feedback_lib.io.store import IngestResult, ingest
from feedback_lib.io.stripe import read_stripe_subscriptions
from feedback_lib.io.validate import (
    FUTURE_MARGIN_DAYS,
    ValidationResult,
    validate_tables,
)

__all__ = [
    "arrow_to_pandas",
    "Dataset",
    "file_sha256",
    "FUTURE_MARGIN_DAYS",
    "ingest",
    "IngestResult",
    "load_dataset",
    "RawSource",
    "read_source",
    "read_stripe_subscriptions",
    "save_dataset",
    "TABLES",
    "validate_tables",
    "ValidationResult",
]
