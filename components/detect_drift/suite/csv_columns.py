"""A CSV file streamed into columns for the drift suite: numbers straight into a float64
block (each column contiguous in it), other columns kept as pyarrow chunks, the file cut
at newlines into ranges read side by side.

Streamed, each record batch's buffers are reused for the next one, so only the columns
themselves take fresh memory: holding the whole parsed table (``read_csv``) faults in
twice the memory and costs about a third more CPU time on the benchmark's files. pyarrow's
streaming reader parses on one thread, hence the ranges, one per worker; a row ends at a
newline (pyarrow's default: no newline inside a quoted value), so a cut just after one
always falls between two rows.

Types are those pyarrow infers from the file's first block, fixed for the whole file
(integers widened to float64): a later value that does not fit raises ``ArrowInvalid``
("conversion error"), for the caller to read the file again with inference.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# Bytes of CSV whose types stand for the whole file's, and the streaming block: small
# blocks keep the reused buffers in the CPU caches.
CSV_SAMPLE_BYTES = 1 << 20
CSV_BLOCK_SIZE = 1 << 20
# Bytes of the mapped file a reader holds at once (see _batches).
MAPPED_BYTES = 64 << 20
# Headroom over the estimated rows of a range (untouched capacity is never paged in).
_CAPACITY_MARGIN = 1.25
# The header: the first line that is not empty (pyarrow skips empty lines before it), with
# its line ending (\n, \r\n or \r, as pyarrow reads them).
_HEADER_LINE = re.compile(rb"(?:\r\n|\n|\r)*[^\r\n]*(?:\r\n|\n|\r)?")


def reading_pool() -> pa.MemoryPool:
    """jemalloc where this pyarrow has it: with the default (mimalloc) every parsed block
    lands in fresh pages the kernel must zero."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.default_memory_pool()


@dataclass(frozen=True)
class CsvLayout:
    """What a CSV file holds, from its header and first block.

    Attributes:
        names: the columns, in file order.
        types: each column's type for the whole file.
        data_start: the offset of the first data row.
        bytes_per_row: the first block's bytes per row, to size the columns.
    """

    names: list[str]
    types: dict[str, pa.DataType]
    data_start: int
    bytes_per_row: float


def _fixed_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pa.float64()
    if pa.types.is_large_string(kind):
        return pa.string()
    return kind


def csv_layout(mapped: mmap.mmap) -> CsvLayout:
    """The columns, their types and where the rows start in a memory-mapped CSV file."""
    reader = pacsv.open_csv(
        pa.BufferReader(pa.py_buffer(mapped)),
        read_options=pacsv.ReadOptions(block_size=CSV_SAMPLE_BYTES, use_threads=False),
        memory_pool=reading_pool(),
    )
    try:
        rows = reader.read_next_batch().num_rows
    except StopIteration:
        rows = 0
    data_start = _HEADER_LINE.match(mapped).end()  # type: ignore[union-attr]
    sampled = min(len(mapped), CSV_SAMPLE_BYTES) - data_start
    return CsvLayout(
        names=list(reader.schema.names),
        types={field.name: _fixed_type(field.type) for field in reader.schema},
        data_start=data_start,
        bytes_per_row=max(sampled, 1) / max(rows, 1),
    )


