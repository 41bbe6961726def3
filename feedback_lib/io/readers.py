"""Read raw tables from a folder of CSV/Parquet exports, an ``.xlsx`` workbook or a DuckDB file.

Readers return the tables as found (no validation); :mod:`feedback_lib.io.validate` checks them.
CSV files are decoded from UTF-8 (with or without BOM) or UTF-16 with BOM, which is what
spreadsheet tools export; any other encoding must be named with ``encoding=``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from feedback_lib.errors import ParameterError, SchemaError
from feedback_lib.io.schema import SCHEMAS, STRING_DTYPE, TABLES

__all__ = ["arrow_to_pandas", "file_sha256", "RawSource", "read_source"]


@dataclass
class RawSource:
    """Tables as read from a source, with the file each came from (for error messages)."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, str]  # table -> file name (or "workbook.xlsx[sheet]")
    hashes: dict[str, str] = field(default_factory=dict)  # file path -> sha256
    truth: dict = field(default_factory=dict)
    kind: str = "folder"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_csv_bytes(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode CSV bytes: BOM-marked UTF-8/UTF-16 always, else ``encoding`` or strict UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    chosen = encoding or "utf-8"
    try:
        return data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SchemaError(
            f"{name}: cannot decode the file as {chosen} (byte {exc.start}, line {line}, "
            f"bytes {data[exc.start:exc.start + 4]!r}). Save it as UTF-8 (or UTF-16 with BOM), "
            f"or pass encoding='cp1252' (or the file's real encoding)."
        ) from None


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a DataFrame whose text columns stay in Arrow buffers (``string[pyarrow]``)."""
    return table.to_pandas(types_mapper=_TEXT_TYPES.get)


_TEXT_TYPES = {pa.string(): STRING_DTYPE, pa.large_string(): STRING_DTYPE}


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    text = decode_csv_bytes(path.read_bytes(), name=path.name, encoding=encoding)
    try:
        return pd.read_csv(io.StringIO(text), dtype=STRING_DTYPE, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as exc:
        raise SchemaError(f"{path.name}: not a well-formed CSV file ({exc})") from None
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path.name}: the file is empty (not even a header row)") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        return arrow_to_pandas(pq.read_table(path))
    except (pa.ArrowException, OSError) as exc:
        raise SchemaError(f"{path.name}: not a readable Parquet file ({exc})") from None


def _read_folder(folder: Path, encoding: str | None) -> RawSource:
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for table in TABLES:
        candidates = [folder / f"{table}{ext}" for ext in (".csv", ".parquet")]
        found = [p for p in candidates if p.exists()]
        if len(found) > 1:
            raise SchemaError(
                f"{folder}: both {found[0].name} and {found[1].name} exist for table '{table}'; "
                "keep one so it is clear which export is meant"
            )
        if not found:
            continue
        path = found[0]
        hashes[str(path)] = file_sha256(path)
        files[table] = path.name
        tables[table] = _read_csv(path, encoding) if path.suffix == ".csv" else _read_parquet(path)
    if not tables:
        raise SchemaError(
            f"{folder}: no table files found; expected some of "
            + ", ".join(f"{t}.csv" for t in TABLES)
            + " (or .parquet)"
        )
    truth_path = folder / "TRUTH.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
    return RawSource(tables, files, hashes, truth, kind="folder")


def _read_xlsx(path: Path) -> RawSource:
    sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl", keep_default_na=False)
    tables = {name: frame for name, frame in sheets.items() if name in TABLES}
    if not tables:
        raise SchemaError(
            f"{path.name}: no sheet is named after a table; name sheets "
            + ", ".join(TABLES)
            + f" (found: {', '.join(sheets) or 'none'})"
        )
    files = {name: f"{path.name}[{name}]" for name in tables}
    return RawSource(tables, files, {str(path): file_sha256(path)}, kind="xlsx")


def _read_duckdb(path: Path) -> RawSource:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        tables = {t: arrow_to_pandas(_ordered(con.table(t)).to_arrow_table()) for t in TABLES if t in present}
    finally:
        con.close()
    if not tables:
        raise SchemaError(f"{path.name}: the DuckDB file holds none of the tables {', '.join(TABLES)}")
    files = {name: f"{path.name}[{name}]" for name in tables}
    return RawSource(tables, files, {str(path): file_sha256(path)}, kind="duckdb")


def _ordered(relation):
    """A store table in key order: its physical order changes with upserts, a report's must not."""
    name = relation.alias
    key = SCHEMAS[name].key if name in SCHEMAS else ()
    if not key or not set(key) <= set(relation.columns):
        return relation
    return relation.order(", ".join(f'"{k}"' for k in key))


def read_source(source: str | Path, *, encoding: str | None = None) -> RawSource:
    """Read the raw tables of ``source`` (folder, ``.xlsx`` or ``.duckdb``/``.db`` file)."""
    path = Path(source)
    if not path.exists():
        raise ParameterError(f"{path}: no such file or folder")
    if path.is_dir():
        return _read_folder(path, encoding)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".duckdb", ".db"):
        return _read_duckdb(path)
    raise ParameterError(
        f"{path}: unsupported source; give a folder of CSV/Parquet exports, an .xlsx workbook "
        "or a .duckdb file"
    )
