"""Reading user-supplied tables (CSV or Parquet) with errors that name the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".txt")


PARQUET_MAGIC = b"PAR1"


def is_parquet(name: str) -> bool:
    return name.lower().endswith(PARQUET_SUFFIXES)


def file_holds_parquet(path: str | Path) -> bool:
    """Whether a file is Parquet: by its suffix, else (a KFP artifact's file has none) by the
    magic bytes at its start and end; reads 8 bytes at most."""
    name = str(path)
    if is_parquet(name) or name.lower().endswith(CSV_SUFFIXES):
        return is_parquet(name)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(-4, 2)
            return head == PARQUET_MAGIC and handle.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def _holds_parquet(source: str, data: bytes) -> bool:
    """Parquet by the name's suffix; a name without a table suffix (a KFP artifact's file)
    by Parquet's magic bytes, which open and close every Parquet file."""
    if is_parquet(source):
        return True
    if source.lower().endswith(CSV_SUFFIXES):
        return False
    return data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC


def _check_csv_header(text: str, source: str) -> None:
    first_line = text.split("\n", 1)[0].strip("\r")
    if not first_line.strip():
        raise InvalidInputError(f"{source}: no header row (the first line is empty)")
    header = next(csv.reader([first_line]))
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InvalidInputError(f"{source}: duplicate column name {name!r} in the header")
        seen.add(name)


def parse_table(data: bytes, source: str, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Parse CSV or Parquet bytes (chosen by ``source``'s suffix, else by their content) into a
    DataFrame.

    ``text_columns`` are kept as written (a CSV's ``version`` 1.10 must not become 1.1).

    CSV must be UTF-8 (a BOM is accepted) and comma-separated; every value is read
    as text or number exactly as written, and the schema check decides later.

    Raises:
        InvalidInputError: empty, undecodable or malformed input, naming ``source``.
    """
    if not data:
        raise InvalidInputError(f"{source}: the file is empty (0 bytes)")
    if _holds_parquet(source, data):
        try:
            frame = pq.read_table(pa.BufferReader(data)).to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{source}: not a readable Parquet file: {exc}") from None
        present = [column for column in text_columns if column in frame.columns]
        return frame.astype(dict.fromkeys(present, str))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{source}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None
    _check_csv_header(text, source)
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=",",
            skipinitialspace=True,
            dtype=dict.fromkeys(text_columns, str),
        )
    except pd.errors.ParserError as exc:
        raise InvalidInputError(f"{source}: malformed CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{source}: no columns to read") from None


def read_table(path: str | Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file from disk (see :func:`parse_table`).

    Raises:
        InvalidInputError: the file is missing, unreadable or malformed.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path}: a folder, not a CSV or Parquet file") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_table(data, str(path), text_columns)


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialise a frame deterministically (same data, same bytes, same content hash)."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()


def from_parquet_bytes(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    return pq.read_table(pa.BufferReader(data), columns=columns).to_pandas()
