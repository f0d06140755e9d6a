"""Ingest stage: read a CSV or Parquet file (a path or a store key) into a versioned dataset.

The file is validated and written in one streaming pass (record batches, bounded memory):
each typed batch goes to the dataset's Parquet file while its hash is computed, and the
file is stored only when the whole input proved valid.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from components.validate.logic import output_schema, validate_file
from lifecycle.config import SchemaConfig
from lifecycle.datasets import DatasetRef, write_dataset_batches
from lifecycle.errors import InvalidInputError
from lifecycle.runs import RunContext
from lifecycle.store import Store, validate_key, validate_name


@contextmanager
def local_source(store: Store, source: str) -> Iterator[Path]:
    """``source`` as a file on disk: the file itself when it exists, else the store object
    (a local store's own file, or a temporary download, streamed, removed afterwards).

    Raises:
        InvalidInputError: neither a file nor a store key.
    """
    if Path(source).is_file():
        yield Path(source)
        return
    try:
        key = validate_key(source)
    except InvalidInputError:
        raise InvalidInputError(f"{source}: no such file") from None
    path = store.local_path(key)
    if path is not None:
        yield path
        return
    if not store.exists(key):
        raise InvalidInputError(f"{source}: no such file, nor key in store {store.uri}")
    with tempfile.TemporaryDirectory(prefix="lifecycle-source-") as folder:
        # The key's own file name: its suffix says CSV or Parquet.
        target = Path(folder) / PurePosixPath(key).name
        store.get_file(key, target)
        yield target


def ingest(
    store: Store,
    source: str,
    name: str,
    schema: SchemaConfig,
    run: RunContext,
    keep_copy: Path | None = None,
) -> DatasetRef:
    """Validate ``source`` against ``schema`` and store it as dataset ``name``, streaming.

    Nothing is written when validation fails. Equal data gives the same key. ``keep_copy``:
    where the dataset's Parquet file is also left (see :meth:`DatasetWriter.commit`).

    Raises:
        InvalidInputError: unreadable source or bad ``name``.
        DataValidationError: the data breaks the schema.
    """
    validate_name(name, "dataset name")
    with (
        local_source(store, source) as path,
        write_dataset_batches(store, name, output_schema(schema), source, run) as writer,
    ):
        validate_file(path, schema, source, sink=writer.write)
        return writer.commit(keep_copy)
