"""Versioned, content-addressed datasets in the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from lifecycle import keys
from lifecycle.errors import IntegrityError, InvalidInputError, KeyNotFoundError
from lifecycle.runs import RunContext
from lifecycle.store import Store
from lifecycle.tables import from_parquet_bytes, to_parquet_bytes


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


def write_dataset(
    store: Store, name: str, frame: pd.DataFrame, source: str, run: RunContext
) -> DatasetRef:
    """Store ``frame`` as Parquet under ``datasets/<name>/<hash>/``; idempotent for equal data.

    The data is written before its metadata, so a dataset is visible (has
    ``meta.json``) only once complete. Equal data is stored once, by the first run to write
    it. Every run that uses it marks it first (``uses/<run>``), so that rolling back a run
    removes the datasets it stored that no other run uses, and only those.
    """
    data = to_parquet_bytes(frame)
    digest = hashlib.sha256(data).hexdigest()
    key = keys.dataset_key(name, digest)
    meta_key = keys.dataset_meta_key(key)
    store.put_bytes(keys.dataset_use_key(key, run.run_id), b"")
    if store.exists(meta_key):
        return DatasetRef.from_json(store.get_bytes(meta_key))
    ref = DatasetRef(
        key=key,
        name=name,
        sha256=digest,
        rows=len(frame),
        columns=tuple(str(column) for column in frame.columns),
        source=source,
        created_at=datetime.now(UTC).isoformat(),
        run_id=run.run_id,
        task=run.task,
    )
    store.put_bytes(key, data)
    store.put_bytes(meta_key, ref.to_json().encode())
    return ref


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


def list_datasets(store: Store) -> list[DatasetRef]:
    """Every complete dataset in the store, oldest first."""
    refs = [
        DatasetRef.from_json(store.get_bytes(key))
        for key in store.list_keys(f"{keys.DATASETS}/")
        if key.endswith(f"/{keys.META_FILE}")
    ]
    return sorted(refs, key=lambda ref: (ref.created_at, ref.key))
