"""Versioned, content-addressed datasets in the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pandas as pd

from lifecycle import keys
from lifecycle.errors import KeyNotFoundError
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
    it; it is not the run's to roll back, as later runs may already use it.
    """
    data = to_parquet_bytes(frame)
    digest = hashlib.sha256(data).hexdigest()
    key = keys.dataset_key(name, digest)
    meta_key = keys.dataset_meta_key(key)
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
        KeyNotFoundError: no complete dataset at ``key``.
    """
    try:
        return DatasetRef.from_json(store.get_bytes(keys.dataset_meta_key(key)))
    except KeyNotFoundError:
        raise KeyNotFoundError(f"no dataset {key!r} in store {store.uri}") from None


def read_dataset(store: Store, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Load the dataset at ``key`` (optionally only some columns)."""
    ref = dataset_ref(store, key)
    return from_parquet_bytes(store.get_bytes(ref.key), columns=columns)


def list_datasets(store: Store) -> list[DatasetRef]:
    """Every complete dataset in the store, oldest first."""
    refs = [
        DatasetRef.from_json(store.get_bytes(key))
        for key in store.list_keys(f"{keys.DATASETS}/")
        if key.endswith(f"/{keys.META_FILE}")
    ]
    return sorted(refs, key=lambda ref: (ref.created_at, ref.key))
