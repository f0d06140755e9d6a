"""The reference profile: what the drift suite needs of the training data, computed once.

Each numeric column sorted once (NaN dropped), with its std and its quantile bins; each
categorical column's category counts. It is stored with the model version as an
uncompressed ``.npz`` written one column at a time, and read back lazily one column at a
time, so a monitoring run never reads, let alone sorts, the training data again.
"""

from __future__ import annotations

import io
import json
import mmap
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from components.detect_drift.suite.columns import (
    ColumnSource,
    Kind,
    category_counts,
    float_values,
    infer_kind,
    numeric_values,
)
from components.detect_drift.suite.numeric import bin_shares, quantile_edges, sorted_finite

PROFILE_FORMAT = 1
_ALIGNMENT = 64
_ZIP64_EXTRA = 20  # the zip64 extra field zipfile adds to each local header (force_zip64)
_PADDING_EXTRA_ID = 0xA11C  # an unassigned zip extra-field id, for alignment padding
DEFAULT_PSI_BINS = 10
_META = "meta"


@dataclass(frozen=True)
class NumericReference:
    """A numeric column of the reference."""

    sorted: np.ndarray
    std: float
    edges: np.ndarray
    shares: np.ndarray


@dataclass(frozen=True)
class CategoricalReference:
    """A categorical column of the reference."""

    categories: list[str]
    counts: np.ndarray


@dataclass(frozen=True)
class ColumnInfo:
    """A profiled column: its kind, its role (feature, target, prediction), its rows, and
    (profiles of files, :mod:`.files`) what its values were: number, text, date, …"""

    name: str
    kind: Kind
    role: str
    rows: int
    std: float = 0.0
    value_class: str = ""


class ReferenceProfile:
    """A profile, its arrays loaded one column at a time on demand."""

    def __init__(self, columns: list[ColumnInfo], arrays: Mapping[str, np.ndarray], psi_bins: int):
        self.columns = {column.name: column for column in columns}
        self._arrays = arrays
        self.psi_bins = psi_bins

    def numeric(self, name: str, psi_bins: int | None = None) -> NumericReference:
        """The sorted values, std and quantile bins of a numeric column (bins rebuilt if
        ``psi_bins`` differs from the profile's)."""
        index = list(self.columns).index(name)
        values = self._arrays[f"c{index}_sorted"]
        if psi_bins is None or psi_bins == self.psi_bins:
            edges, shares = self._arrays[f"c{index}_edges"], self._arrays[f"c{index}_shares"]
        else:
            edges = quantile_edges(values, psi_bins)
            shares = bin_shares(values, edges)
        return NumericReference(values, self.columns[name].std, edges, shares)

    def release(self, name: str) -> None:
        """Let go of a column's arrays once tested (memory-mapped profiles only)."""
        release = getattr(self._arrays, "release", None)
        if release is not None:
            prefix = f"c{list(self.columns).index(name)}_"
            for key in [key for key in self._arrays if key.startswith(prefix)]:
                release(key)

    def categorical(self, name: str) -> CategoricalReference:
        """The categories and counts of a categorical column."""
        index = list(self.columns).index(name)
        return CategoricalReference(
            [str(c) for c in self._arrays[f"c{index}_categories"].tolist()],
            self._arrays[f"c{index}_counts"],
        )


# Values per block when a column's spread is summed: np.std would hold a column-sized temporary
# (and a small block's memory is reused from block to block, not fresh pages).
_STD_BLOCK = 1 << 16


def population_std(values: np.ndarray) -> float:
    """``np.std(values)`` (0 for no values), its squared deviations summed a block at a time
    so that a big column is not copied (numpy's pairwise sums, as np.std's: a BLAS dot
    product would wake threads that spin beside the suite's)."""
    if values.size == 0:
        return 0.0
    mean = float(np.mean(values))
    total = 0.0
    for start in range(0, values.size, _STD_BLOCK):
        deviations = values[start : start + _STD_BLOCK] - mean
        np.square(deviations, out=deviations)
        total += float(deviations.sum())
    return float(np.sqrt(total / values.size))


