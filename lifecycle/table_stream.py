"""Reading a CSV or Parquet file in record batches, in bounded memory, with errors naming the file.

A batch holds at most a few MB of the file, whatever its size: CSV through pyarrow's
streaming reader (:func:`pyarrow.csv.open_csv`), Parquet through
:meth:`pyarrow.parquet.ParquetFile.iter_batches`. CSV columns are read as text (the caller
decides what the text must be); Parquet columns keep their stored types.

The CSV dialect is the one the project always read: UTF-8 (a BOM is accepted), comma
separated, a header row, spaces after a comma ignored, pandas' missing-value markers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lifecycle.errors import InvalidInputError
from lifecycle.tables import file_holds_parquet

# pandas.read_csv's default missing-value markers: the same text is missing as before.
CSV_NULL_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
# Bytes of CSV per batch: large enough for pyarrow's threads, small against the memory bound.
CSV_BLOCK_SIZE = 4 << 20
PARQUET_BATCH_ROWS = 1 << 16
# A header longer than this is not a header (a binary file, or a file without newlines).
MAX_HEADER_BYTES = 1 << 20
_UTF8_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableFile:
    """An opened CSV or Parquet file: its column names and, for Parquet, their types and rows.

    Attributes:
        path: the file.
        source: how the user named it (a path or a store key), for messages.
        names: the columns, in file order.
        types: each column's stored type (Parquet), or None (CSV: text to interpret).
        rows: the row count when the file states it (Parquet), else None.
    """

    path: Path
    source: str
    names: tuple[str, ...]
    types: dict[str, pa.DataType] | None
    rows: int | None

    @property
    def is_csv(self) -> bool:
        return self.types is None

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The file's ``columns`` (a subset of :attr:`names`) in record batches.

        Raises:
            InvalidInputError: malformed content (a CSV row with the wrong number of fields,
                bytes that are not UTF-8, a damaged Parquet page), naming the file.
        """
        if self.is_csv:
            return self._csv_batches(columns)
        return self._parquet_batches(columns)

    def _csv_batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        read = pacsv.ReadOptions(
            column_names=list(self.names), skip_rows=1, block_size=CSV_BLOCK_SIZE
        )
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            include_columns=columns,
            null_values=list(CSV_NULL_VALUES),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=read,
                parse_options=pacsv.ParseOptions(delimiter=","),
                convert_options=convert,
            )
            yield from reader
        except pa.ArrowInvalid as exc:
            raise self._csv_error(exc) from None

    def _csv_error(self, exc: pa.ArrowInvalid) -> InvalidInputError:
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            offset = first_invalid_utf8(self.path)
            if offset is not None:
                return not_utf8_error(self.source, offset, self.path)
        if "parse error" in message.lower():
            return InvalidInputError(f"{self.source}: malformed CSV: {_first_line(message)}")
        return InvalidInputError(f"{self.source}: unreadable CSV: {_first_line(message)}")

    def _parquet_batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            # pre_buffer off: its cache would keep every row group read until the end.
            handle = pq.ParquetFile(self.path, pre_buffer=False)
            yield from handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(
                f"{self.source}: not a readable Parquet file: {_first_line(str(exc))}"
            ) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def not_utf8_error(source: str, offset: int, path: Path) -> InvalidInputError:
    with open(path, "rb") as handle:
        handle.seek(offset)
        byte = handle.read(1)
    return InvalidInputError(f"{source}: not UTF-8 text (byte {offset}: {byte!r})")


def first_invalid_utf8(path: Path) -> int | None:
    """The offset of the first byte of ``path`` that is not valid UTF-8, or None; one pass
    in 1 MB chunks (a character cut by a chunk boundary is carried to the next chunk)."""
    offset = 0
    carry = b""
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_UTF8_CHUNK)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                truncated = exc.reason == "unexpected end of data" and len(data) - exc.start < 4
                if not (truncated and chunk):
                    return offset + exc.start
                carry = data[exc.start :]
                offset += exc.start
                continue
            offset += len(data)
            if not chunk:
                return None


def _csv_header(path: Path, source: str) -> tuple[str, ...]:
    with open(path, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES + 1)
    if not head:
        raise InvalidInputError(f"{source}: the file is empty (0 bytes)")
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) > MAX_HEADER_BYTES:
        raise InvalidInputError(
            f"{source}: no header row within the first {MAX_HEADER_BYTES} bytes"
        )
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        bom = 3 if line.startswith(b"\xef\xbb\xbf") else 0
        raise not_utf8_error(source, exc.start + bom, path) from None
    if not text.strip():
        raise InvalidInputError(f"{source}: no header row (the first line is empty)")
    names = next(csv.reader([text], skipinitialspace=True))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInputError(f"{source}: duplicate column name {name!r} in the header")
        seen.add(name)
    return tuple(names)


def _parquet_schema(path: Path, source: str) -> tuple[tuple[str, ...], dict[str, pa.DataType], int]:
    if path.stat().st_size == 0:
        raise InvalidInputError(f"{source}: the file is empty (0 bytes)")
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(
            f"{source}: not a readable Parquet file: {_first_line(str(exc))}"
        ) from None
    schema = handle.schema_arrow
    # A pandas index written as a column is the frame's index, not data (as pandas reads it).
    pandas = schema.pandas_metadata or {}
    index = {name for name in pandas.get("index_columns", []) if isinstance(name, str)}
    names = [name for name in schema.names if name not in index]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInputError(f"{source}: duplicate column name {name!r}")
        seen.add(name)
    types = {name: schema.field(name).type for name in names}
    return tuple(names), types, handle.metadata.num_rows


def open_table_file(path: str | Path, source: str | None = None) -> TableFile:
    """Open a CSV or Parquet file (by ``path``'s suffix, else its content: a KFP artifact's file
    has no suffix) and read its header or schema.

    Args:
        path: the file on disk.
        source: how to name it in messages (default: ``path``).

    Raises:
        InvalidInputError: missing, unreadable, empty, no header, duplicate column names,
            not UTF-8 in the header, or not a Parquet file, naming ``source``.
    """
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise InvalidInputError(f"{source}: no such file")
    try:
        if file_holds_parquet(path):
            names, types, rows = _parquet_schema(path, source)
            return TableFile(path, source, names, types, rows)
        return TableFile(path, source, _csv_header(path, source), None, None)
    except PermissionError as exc:
        raise InvalidInputError(f"{source}: cannot read: {exc.strerror}") from None
