"""The reference profile: what the drift suite needs of the training data, computed once.

Each numeric column sorted once (NaN dropped), with its std and its quantile bins; each
categorical column's category counts. It is stored with the model version as an
uncompressed ``.npz`` written one column at a time, and read back lazily one column at a
time, so a monitoring run never reads, let alone sorts, the training data again.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from components.detect_drift.suite.columns import (
    ColumnSource,
    Kind,
    category_counts,
    infer_kind,
    numeric_values,
)
from components.detect_drift.suite.numeric import bin_shares, quantile_edges, sorted_finite

PROFILE_FORMAT = 1
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
    """A profiled column: its kind, its role (feature, target, prediction) and its rows."""

    name: str
    kind: Kind
    role: str
    rows: int
    std: float = 0.0


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

    def categorical(self, name: str) -> CategoricalReference:
        """The categories and counts of a categorical column."""
        index = list(self.columns).index(name)
        return CategoricalReference(
            [str(c) for c in self._arrays[f"c{index}_categories"].tolist()],
            self._arrays[f"c{index}_counts"],
        )


def _profile_entries(
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None,
    roles: Mapping[str, str] | None,
    psi_bins: int,
) -> Iterable[tuple[str, Any]]:
    """(array name, array) pairs, one column at a time, then the metadata."""
    names = list(kinds) if kinds else list(source.names)
    infos = []
    for index, name in enumerate(names):
        column = source.column(name)
        kind = (kinds or {}).get(name) or infer_kind(column)
        role = (roles or {}).get(name, "feature")
        if kind == "numeric":
            values = sorted_finite(numeric_values(column))
            del column
            edges = quantile_edges(values, psi_bins)
            std = float(np.std(values)) if values.size else 0.0
            infos.append(ColumnInfo(name, kind, role, int(values.size), std))
            yield f"c{index}_sorted", values
            yield f"c{index}_edges", edges
            yield f"c{index}_shares", bin_shares(values, edges)
        else:
            categories, counts = category_counts(column)
            infos.append(ColumnInfo(name, kind, role, int(counts.sum())))
            yield f"c{index}_categories", np.array(categories, dtype=str)
            yield f"c{index}_counts", counts
    meta = {
        "format": PROFILE_FORMAT,
        "psi_bins": psi_bins,
        "columns": [info.__dict__ for info in infos],
    }
    yield _META, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def write_profile(
    target: str | Path | IO[bytes],
    source: ColumnSource,
    kinds: Mapping[str, Kind] | None = None,
    roles: Mapping[str, str] | None = None,
    psi_bins: int = DEFAULT_PSI_BINS,
) -> None:
    """Profile ``source`` column by column into an ``.npz`` at ``target`` (path or binary file).

    Args:
        target: where to write.
        source: the reference table.
        kinds: the columns to profile and their kinds (default: every column, kind inferred).
        roles: each column's role, for the reports (default: feature).
        psi_bins: how many reference-quantile bins PSI uses.
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in _profile_entries(source, kinds, roles, psi_bins):
            with archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asarray(array), allow_pickle=False)


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


def read_profile(source: str | Path | bytes) -> ReferenceProfile:
    """Open a profile (path or bytes); column arrays are read only when asked for.

    Raises:
        ValueError: not a profile, or one of another format.
    """
    archive = np.load(
        io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False
    )
    if _META not in archive.files:
        raise ValueError("not a reference profile: no metadata")
    meta = json.loads(archive[_META].tobytes())
    if meta.get("format") != PROFILE_FORMAT:
        raise ValueError(
            f"reference profile format {meta.get('format')!r}, expected {PROFILE_FORMAT}"
        )
    return ReferenceProfile(
        [ColumnInfo(**c) for c in meta["columns"]], archive, int(meta["psi_bins"])
    )