def _profile_column(
    source: ColumnSource,
    index: int,
    name: str,
    kind: Kind | None,
    role: str,
    psi_bins: int,
    value_class: str,
) -> tuple[ColumnInfo, list[tuple[str, np.ndarray]]]:
    """One column's profile: its info and its (array name, array) pairs."""
    column = None if kind == "numeric" else source.column(name)
    kind = kind or infer_kind(column)  # type: ignore[arg-type]
    if kind == "numeric":
        # The column in an array of its own, sorted in place: a big column is held once.
        values = (
            sorted_finite(float_values(source, name), name, "reference", in_place=True)
            if column is None
            else sorted_finite(numeric_values(column), name, "reference")
        )
        del column
        edges = quantile_edges(values, psi_bins)
        std = population_std(values)
        info = ColumnInfo(name, kind, role, int(values.size), std, value_class)
        shares = bin_shares(values, edges)
        return info, [
            (f"c{index}_sorted", values),
            (f"c{index}_edges", edges),
            (f"c{index}_shares", shares),
        ]
    categories, counts = category_counts(column)
    info = ColumnInfo(name, kind, role, int(counts.sum()), 0.0, value_class)
    return info, [
        (f"c{index}_categories", np.array(categories, dtype=str)),
        (f"c{index}_counts", counts),
    ]


def _meta_entry(infos: list[ColumnInfo], psi_bins: int) -> tuple[str, np.ndarray]:
    meta = {
        "format": PROFILE_FORMAT,
        "psi_bins": psi_bins,
        "columns": [info.__dict__ for info in infos],
    }
    return _META, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def _column_profiler(
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None,
    roles: Mapping[str, str] | None,
    psi_bins: int,
    classes: Mapping[str, str] | None,
) -> tuple[int, Callable[[int], tuple[ColumnInfo, list[tuple[str, np.ndarray]]]]]:
    """How many columns are profiled, and the function that profiles the one at an index."""
    names = list(kinds) if kinds else list(source.names)

    def profile(index: int) -> tuple[ColumnInfo, list[tuple[str, np.ndarray]]]:
        name = names[index]
        return _profile_column(
            source,
            index,
            name,
            (kinds or {}).get(name),
            (roles or {}).get(name, "feature"),
            psi_bins,
            (classes or {}).get(name, ""),
        )

    return len(names), profile


def _profile_entries(
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None,
    roles: Mapping[str, str] | None,
    psi_bins: int,
    classes: Mapping[str, str] | None = None,
) -> Iterable[tuple[str, Any]]:
    """(array name, array) pairs, one column at a time, then the metadata."""
    count, profile = _column_profiler(source, kinds, roles, psi_bins, classes)
    infos = []
    for index in range(count):
        info, entries = profile(index)
        infos.append(info)
        yield from entries
        del entries
    yield _meta_entry(infos, psi_bins)


