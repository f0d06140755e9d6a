"""Versioned, content-addressed datasets in the store.

A dataset is written as it streams in (:class:`DatasetWriter`): record batches go to a
Parquet file in fixed-size row groups while its sha256 is computed, so equal data gives
equal bytes and the same key however it arrived; the file then goes to the store in one
atomic streaming write, and its metadata last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle import keys
from lifecycle.errors import IntegrityError, InvalidInputError, KeyNotFoundError
from lifecycle.runs import RunContext
from lifecycle.store import Store
from lifecycle.store.ranged import RangedObject
from lifecycle.tables import from_parquet_bytes

ArrowData = TypeVar("ArrowData", pa.RecordBatch, pa.Table)

# Row groups hold about this many bytes of values (8 per value), within the row bounds: the
# same data always gets the same row groups, so the same bytes and the same key.
ROW_GROUP_BYTES = 64 << 20
MIN_ROW_GROUP_ROWS = 1 << 12
MAX_ROW_GROUP_ROWS = 1 << 20
# Rows per record batch when a dataset is read in parts: about 8 MB per column.
READ_BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class DatasetRef:
    """Where a dataset lives and what it holds."""

    key: str
    name: str
    sha256: str
    rows: int
    columns: tuple[str, ...]
    source: str
    created_at: str
    # The run and task that first stored this content (later runs reuse it as it is).
    run_id: str | None = None
    task: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> DatasetRef:
        data = json.loads(text)
        data["columns"] = tuple(data["columns"])
        return cls(**data)


def row_group_rows(schema: pa.Schema) -> int:
    """Rows per row group for a table of ``schema`` (a function of its width only)."""
    per_row = 8 * max(len(schema), 1)
    return max(MIN_ROW_GROUP_ROWS, min(MAX_ROW_GROUP_ROWS, ROW_GROUP_BYTES // per_row))


class _HashingFile:
    """A binary file that hashes what is written to it (pyarrow writes through it)."""

    def __init__(self, path: Path):
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self.size += view.nbytes
        return self._file.write(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self.closed = True


class DatasetWriter:
    """Writes one dataset as it streams in, in bounded memory; nothing is visible until
    :meth:`commit`, and leaving a ``with`` block without it (an error) discards it all.

    Batches are regrouped into row groups of :func:`row_group_rows` rows, each made
    contiguous before it is written, so the Parquet bytes (and the content hash, and the
    key) depend on the data only, not on how it was batched.
    """

    def __init__(self, store: Store, name: str, schema: pa.Schema, source: str, run: RunContext):
        self.store = store
        self.run = run
        self.name = name
        self.schema = schema.remove_metadata()
        self.source = source
        self.rows = 0
        self._group_rows = row_group_rows(self.schema)
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        staged = store.staging_path(".parquet")
        if staged is None:
            handle, temp = tempfile.mkstemp(prefix="lifecycle-dataset-", suffix=".parquet")
            os.close(handle)
            staged = Path(temp)
        self._path = staged
        self._file = _HashingFile(staged)
        # Floats are written byte-stream-split (their bytes regrouped by position, which zstd
        # packs about as well as a dictionary, several times faster); text as a dictionary.
        floats = [f.name for f in self.schema if pa.types.is_floating(f.type)]
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self._file,
            self.schema,
            compression="zstd",
            write_statistics=True,
            use_dictionary=[name for name in self.schema.names if name not in floats],
            column_encoding=dict.fromkeys(floats, "BYTE_STREAM_SPLIT"),
        )

    def write(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` (of the writer's schema)."""
        if batch.num_rows == 0:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= self._group_rows:
            self._write_group(self._group_rows)

    def write_frame(self, frame: pd.DataFrame) -> None:
        """Append a DataFrame (its columns converted to the writer's schema)."""
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        for batch in table.to_batches():
            self.write(batch)

    def _write_group(self, rows: int) -> None:
        assert self._writer is not None
        pending = pa.Table.from_batches(self._pending, schema=self.schema)
        group = pending.slice(0, rows).combine_chunks()
        self._writer.write_table(group, row_group_size=rows)
        self.rows += group.num_rows
        rest = pending.slice(rows)
        self._pending = rest.to_batches()
        self._pending_rows = rest.num_rows

    def commit(self, keep_copy: Path | None = None) -> DatasetRef:
        """Finish the file and store it under ``datasets/<name>/<hash>/``, then its metadata;
        idempotent for equal data (an existing dataset's metadata is returned).

        Args:
            keep_copy: where the Parquet file is also left (a task's output artifact), so
                that it is not read back from the store (a download, on MinIO).

        Returns:
            The stored dataset.
        """
        if self._pending_rows:
            self._write_group(self._pending_rows)
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        self._file.close()
        digest = self._file.sha256.hexdigest()
        key = keys.dataset_key(self.name, digest)
        meta_key = keys.dataset_meta_key(key)
        # Marked used by this run first: rolling a run back removes only the datasets it
        # stored that no other run uses.
        self.store.put_bytes(keys.dataset_use_key(key, self.run.run_id), b"")
        if self.store.exists(meta_key):
            if keep_copy is not None:  # the same bytes as the stored file's
                _move_file(self._path, keep_copy)
            self.abort()
            return DatasetRef.from_json(self.store.get_bytes(meta_key))
        ref = DatasetRef(
            key=key,
            name=self.name,
            sha256=digest,
            rows=self.rows,
            columns=tuple(self.schema.names),
            source=self.source,
            created_at=datetime.now(UTC).isoformat(),
            run_id=self.run.run_id,
            task=self.run.task,
        )
        self.store.put_file(key, self._path, move=keep_copy is None)
        if keep_copy is not None:
            _move_file(self._path, keep_copy)
        self.store.put_bytes(meta_key, ref.to_json().encode())
        return ref

    def abort(self) -> None:
        """Discard everything written (the scratch file too)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._file.close()
        self._path.unlink(missing_ok=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()  # after commit() only the (absent) scratch file is left to remove


def _move_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)  # a rename on one file system, else a copy


def write_dataset_batches(
    store: Store, name: str, schema: pa.Schema, source: str, run: RunContext
) -> DatasetWriter:
    """A writer of dataset ``name``, fed record batches of ``schema``: use it in a ``with``
    block and :meth:`DatasetWriter.commit` it once the data is complete (an error before
    that discards everything)."""
    return DatasetWriter(store, name, schema, source, run)


def write_dataset(
    store: Store, name: str, frame: pd.DataFrame, source: str, run: RunContext
) -> DatasetRef:
    """Store ``frame`` as Parquet under ``datasets/<name>/<hash>/``; idempotent for equal data.

    The data is written before its metadata, so a dataset is visible (has
    ``meta.json``) only once complete. Equal data is stored once, by the first run to write
    it. Every run that uses it marks it first (``uses/<run>``), so that rolling back a run
    removes the datasets it stored that no other run uses, and only those (see
    :meth:`DatasetWriter.commit`).
    """
    schema = pa.Schema.from_pandas(frame, preserve_index=False).remove_metadata()
    with write_dataset_batches(store, name, schema, source, run) as writer:
        writer.write_frame(frame)
        return writer.commit()


def dataset_ref(store: Store, key: str) -> DatasetRef:
    """The metadata of the dataset at ``key``.

    Raises:
        InvalidInputError: ``key`` is not a dataset key (a file path, a model's or a view's
            key): files are ingested first.
        KeyNotFoundError: no complete dataset at ``key``.
        IntegrityError: its metadata does not parse or names another key.
    """
    if not keys.is_dataset_key(key):
        raise InvalidInputError(
            f"{key!r} is not a dataset key ({keys.DATASET_KEY_FORM}); a file becomes one "
            "with: lifecycle ingest --data FILE --name NAME"
        )
    meta_key = keys.dataset_meta_key(key)
    try:
        raw = store.get_bytes(meta_key)
    except KeyNotFoundError:
        raise KeyNotFoundError(f"no dataset {key!r} in store {store.uri}") from None
    try:
        ref = DatasetRef.from_json(raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise IntegrityError(
            f"dataset {key!r}: its metadata {meta_key!r} does not parse ({type(exc).__name__})"
        ) from None
    if ref.key != key:
        raise IntegrityError(f"dataset {key!r}: its metadata {meta_key!r} names {ref.key!r}")
    return ref


def read_dataset(store: Store, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Load the dataset at ``key`` (optionally only some columns).

    Raises:
        InvalidInputError: not a dataset key, or a column it does not have.
        KeyNotFoundError: no complete dataset at ``key``.
        IntegrityError: its metadata or its Parquet file does not parse.
    """
    ref = dataset_ref(store, key)
    missing = [column for column in columns or () if column not in ref.columns]
    if missing:
        raise InvalidInputError(f"dataset {key!r} has no column {', '.join(map(repr, missing))}")
    try:
        return from_parquet_bytes(store.get_bytes(ref.key), columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"dataset {key!r}: not a readable Parquet file: {exc}") from None


# A dataset's Parquet file as a stage reads it: on disk, or in a remote store read in ranges.
ParquetSource = Path | RangedObject


@contextmanager
def dataset_file(store: Store, key: str) -> Iterator[ParquetSource]:
    """The Parquet file of the dataset at ``key``, for the ``with`` block: the store's own
    file (a local folder, or a task's checked local copy), else the stored object read in
    byte ranges (MinIO: ranged GETs of the footer and the column chunks read; nothing is
    copied to disk). Open it with :func:`open_parquet`.

    Raises:
        InvalidInputError: not a dataset key.
        KeyNotFoundError: no complete dataset at ``key``.
    """
    ref = dataset_ref(store, key)
    yield store.local_path(ref.key) or store.open_ranged(ref.key)


def open_parquet(source: ParquetSource, **options: object) -> pq.ParquetFile:
    """``pq.ParquetFile(source, **options)``; a ranged object gets a file of its own, so
    readers in threads never share a position."""
    return pq.ParquetFile(source.open() if isinstance(source, RangedObject) else source, **options)


def iter_dataset_batches(
    store: Store, key: str, columns: list[str] | None = None, batch_rows: int | None = None
) -> Iterator[pa.RecordBatch]:
    """The dataset at ``key`` (optionally only some columns) in record batches of at most
    ``batch_rows`` rows (default :data:`READ_BATCH_ROWS`), in order: memory holds one batch,
    whatever the dataset's size.

    Raises:
        InvalidInputError: not a dataset key, or a column it does not have.
        KeyNotFoundError: no complete dataset at ``key``.
        IntegrityError: its Parquet file does not parse.
    """
    require_columns(store, key, columns or ())
    with dataset_file(store, key) as file:
        yield from iter_parquet_batches(file, f"dataset {key!r}", columns, batch_rows)


def require_columns(store: Store, key: str, columns: Iterable[str]) -> DatasetRef:
    """The metadata of the dataset at ``key``, which has every one of ``columns``.

    Raises:
        InvalidInputError: not a dataset key, or a column it does not have.
        KeyNotFoundError: no complete dataset at ``key``.
    """
    ref = dataset_ref(store, key)
    missing = [column for column in columns if column not in ref.columns]
    if missing:
        raise InvalidInputError(f"dataset {key!r} has no column {', '.join(map(repr, missing))}")
    return ref


def cast_to_schema(data: ArrowData, schema: pa.Schema, source: str) -> ArrowData:
    """``data`` (a record batch or a table) with ``schema``'s types, e.g. an integer column
    into a float one, never losing a value.

    Raises:
        InvalidInputError: naming ``source``, when a value does not fit (text into a number).
    """
    if data.schema.equals(schema):
        return data
    try:
        return data.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"{source}: its columns do not fit those of the first dataset: {exc}"
        ) from None


def iter_parquet_batches(
    file: ParquetSource,
    source: str,
    columns: list[str] | None = None,
    batch_rows: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """A dataset's Parquet file (e.g. from :func:`dataset_file`) in record batches, as
    :func:`iter_dataset_batches`.

    Args:
        file: the file.
        source: what it is, for an error (e.g. ``dataset 'datasets/…'``).
        columns: the columns to read (default all).
        batch_rows: rows per batch at most (default :data:`READ_BATCH_ROWS`).

    Raises:
        IntegrityError: the file does not parse, naming ``source``.
    """
    try:
        # pre_buffer off: pyarrow's read cache would keep every row group read until the
        # file is closed, the whole dataset by the end.
        parquet = open_parquet(file, pre_buffer=False)
        yield from parquet.iter_batches(batch_size=batch_rows or READ_BATCH_ROWS, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"{source}: not a readable Parquet file: {exc}") from None


def list_datasets(store: Store) -> list[DatasetRef]:
    """Every complete dataset in the store, oldest first."""
    refs = [
        DatasetRef.from_json(store.get_bytes(key))
        for key in store.list_keys(f"{keys.DATASETS}/")
        if key.endswith(f"/{keys.META_FILE}")
    ]
    return sorted(refs, key=lambda ref: (ref.created_at, ref.key))