def row_ranges(
    mapped: mmap.mmap, start: int, parts: int, end: int | None = None
) -> list[tuple[int, int]]:
    """``[begin, end)`` byte ranges of whole rows between ``start`` and ``end`` (the end of
    the file by default), about equal, ``parts`` at most."""
    size = len(mapped) if end is None else end
    bounds = [start]
    for part in range(1, parts):
        newline = mapped.find(b"\n", start + (size - start) * part // parts, size)
        cut = size if newline < 0 else newline + 1
        if bounds[-1] < cut < size:
            bounds.append(cut)
    bounds.append(size)
    return [(begin, end) for begin, end in zip(bounds, bounds[1:], strict=False) if end > begin]


class _FloatsBuilder:
    """A range's float64 columns filled batch by batch (nulls as NaN) into one column-major
    block, each column contiguous in it, grown when the estimate falls short. A batch is
    copied in by one call (pyarrow's ``to_tensor``) rather than one per column: the Python
    work per batch, which holds the GIL the other reading thread also needs, stays small."""

    def __init__(self, indices: list[int], capacity: int):
        self._indices = indices
        self._values = self._block(max(capacity, 1))
        self._size = 0

    def _block(self, rows: int) -> np.ndarray:
        return np.empty((rows, len(self._indices)), dtype=np.float64, order="F")

    def append(self, batch: pa.RecordBatch) -> None:
        end = self._size + batch.num_rows
        if end > self._values.shape[0]:
            grown = self._block(max(end, 2 * self._values.shape[0]))
            grown[: self._size] = self._values[: self._size]
            self._values = grown
        numbers = batch.select(self._indices).to_tensor(null_to_nan=True, row_major=False)
        self._values[self._size : end] = np.asarray(numbers)
        self._size = end

    def finish(self) -> list[np.ndarray]:
        """Each column, a contiguous view of the block."""
        return [self._values[: self._size, i] for i in range(len(self._indices))]


@dataclass
class _RangeColumns:
    numbers: dict[str, np.ndarray]
    others: list[pa.RecordBatch]  # the other columns, batch by batch


def _batches(
    mapped: mmap.mmap, layout: CsvLayout, begin: int, end: int
) -> Iterator[pa.RecordBatch]:
    """The rows of ``[begin, end)`` in record batches, a stretch of the mapping at a time,
    each stretch let go of once read: the file's pages never count in the process's
    memory beyond the stretch being read (they stay in the page cache)."""
    pages = mmap.PAGESIZE
    for start, stop in row_ranges(mapped, begin, -(-(end - begin) // MAPPED_BYTES), end):
        yield from pacsv.open_csv(
            pa.BufferReader(pa.py_buffer(mapped)[start:stop]),
            read_options=pacsv.ReadOptions(
                block_size=CSV_BLOCK_SIZE, column_names=layout.names, use_threads=False
            ),
            convert_options=pacsv.ConvertOptions(column_types=layout.types),
            memory_pool=reading_pool(),
        )
        first_page = start // pages * pages
        mapped.madvise(mmap.MADV_DONTNEED, first_page, stop - first_page)


def _read_range(mapped: mmap.mmap, layout: CsvLayout, begin: int, end: int) -> _RangeColumns:
    capacity = int((end - begin) / layout.bytes_per_row * _CAPACITY_MARGIN) + 1024
    numbers = [name for name in layout.names if pa.types.is_float64(layout.types[name])]
    others = [name for name in layout.names if name not in numbers]
    builder = _FloatsBuilder([layout.names.index(name) for name in numbers], capacity)
    kept: list[pa.RecordBatch] = []
    for batch in _batches(mapped, layout, begin, end):
        if numbers:
            builder.append(batch)
        if others:
            kept.append(batch.select(others))
    columns = builder.finish() if numbers else []
    return _RangeColumns(dict(zip(numbers, columns, strict=True)), kept)


class CsvColumns:
    """A CSV file read once, streamed: numeric columns as float64 arrays (one per range),
    the others as pyarrow chunks.

    With ``hand_over``, :meth:`float_values` gives the caller the column itself and lets go
    of it (a column is then never held twice, nor copied): for a caller that reads each
    column once, as the suite does.
    """

    def __init__(self, layout: CsvLayout, ranges: list[_RangeColumns], hand_over: bool = False):
        self._hand_over = hand_over
        self._handed_over: set[str] = set()
        self.names = list(layout.names)
        self.types = dict(layout.types)
        self._numbers = {
            name: [part.numbers[name] for part in ranges]
            for name, kind in layout.types.items()
            if pa.types.is_float64(kind)
        }
        others = pa.schema([(n, k) for n, k in layout.types.items() if n not in self._numbers])
        kept = pa.Table.from_batches([b for part in ranges for b in part.others], others)
        self._others = {name: kept.column(name) for name in others.names}

    def column(self, name: str) -> pa.ChunkedArray:
        if name in self._numbers:  # NaN only ever stood for a missing value
            parts = [pa.array(part, from_pandas=True) for part in self._numbers_of(name)]
            return pa.chunked_array(parts, type=pa.float64())
        return self._others[name]

    def float_values(self, name: str) -> np.ndarray:
        """A numeric column as a float64 array of the caller's own (nulls NaN)."""
        parts = self._numbers_of(name)
        if self._hand_over:
            self._handed_over.add(name)
            del self._numbers[name]
            if len(parts) == 1:
                return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)

    def _numbers_of(self, name: str) -> list[np.ndarray]:
        if name in self._handed_over:
            raise RuntimeError(f"column {name!r} was handed over already")
        if name not in self._numbers:
            raise KeyError(name)
        return self._numbers[name]


def read_csv_columns(path: str | Path, parts: int = 1, hand_over: bool = False) -> CsvColumns:
    """Stream a CSV file into columns, in ``parts`` ranges read by as many threads
    (``hand_over``: see :class:`CsvColumns`).

    Raises:
        pyarrow.ArrowInvalid: a malformed file, or a value that does not fit its column's
            type (the message says "conversion error").
        OSError: the file cannot be read.
    """
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise pa.ArrowInvalid("Empty CSV file")
        # The mapping lives on in the buffers pyarrow reads from; closed when they are gone.
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    layout = csv_layout(mapped)
    ranges = row_ranges(mapped, layout.data_start, parts)
    if len(ranges) <= 1:
        read = [_read_range(mapped, layout, *bounds) for bounds in ranges]
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
            read = list(pool.map(lambda bounds: _read_range(mapped, layout, *bounds), ranges))
    return CsvColumns(layout, read, hand_over)