def write_profile(
    target: str | Path | IO[bytes],
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None = None,
    roles: Mapping[str, str] | None = None,
    psi_bins: int = DEFAULT_PSI_BINS,
    classes: Mapping[str, str] | None = None,
) -> None:
    """Profile ``source`` column by column into an ``.npz`` at ``target`` (path or binary file).

    Args:
        target: where to write.
        source: the reference table.
        kinds: the columns to profile and their kinds (default: every column, kind inferred).
        roles: each column's role, for the reports (default: feature).
        psi_bins: how many reference-quantile bins PSI uses.
        classes: what each column's values are (number, text, date, …), kept to check
            another file against the profile.

    Raises:
        ValueError: a numeric column has an infinite value (the message names it).
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in _profile_entries(source, kinds, roles, psi_bins, classes):
            info = zipfile.ZipInfo(f"{key}.npy")
            # Pad the local header so the array data (after the .npy header, itself a
            # multiple of 64 bytes) starts 64-byte aligned: readers then view it in place.
            start = archive.fp.tell() + 30 + len(info.filename.encode()) + _ZIP64_EXTRA + 4
            padding = -start % _ALIGNMENT
            info.extra = struct.pack("<HH", _PADDING_EXTRA_ID, padding) + bytes(padding)
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asarray(array), allow_pickle=False)


def build_profile(
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None = None,
    roles: Mapping[str, str] | None = None,
    psi_bins: int = DEFAULT_PSI_BINS,
    classes: Mapping[str, str] | None = None,
    workers: int = 1,
) -> ReferenceProfile:
    """The profile of ``source`` in memory, never serialised (for a one-off comparison of
    two files; :func:`write_profile` stores one); ``workers`` columns at once, in threads.

    Raises:
        ValueError: a numeric column has an infinite value (the message names it).
    """
    count, profile = _column_profiler(source, kinds, roles, psi_bins, classes)
    if workers > 1 and count > 1:
        # numpy sorts without the GIL: columns in parallel threads.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            columns = list(pool.map(profile, range(count)))
    else:
        columns = [profile(index) for index in range(count)]
    arrays = {key: array for _, entries in columns for key, array in entries}
    return ReferenceProfile([info for info, _ in columns], arrays, psi_bins)


def profile_bytes(
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None = None,
    roles: Mapping[str, str] | None = None,
    psi_bins: int = DEFAULT_PSI_BINS,
) -> bytes:
    """:func:`write_profile` into bytes (for the store)."""
    buffer = io.BytesIO()
    write_profile(buffer, source, kinds, roles, psi_bins)
    return buffer.getvalue()


class _StoredArrays(Mapping[str, np.ndarray]):
    """The arrays of an uncompressed ``.npz``, as read-only views: no copy, no CRC pass.

    A file is memory-mapped, bytes are viewed in place; each member's ``.npy`` header is
    parsed and the array is a view at its data offset, so opening a profile costs nothing
    and a column costs only the pages it touches.
    """

    def __init__(self, source: str | Path | bytes):
        if isinstance(source, bytes):
            self._buffer: Any = memoryview(source)
            handle: Any = io.BytesIO(source)
        else:
            with open(source, "rb") as file:
                self._buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            handle = source  # the zip directory is read from the file: the map stays untouched
        self._offsets: dict[str, int] = {}
        self._sizes: dict[str, int] = {}
        with zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                    raise ValueError(f"not an uncompressed profile member: {info.filename}")
                header = bytes(self._buffer[info.header_offset : info.header_offset + 30])
                name_length, extra_length = struct.unpack("<HH", header[26:30])
                start = info.header_offset + 30 + name_length + extra_length
                self._offsets[info.filename[: -len(".npy")]] = start
                self._sizes[info.filename[: -len(".npy")]] = info.file_size

    def __getitem__(self, key: str) -> np.ndarray:
        start = self._offsets[key]
        stream = io.BytesIO(bytes(self._buffer[start : start + 4096]))
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(stream)
        count = int(np.prod(shape)) if shape else 1
        offset = start + stream.tell()
        array = np.frombuffer(self._buffer, dtype=dtype, count=count, offset=offset)
        if offset % max(dtype.alignment, 1):
            array = array.copy()  # written elsewhere, unaligned: numpy would copy at each use
        return array.reshape(shape, order="F" if fortran else "C")

    def release(self, key: str) -> None:
        """Drop a mapped member's pages from this process's memory (they stay in the page
        cache, and come back if read again), so a run holds one column at a time."""
        if not isinstance(self._buffer, mmap.mmap) or key not in self._offsets:
            return
        start = self._offsets[key] // mmap.PAGESIZE * mmap.PAGESIZE
        stop = self._offsets[key] + self._sizes[key]
        if stop > start:
            self._buffer.madvise(mmap.MADV_DONTNEED, start, stop - start)

    def __iter__(self) -> Iterator[str]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)


def read_profile(source: str | Path | bytes) -> ReferenceProfile:
    """Open a profile (path or bytes); column arrays are read only when asked for.

    Raises:
        ValueError: not a profile, or one of another format.
    """
    try:
        archive = _StoredArrays(source)
    except zipfile.BadZipFile:
        raise ValueError("not a reference profile: not an .npz archive") from None
    if _META not in archive:
        raise ValueError("not a reference profile: no metadata")
    meta = json.loads(archive[_META].tobytes())
    if meta.get("format") != PROFILE_FORMAT:
        raise ValueError(
            f"reference profile format {meta.get('format')!r}, expected {PROFILE_FORMAT}"
        )
    return ReferenceProfile(
        [ColumnInfo(**c) for c in meta["columns"]], archive, int(meta["psi_bins"])
    )
