"""The Dataset container and ``load_dataset``: validated canonical tables from any source."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from feedback_lib.errors import ParameterError
from feedback_lib.io.readers import read_source
from feedback_lib.io.schema import (
    LIST_SEPARATOR,
    REJECTED_COLUMNS,
    SCHEMAS,
    TABLES,
    empty_frame,
)
from feedback_lib.io.validate import validate_tables

__all__ = ["Dataset", "load_dataset", "save_dataset"]


def _empty_rejected() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in REJECTED_COLUMNS})


@dataclass
class Dataset:
    """The six canonical tables of one company, validated against the data contract.

    Attributes
    ----------
    accounts, subscriptions, responses, conversations, tickets, usage : DataFrame
        One attribute per table with the canonical columns (``feedback_lib.io.schema``); a table the
        source lacks is an empty frame with those columns.
    rejected : DataFrame
        Rows rejected under ``errors="quarantine"``: ``table, row, column, rule, value`` (one row
        per broken rule; ``row`` is the 1-based source row, header excluded).
    flags : DataFrame
        Valid but suspicious cells (same columns as ``rejected``), e.g. dates in the future of the
        data's own range. Flagged rows are kept.
    truth : dict
        Planted values of a generated demo company (empty for real data).
    source : str
        Where the data came from.
    input_hashes : dict
        SHA-256 of each input file (path -> hex digest), for report provenance.
    tables_present : tuple of str
        The tables the source contained (the others are empty frames).
    """

    accounts: pd.DataFrame = field(default_factory=lambda: empty_frame("accounts"))
    subscriptions: pd.DataFrame = field(default_factory=lambda: empty_frame("subscriptions"))
    responses: pd.DataFrame = field(default_factory=lambda: empty_frame("responses"))
    conversations: pd.DataFrame = field(default_factory=lambda: empty_frame("conversations"))
    tickets: pd.DataFrame = field(default_factory=lambda: empty_frame("tickets"))
    usage: pd.DataFrame = field(default_factory=lambda: empty_frame("usage"))
    rejected: pd.DataFrame = field(default_factory=_empty_rejected)
    flags: pd.DataFrame = field(default_factory=_empty_rejected)
    truth: dict = field(default_factory=dict)
    source: str = ""
    input_hashes: dict = field(default_factory=dict)
    tables_present: tuple = TABLES

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six tables by name, in contract order."""
        return {name: getattr(self, name) for name in TABLES}

    def row_counts(self) -> dict[str, int]:
        """Number of rows of each table."""
        return {name: len(frame) for name, frame in self.tables().items()}


def load_dataset(
    source: str | Path,
    *,
    errors: str = "raise",
    encoding: str | None = None,
    as_of: str | None = None,
    known_accounts: Iterable[str] | None = None,
) -> Dataset:
    r"""Load and validate a company's exports into a :class:`Dataset`.

    Parameters
    ----------
    source : str or Path
        A folder of CSV or Parquet files named after the tables (``accounts.csv``,
        ``subscriptions.parquet``, ...), an ``.xlsx`` workbook with one sheet per table, or a
        DuckDB file written by ``feedback-lib ingest``. CSV files may be UTF-8 (with or without
        BOM) or UTF-16 with BOM; other encodings need ``encoding=``. A ``TRUTH.json`` beside
        generated demo exports fills ``Dataset.truth``.
    errors : {"raise", "quarantine"}
        ``"raise"`` (default) raises one :class:`~feedback_lib.SchemaError` listing every broken
        rule with file, column, rule, 1-based rows (header excluded) and example values.
        ``"quarantine"`` keeps the valid rows and lists each rejected row once in
        ``Dataset.rejected``, so that valid + rejected rows equal the input rows of every table.
    encoding : str, optional
        Encoding of CSV files without a BOM (default UTF-8, strictly).
    as_of : date-like, optional
        Dates after it are flagged in ``Dataset.flags`` (kept, with a DataQualityWarning). By
        default the end of the data's own range is the 99th percentile of event dates plus
        31 days.
    known_accounts : iterable of str, optional
        Account ids known from elsewhere (for example a store), so that an export without an
        accounts table can still be checked for orphans.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "accounts.csv").write_text(
    ...     "account_id,name,segment,region,industry,owner,csm,signup_date\n"
    ...     "A1,Acme,SMB,EMEA,Retail,Maria,Li,2024-01-02\n", encoding="utf-8")
    >>> _ = (folder / "responses.csv").write_text(
    ...     "response_id,account_id,respondent,responded_at,score,comment,channel\n"
    ...     "R1,A1,c1,2024-02-01,9,Hyvä,email\n"
    ...     "R2,A1,c1,2024-03-01,11,,email\n", encoding="utf-8")
    >>> load_dataset(folder)
    Traceback (most recent call last):
    ...
    feedback_lib.errors.SchemaError: 1 data contract failure(s); fix the source or load with errors='quarantine':
      responses.csv: column 'score' breaks rule 'between 0 and 10' in 1 row (row 2; e.g. '11')
    >>> ds = load_dataset(folder, errors="quarantine")
    >>> len(ds.responses), ds.rejected[["table", "row", "column", "value"]].values.tolist()
    (1, [['responses', 2, 'score', '11']])
    """
    raw = read_source(source, encoding=encoding)
    result = validate_tables(
        raw.tables, files=raw.files, errors=errors, known_accounts=known_accounts, as_of=as_of
    )
    tables = {name: result.tables.get(name, empty_frame(name)) for name in TABLES}
    return Dataset(
        **tables,
        rejected=result.rejected,
        flags=result.flags,
        truth=raw.truth,
        source=str(source),
        input_hashes=raw.hashes,
        tables_present=tuple(t for t in TABLES if t in raw.tables),
    )


def save_dataset(dataset: Dataset, folder: str | Path, *, format: str = "csv") -> Path:
    """Write the six tables as one file per table (``csv`` or ``parquet``) plus ``TRUTH.json``.

    CSV files are UTF-8 without BOM, ISO dates, lists joined with ``;``; what
    :func:`load_dataset` reads back is identical to ``dataset``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in dataset.tables().items():
        if format == "csv":
            out = frame.copy()
            for col in SCHEMAS[name].columns:
                if col.kind == "list":
                    out[col.name] = out[col.name].map(LIST_SEPARATOR.join)
                elif col.kind == "date":
                    out[col.name] = out[col.name].dt.strftime("%Y-%m-%d")
            out.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")
        elif format == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            raise ParameterError(f"format must be 'csv' or 'parquet', got {format!r}")
    if dataset.truth:
        (folder / "TRUTH.json").write_text(json.dumps(dataset.truth, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder
