"""A stored object read in ranges: small reads share one read-ahead, large ones fetch exactly
their bytes, and a short answer (the object changed) is an error, never wrong bytes."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle.datasets import open_parquet
from lifecycle.store.ranged import READ_AHEAD, RangedObject

DATA = bytes(range(256)) * (3 * READ_AHEAD // 256 + 7)


def _counted(data: bytes) -> tuple[RangedObject, list[tuple[int, int]]]:
    asked: list[tuple[int, int]] = []

    def read_range(offset: int, length: int) -> bytes:
        asked.append((offset, length))
        return data[offset : offset + length]

    return RangedObject("k", len(data), read_range), asked


def test_small_reads_share_one_read_ahead_and_large_reads_fetch_their_bytes():
    ranged, asked = _counted(DATA)
    file = ranged.open()
    assert file.read(10) == DATA[:10] and file.read(20) == DATA[10:30]
    assert asked == [(0, READ_AHEAD)]
    file.seek(READ_AHEAD + 5)
    assert file.read(2 * READ_AHEAD) == DATA[READ_AHEAD + 5 : 3 * READ_AHEAD + 5]
    assert asked[1:] == [(READ_AHEAD + 5, 2 * READ_AHEAD)]
    file.seek(-3, io.SEEK_END)
    assert file.read(100) == DATA[-3:] and file.read(1) == b""
    assert asked[2:] == [(len(DATA) - 3, 3)]  # never past the end


def test_an_object_that_shrank_while_read_is_an_error():
    ranged = RangedObject("k", 100, lambda offset, length: b"x" * (length - 1))
    with pytest.raises(OSError, match="object changed"):
        ranged.open().read(10)


def test_parquet_read_through_ranges_equals_the_file():
    buffer = io.BytesIO()
    table = pa.table({"a": list(range(50_000)), "b": [str(i % 7) for i in range(50_000)]})
    pq.write_table(table, buffer, row_group_size=10_000)
    ranged, _ = _counted(buffer.getvalue())
    assert open_parquet(ranged).read().equals(table)
    assert open_parquet(ranged).read(columns=["b"]).column(0).equals(table.column("b"))
