"""The drift suite on two files (``lifecycle data-drift``): each file read once, the two
checked against each other, the reference profiled in memory (or a stored profile read).

Column kinds come from the stored types: numbers are numeric; text, dictionaries and
booleans categorical; dates, times and durations are compared as times (numeric, in
microseconds since the epoch, or days for dates), never as categories. A column of a
type the suite cannot compare, or with no value at all, is refused naming it.

CSV is streamed (:mod:`components.detect_drift.suite.csv_columns`) with types inferred from
a first block of the file and then fixed for the whole read (inference at every block
costs about as much as the parsing); a file whose later rows do not fit its first block's
types is read again with inference over every block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from components.detect_drift.suite.columns import (
    ColumnSource,
    Kind,
    ParquetColumns,
    TableColumns,
    copied_float_values,
)
from components.detect_drift.suite.csv_columns import read_csv_columns, reading_pool
from components.detect_drift.suite.profile import (
    ReferenceProfile,
    build_profile,
    read_profile,
    write_profile,
)
from components.detect_drift.suite.run import SuiteResult, SuiteSettings, run_suite

PARQUET_SUFFIXES = (".parquet", ".pq")


class InputError(ValueError):
    """The two inputs cannot be compared as given (the message names the file and column)."""


def value_class(kind: pa.DataType) -> str:
    """What a column holds, for comparing two files: ``number``, ``text``, ``date``,
    ``datetime``, ``datetime (timezone-aware)``, ``time of day``, ``duration``, ``empty`` (no
    value: pyarrow's null type) or the type itself (not comparable)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        return "text"
    if pa.types.is_timestamp(kind):
        return "datetime (timezone-aware)" if kind.tz else "datetime"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_time(kind):
        return "time of day"
    if pa.types.is_duration(kind):
        return "duration"
    if pa.types.is_null(kind):
        return "empty"
    return str(kind)


TIME_CLASSES = ("date", "datetime", "datetime (timezone-aware)", "time of day", "duration")
COMPARABLE = ("number", "text", *TIME_CLASSES)


def kind_of(value: str) -> Kind:
    """The suite's kind for a comparable value class."""
    return "categorical" if value == "text" else "numeric"


def _as_numbers(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates, times and durations as float64: microseconds (days for dates) since the epoch,
    or since midnight; an instant's timezone is already UTC in its integer value."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        column = pc.cast(column, pa.timestamp("us", kind.tz))
    elif pa.types.is_duration(kind):
        column = pc.cast(column, pa.duration("us"))
    elif pa.types.is_time(kind):
        column = pc.cast(column, pa.time64("us"))
    integers = pa.int32() if pa.types.is_date32(kind) else pa.int64()
    if pa.types.is_date64(kind):
        column = pc.cast(column, pa.date32())
        integers = pa.int32()
    return pc.cast(pc.cast(column, integers), pa.float64())


class CheckedColumns:
    """A file's columns as the suite reads them: times as numbers, and a column with no value
    at all refused naming it and the file."""

    def __init__(self, source: ColumnSource, classes: dict[str, str], label: str):
        self._source = source
        self._classes = classes
        self.label = label
        self.names = list(source.names)

    def column(self, name: str) -> pa.ChunkedArray:
        column = self._source.column(name)
        if len(column) == column.null_count:
            raise self._no_values(name)
        if self._classes[name] in TIME_CLASSES:
            column = _as_numbers(column)
        return column

    def float_values(self, name: str) -> np.ndarray:
        """A numeric column as a float64 array of the caller's own, filled by the source
        when it can (never holding the column twice), else copied out of :meth:`column`."""
        own = getattr(self._source, "float_values", None)
        if own is None or self._classes[name] != "number":
            return copied_float_values(self.column(name))
        values = own(name)
        if values.size == 0 or (np.isnan(values[0]) and np.isnan(values).all()):
            raise self._no_values(name)
        return values

    def _no_values(self, name: str) -> InputError:
        return InputError(f"column {name!r} of {self.label} has no values (all missing)")


@dataclass(frozen=True)
class DataFile:
    """One input file: its columns (read once each) and what each holds."""

    path: Path
    columns: CheckedColumns
    classes: dict[str, str]

    @property
    def kinds(self) -> dict[str, Kind]:
        return {name: kind_of(value) for name, value in self.classes.items()}


def _read_csv_inferring(path: Path) -> pa.Table:
    """The whole file with pyarrow's inference over every block (a column's later rows do
    not fit the type of its first block)."""
    with pa.memory_map(str(path)) as source:
        return pacsv.read_csv(source, memory_pool=reading_pool())


def _csv_source(path: Path, parts: int, single_use: bool) -> tuple[ColumnSource, pa.Schema]:
    try:
        columns = read_csv_columns(path, parts, hand_over=single_use)
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc).lower():
            raise
        table = _read_csv_inferring(path)
        return TableColumns(table), table.schema
    return columns, pa.schema(list(columns.types.items()))


def open_data_file(path: str | Path, parts: int = 1, single_use: bool = False) -> DataFile:
    """Open a CSV or Parquet file for the suite (CSV streamed once, in ``parts`` ranges
    read side by side; Parquet column by column) and classify its columns. ``single_use``:
    each column is read once (a CSV file's numeric column is then handed over, not copied).

    Raises:
        InputError: no such file, an unreadable or malformed file, a duplicate or
            incomparable column, naming the file (and the column).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    source: ColumnSource
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            parquet = ParquetColumns(path)
            source, schema = parquet, parquet.schema
        else:
            source, schema = _csv_source(path, parts, single_use)
        types = {field.name: field.type for field in schema}
        names = list(schema.names)
    except (pa.ArrowInvalid, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable CSV or Parquet file: {first}") from None
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"{path}: duplicate column name {duplicates[0]!r}")
    classes = {name: value_class(kind) for name, kind in types.items()}
    for name, value in classes.items():
        if value == "empty":
            raise InputError(f"column {name!r} of {path} has no values (all missing)")
        if value not in COMPARABLE:
            raise InputError(f"column {name!r} of {path}: type {value} cannot be compared")
    return DataFile(path, CheckedColumns(source, classes, str(path)), classes)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


def shared_columns(
    reference: dict[str, str],
    reference_label: str,
    current: dict[str, str],
    current_label: str,
    shared_only: bool,
) -> list[str]:
    """The columns to compare (the reference's order), after checking that the two inputs
    have the same columns (or, with ``shared_only``, at least one in common) holding the
    same kind of values.

    Args:
        reference: each reference column's value class (:func:`value_class`).
        reference_label: the reference file (or profile), for messages.
        current: each current column's value class.
        current_label: the current file, for messages.
        shared_only: compare the shared columns when the two differ.

    Raises:
        InputError: naming the missing and extra columns, or the column whose values differ
            in kind, with both kinds.
    """
    missing = [name for name in reference if name not in current]
    extra = [name for name in current if name not in reference]
    if (missing or extra) and not shared_only:
        parts = []
        if missing:
            parts.append(f"{current_label} lacks {_listed(missing)}")
        if extra:
            parts.append(f"{current_label} has {_listed(extra)}, not in {reference_label}")
        raise InputError(
            f"the columns differ: {'; '.join(parts)} (pass --shared-columns to compare the "
            f"{len(reference) - len(missing)} shared ones)"
        )
    shared = [name for name in reference if name in current]
    if not shared:
        raise InputError(f"{reference_label} and {current_label} have no column in common")
    for name in shared:
        if reference[name] != current[name]:
            raise InputError(
                f"column {name!r}: {reference[name]} in {reference_label} but "
                f"{current[name]} in {current_label}"
            )
    return shared


def profile_classes(profile: ReferenceProfile) -> dict[str, str]:
    """Each profiled column's value class (stored with the profile; older profiles, and the
    pipeline's, know only the kind: ``number`` or ``text``)."""
    return {
        name: info.value_class or ("number" if info.kind == "numeric" else "text")
        for name, info in profile.columns.items()
    }


def _open_once(path: str | Path, parts: int) -> DataFile:
    return open_data_file(path, parts, single_use=True)


def _profile(
    reference: DataFile, columns: list[str], settings: SuiteSettings, workers: int
) -> ReferenceProfile:
    return build_profile(
        reference.columns,
        {name: reference.kinds[name] for name in columns},
        psi_bins=settings.psi_bins,
        classes=reference.classes,
        workers=workers,
    )


def drift_between_files(
    current: str | Path | None,
    settings: SuiteSettings,
    reference: str | Path | None = None,
    reference_profile: str | Path | None = None,
    profile_to: str | Path | None = None,
    shared_only: bool = False,
    workers: int = 1,
    before_tests: Callable[[], object] | None = None,
) -> SuiteResult | None:
    """The suite on a current file against a reference file (profiled in memory) or a stored
    profile; each file read once. What ``lifecycle data-drift`` runs.

    Args:
        current: the current file (None: only write the reference's profile).
        settings: tests, thresholds and correction.
        reference: the reference file (or give ``reference_profile``).
        reference_profile: a profile written before with ``profile_to``.
        profile_to: also write the reference's profile there (an ``.npz``).
        shared_only: compare the columns both have, when they differ.
        workers: columns profiled and tested at once, in threads.
        before_tests: called once before the first test (e.g. to wait for a background import).

    Returns:
        The suite's result, or None without ``current``.

    Raises:
        InputError: the inputs cannot be compared (naming the file and the column), or the
            arguments do not fit together.
        ValueError: a column has no value or an infinite one on a side (naming it).
    """
    if (reference is None) == (reference_profile is None):
        raise InputError("give one of --reference and --reference-profile")
    if profile_to is not None and reference is None:
        raise InputError("--write-profile writes the profile of a --reference file")
    if current is None and profile_to is None:
        raise InputError("give --current, or --write-profile to only profile")
    profile: ReferenceProfile | None = None
    if current is not None and reference is not None and workers > 1:
        # Both files at once, the workers shared (pyarrow parses without the GIL), and the
        # reference profiled as soon as it is read: the core its reading leaves is not idle
        # while the current file is read to its end. Every column of the reference must be
        # in the current file then; shared columns only are profiled once both are read.
        parts = max(workers // 2, 1)
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading_current = pool.submit(_open_once, current, parts)
            reference_file = _open_once(reference, parts)
            if profile_to is None and not shared_only:
                profile = _profile(reference_file, list(reference_file.classes), settings, workers)
            current_file = reading_current.result()
    else:
        current_file = _open_once(current, workers) if current is not None else None
        reference_file = _open_once(reference, workers) if reference is not None else None
    if reference_file is not None:
        classes, label = reference_file.classes, str(reference_file.path)
    else:
        profile = read_profile(reference_profile)  # type: ignore[arg-type]
        classes, label = profile_classes(profile), str(reference_profile)
    columns = (
        shared_columns(classes, label, current_file.classes, str(current), shared_only)
        if current_file is not None
        else list(classes)
    )
    if profile_to is not None and reference_file is not None:
        write_profile(
            profile_to,
            reference_file.columns,
            reference_file.kinds,
            psi_bins=settings.psi_bins,
            classes=reference_file.classes,
        )
        profile = read_profile(profile_to)
    elif reference_file is not None and profile is None:
        profile = _profile(reference_file, columns, settings, workers)
    if current_file is None:
        return None
    if before_tests is not None:
        before_tests()
    return run_suite(
        profile, current_file.columns, settings, columns, distributions=False, workers=workers
    )
