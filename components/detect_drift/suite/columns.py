"""Column-at-a-time access to a table, so that peak memory is one column, not the table.

A :class:`ColumnSource` hands out one column as a pyarrow ``ChunkedArray``; Parquet
sources read just that column from the file (string columns straight into dictionary
arrays, so category counts never build Python strings per row).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

if TYPE_CHECKING:  # the suite imports nothing of the store at run time
    from lifecycle.store.ranged import RangedObject

Kind = Literal["numeric", "categorical"]
NULL_CATEGORY = "null"
# Row groups decoded at once when a numeric column is copied out of a Parquet file: pyarrow's
# threads keep decoding in parallel, and the memory beyond the column is a few groups.
ROW_GROUPS_AT_ONCE = 8


class ColumnSource(Protocol):
    """A table whose columns are read one at a time."""

    @property
    def names(self) -> list[str]: ...

    def column(self, name: str) -> pa.ChunkedArray: ...


class ParquetColumns:
    """A Parquet file (a path, bytes, or a stored object read in ranges): each column read on
    its own; strings as dictionaries."""

    def __init__(self, source: str | Path | bytes | RangedObject):
        def handle():
            if isinstance(source, bytes):
                return pa.BufferReader(source)
            if isinstance(source, str | Path):
                return str(source)
            return source.open()  # a file of its own: nothing shares its position

        schema = pq.ParquetFile(handle()).schema_arrow
        strings = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        # pre_buffer off: its cache would keep every row group read until the file is closed.
        self._file = pq.ParquetFile(handle(), read_dictionary=strings or None, pre_buffer=False)
        self._lock = threading.Lock()  # one reader: callers in threads take turns
        self.schema = schema
        self.names = list(schema.names)
        self.num_rows = self._file.metadata.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        if name not in self.names:
            raise KeyError(name)
        with self._lock:
            return self._file.read(columns=[name]).column(0)

    def float_values(self, name: str) -> np.ndarray:
        """A numeric column as a float64 array of its own (nulls NaN), filled a few row groups
        at a time: memory holds the array and those groups, never the column twice."""
        values = np.empty(self.num_rows, dtype=np.float64)
        return values[: self.fill_float_values(name, values)]

    def fill_float_values(self, name: str, values: np.ndarray) -> int:
        """Write a numeric column into ``values`` (at least :attr:`num_rows` long), a few row
        groups at a time; returns how many rows it wrote."""
        if name not in self.names:
            raise KeyError(name)
        done = 0
        with self._lock:
            groups = list(range(self._file.num_row_groups))
            for start in range(0, len(groups), ROW_GROUPS_AT_ONCE):
                part = self._file.read_row_groups(
                    groups[start : start + ROW_GROUPS_AT_ONCE], columns=[name]
                ).column(0)
                done += fill_numeric_values(part, values[done:])
        return done


class ParquetFilesColumns:
    """Several Parquet files with the same columns as one table, in order (a training set
    made of several datasets): each column read file after file, never the table."""

    def __init__(self, files: list[Path | RangedObject]):
        if not files:
            raise ValueError("no Parquet file to read")
        self._files = [ParquetColumns(file) for file in files]
        self.names = list(self._files[0].names)
        self.num_rows = sum(file.num_rows for file in self._files)

    def column(self, name: str) -> pa.ChunkedArray:
        chunks = [chunk for file in self._files for chunk in file.column(name).chunks]
        types = {chunk.type for chunk in chunks}
        if len(types) > 1:  # e.g. dictionaries of different files, or int beside float: text
            chunks = [
                pc.cast(c.dictionary_decode() if pa.types.is_dictionary(c.type) else c, pa.string())
                for c in chunks
            ]
        return pa.chunked_array(chunks, type=None if chunks else pa.float64())

    def float_values(self, name: str) -> np.ndarray:
        """A numeric column of every file, in order, in one float64 array of its own."""
        values = np.empty(self.num_rows, dtype=np.float64)
        done = 0
        for file in self._files:
            done += file.fill_float_values(name, values[done:])
        return values[:done]


class TableColumns:
    """An in-memory pyarrow table."""

    def __init__(self, table: pa.Table):
        self._table = table
        self.names = list(table.column_names)

    def column(self, name: str) -> pa.ChunkedArray:
        return self._table.column(name)


class FrameColumns:
    """A pandas DataFrame, each column converted to arrow only when asked for."""

    def __init__(self, frame, extra: Mapping[str, np.ndarray] | None = None):
        self._frame = frame
        self._extra = dict(extra or {})
        self.names = [str(c) for c in frame.columns] + list(self._extra)

    def column(self, name: str) -> pa.ChunkedArray:
        if name in self._extra:
            return pa.chunked_array([pa.array(self._extra[name])])
        return pa.chunked_array([pa.Array.from_pandas(self._frame[name])])


class WithColumns:
    """Another source plus extra in-memory columns (e.g. a model's predictions)."""

    def __init__(
        self, source: ColumnSource, extra: Mapping[str, Callable[[], np.ndarray] | np.ndarray]
    ):
        self._source = source
        self._extra = dict(extra)
        self.names = list(source.names) + [name for name in self._extra if name not in source.names]

    def column(self, name: str) -> pa.ChunkedArray:
        if name in self._extra:
            value = self._extra[name]
            return pa.chunked_array([pa.array(value() if callable(value) else value)])
        return self._source.column(name)

    def float_values(self, name: str) -> np.ndarray:
        """A numeric column as a float64 array of its own (see :func:`float_values`)."""
        if name in self._extra:
            value = self._extra[name]
            if callable(value):  # computed afresh: the array is this caller's
                return np.asarray(value(), dtype=np.float64)
            return np.array(value, dtype=np.float64)
        return float_values(self._source, name)


def open_columns(path: str | Path) -> ColumnSource:
    """A CSV or Parquet file as a column source (CSV parsed whole by pyarrow; Parquet by column)."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return ParquetColumns(path)
    return TableColumns(pacsv.read_csv(path))


def infer_kind(column: pa.ChunkedArray) -> Kind:
    """Numbers (not booleans) are numeric; anything else is categorical."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numeric"
    return "categorical"


def primitive_numpy(array: pa.Array) -> np.ndarray:
    """A fixed-width array without nulls as a numpy view of its data buffer.

    ``pyarrow.Array.to_numpy`` imports pandas (half a second) on its first call; this
    needs only numpy.
    """
    if array.null_count:
        raise ValueError("primitive_numpy needs an array without nulls")
    dtype = np.dtype(array.type.to_pandas_dtype())
    data = array.buffers()[1]
    if data is None:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def numeric_values(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64 (nulls become NaN), zero-copy when it already is one."""
    return float64_values(column.chunk(0) if column.num_chunks == 1 else column.combine_chunks())


def float64_values(array: pa.Array) -> np.ndarray:
    """A numeric array as float64 (nulls become NaN), zero-copy when it already is one."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_float64(array.type):
        array = pc.cast(array, pa.float64())
    if array.null_count:
        array = pc.fill_null(array, np.nan)
    return primitive_numpy(array)


def fill_numeric_values(column: pa.ChunkedArray, values: np.ndarray) -> int:
    """Write a numeric column into ``values`` as float64 (nulls NaN), chunk by chunk, so that
    it is copied once, never first combined; returns how many rows it wrote."""
    done = 0
    for chunk in column.chunks:
        values[done : done + len(chunk)] = float64_values(chunk)
        done += len(chunk)
    return done


def float_values(source: ColumnSource, name: str) -> np.ndarray:
    """A numeric column as a float64 array of the caller's own (writable, nulls NaN), which it
    may sort in place: a source that can fill one without holding the column twice does
    (:meth:`ParquetColumns.float_values`); others are copied out of their column, once.
    """
    own = getattr(source, "float_values", None)
    if own is not None:
        return own(name)
    return copied_float_values(source.column(name))


def copied_float_values(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric column copied, once, into a float64 array of its own (nulls NaN)."""
    values = np.empty(len(column), dtype=np.float64)
    fill_numeric_values(column, values)
    return values


def _chunk_counts(chunk: pa.Array | pa.ChunkedArray) -> Iterator[tuple[str, int]]:
    if pa.types.is_dictionary(chunk.type):
        codes = chunk.indices
        valid = primitive_numpy(codes.drop_null())
        counts = np.bincount(valid, minlength=len(chunk.dictionary))
        names = pc.cast(chunk.dictionary, pa.string()).to_pylist()
        yield from (
            (name, int(count)) for name, count in zip(names, counts.tolist(), strict=True) if count
        )
        if chunk.null_count:
            yield NULL_CATEGORY, chunk.null_count
        return
    counted = pc.value_counts(chunk)
    values = counted.field("values")
    names = (
        pc.cast(values, pa.string()).to_pylist()
        if not pa.types.is_null(values.type)
        else [None] * len(values)
    )
    for name, count in zip(names, counted.field("counts").to_pylist(), strict=True):
        yield (NULL_CATEGORY if name is None else name), int(count)


def category_counts(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Each category (as text; nulls as ``"null"``) and how often it occurs, sorted by name."""
    totals: dict[str, int] = {}
    # Plain values are counted in one call over every chunk (a CSV column has hundreds).
    chunks = column.chunks if pa.types.is_dictionary(column.type) else [column]
    for chunk in chunks:
        for name, count in _chunk_counts(chunk):
            totals[name] = totals.get(name, 0) + count
    names = sorted(totals)
    return names, np.array([totals[name] for name in names], dtype=np.int64)
