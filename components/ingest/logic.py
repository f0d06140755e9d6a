"""Ingest stage: read a CSV or Parquet file (a path or a store key) into a versioned dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.validate.logic import validate_frame
from lifecycle.config import SchemaConfig
from lifecycle.datasets import DatasetRef, write_dataset
from lifecycle.errors import InvalidInputError
from lifecycle.runs import RunContext
from lifecycle.store import Store, validate_key, validate_name
from lifecycle.tables import parse_table, read_table


def read_source(store: Store, source: str) -> pd.DataFrame:
    """Read ``source``: a file on disk when it exists, else an object in the store.

    Raises:
        InvalidInputError: neither a readable file nor a store key, or malformed content.
    """
    if Path(source).is_file():
        return read_table(source)
    try:
        key = validate_key(source)
    except InvalidInputError:
        raise InvalidInputError(f"{source}: no such file") from None
    if not store.exists(key):
        raise InvalidInputError(f"{source}: no such file, nor key in store {store.uri}")
    return parse_table(store.get_bytes(key), source)


def ingest(
    store: Store, source: str, name: str, schema: SchemaConfig, run: RunContext
) -> DatasetRef:
    """Validate ``source`` against ``schema`` and store it as dataset ``name``.

    Nothing is written when validation fails. Equal data gives the same key.

    Raises:
        InvalidInputError: unreadable source or bad ``name``.
        DataValidationError: the data breaks the schema.
    """
    validate_name(name, "dataset name")
    frame = validate_frame(read_source(store, source), schema, source)
    return write_dataset(store, name, frame, source, run)
