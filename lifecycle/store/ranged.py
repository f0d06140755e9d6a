"""An object read in byte ranges, as a seekable file: a reader of a large Parquet file in a
remote store fetches its footer and the column chunks it reads, never the whole object,
and no temporary copy is written to disk."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

# A read smaller than this (a Parquet footer's, a page header's) fetches this much from where
# it starts, kept for the reads that follow: one request instead of many tiny ones. A larger
# read (a column chunk) fetches exactly its bytes.
READ_AHEAD = 1 << 20


class RangedObject:
    """An object of ``size`` bytes whose ranges ``read_range(offset, length)`` returns.

    Each :meth:`open` is a file of its own (its own position and read-ahead), so readers in
    threads never move each other's position.
    """

    def __init__(self, label: str, size: int, read_range: Callable[[int, int], bytes]):
        self.label = label
        self.size = size
        self.read_range = read_range

    def open(self) -> BinaryIO:
        """A new seekable, read-only binary file over the object."""
        return _RangeFile(self.size, self.read_range)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"RangedObject({self.label!r}, {self.size} bytes)"


class _RangeFile(io.RawIOBase):
    def __init__(self, size: int, read_range: Callable[[int, int], bytes]):
        self._size = size
        self._read_range = read_range
        self._position = 0
        self._ahead = b""  # the bytes fetched ahead, from _ahead_at on
        self._ahead_at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        origin = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if origin + offset < 0:
            raise OSError(f"seek to {origin + offset}, before the object's start")
        self._position = origin + offset
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        start = self._position - self._ahead_at
        if start >= 0 and start + length <= len(self._ahead):
            buffer[:length] = self._ahead[start : start + length]
        elif length >= READ_AHEAD:
            buffer[:length] = self._fetch(self._position, length)
        else:
            self._ahead_at = self._position
            self._ahead = self._fetch(self._position, min(READ_AHEAD, self._size - self._position))
            buffer[:length] = self._ahead[:length]
        self._position += length
        return length

    def _fetch(self, offset: int, length: int) -> bytes:
        data = self._read_range(offset, length)
        if len(data) != length:
            raise OSError(
                f"asked for {length} bytes at {offset}, got {len(data)}: "
                "the object changed while it was read"
            )
        return data
