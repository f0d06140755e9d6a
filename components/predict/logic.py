"""Batch scoring: a registered model's predictions for a CSV or Parquet file of any size.

The input is read in Arrow record batches (``batch_rows`` at a time), validated, scored and
written out batch by batch, so memory stays bounded whatever the file's size. Every input
column is kept and ``prediction`` added. :func:`predict_file` writes a local CSV or Parquet
file; :func:`predict_to_store` writes the store: numbered Parquet parts, then a manifest
(written last, so a run's predictions are visible only once complete).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from components.serve.model_holder import LoadedModel, verify
from components.serve.schema import MAX_MAGNITUDE, InputSchema
from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.errors import InvalidInputError
from lifecycle.objects import now_stamp
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store, validate_name
from lifecycle.tables import file_holds_parquet, is_parquet

PREDICTION = "prediction"
MANIFEST_FILE = "manifest.json"
DEFAULT_BATCH_ROWS = 65_536
# Rows per Parquet part written to the store (a part is built in memory, then put).
DEFAULT_PART_ROWS = 1_000_000
_CSV_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class Scored:
    """What a batch-scoring run did."""

    model_name: str
    version: str
    rows: int
    output: str
    parts: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def load_model(store: Store, config: LifecycleConfig, reference: str) -> LoadedModel:
    """The verified model ``reference`` names (a version, or ``production``)."""
    registry = ModelRegistry(store, config.model.name)
    version = registry.resolve(reference)
    estimator, metadata = registry.load_artifact(version)
    return verify(config.model.name, estimator, metadata, InputSchema.from_config(config.schema))


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not UTF-8 text") from None


def read_batches(
    path: str | Path, schema: InputSchema, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """The file's record batches; features typed (float64 or string), other columns as text.

    Raises:
        InvalidInputError: a missing file or feature column, or an unreadable file, naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if file_holds_parquet(path):
        try:
            # pre_buffer off: its cache would keep every row group read until the end.
            reader = pq.ParquetFile(path, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{path}: not a readable Parquet file: {exc}") from None
        _require_features(path, reader.schema_arrow.names, schema)
        yield from reader.iter_batches(batch_size=batch_rows)
        return
    header = _csv_header(path)
    _require_features(path, header, schema)
    categorical = {feature.name for feature in schema.features if feature.categorical}
    numeric = set(schema.names) - categorical
    types = {name: pa.float64() if name in numeric else pa.string() for name in header}
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)
    except pa.ArrowInvalid as exc:
        raise InvalidInputError(f"{path}: {_csv_problem(str(exc), header)}") from None


def _csv_problem(message: str, header: list[str]) -> str:
    match = re.search(r"In CSV column #(\d+): (.*)", message)
    if match and int(match.group(1)) < len(header):
        return f"column {header[int(match.group(1))]!r}: {match.group(2)}"
    return message.splitlines()[0]


def _require_features(path: Path, names: list[str], schema: InputSchema) -> None:
    missing = [name for name in schema.names if name not in names]
    if missing:
        raise InvalidInputError(
            f"{path}: missing column {missing[0]!r} (the model needs {', '.join(schema.names)}; "
            f"found {', '.join(names) or 'none'})"
        )
    if PREDICTION in names:
        raise InvalidInputError(f"{path}: column {PREDICTION!r} would be overwritten: rename it")


def feature_columns(
    batch: pa.RecordBatch, schema: InputSchema, source: str, offset: int
) -> dict[str, np.ndarray]:
    """The batch's features as the model takes them (float64, or str objects).

    Raises:
        InvalidInputError: a missing, non-numeric or non-finite value, naming the file, the
            column and the first offending row (1-based, header not counted).
    """
    columns: dict[str, np.ndarray] = {}
    for feature in schema.features:
        values = batch.column(feature.name)
        if values.null_count:
            first = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidInputError(
                f"{source}: column {feature.name!r}: missing value in row {offset + first + 1} "
                f"({values.null_count} in this block)"
            )
        if feature.categorical:
            columns[feature.name] = np.asarray(values.cast(pa.string()).to_pylist(), dtype=object)
            continue
        try:
            numbers = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInputError(
                f"{source}: column {feature.name!r}: not numeric ({values.type})"
            ) from None
        bad = ~np.isfinite(numbers) | (np.abs(numbers) > MAX_MAGNITUDE)
        if bad.any():
            first = int(np.argmax(bad))
            raise InvalidInputError(
                f"{source}: column {feature.name!r}: {numbers[first]} in row "
                f"{offset + first + 1} is not a finite number within ±{MAX_MAGNITUDE:g}"
            )
        columns[feature.name] = numbers
    return columns


def scored_batches(
    model: LoadedModel, schema: InputSchema, path: str | Path, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Each input batch with its ``prediction`` column appended."""
    offset = 0
    for batch in read_batches(path, schema, batch_rows):
        if batch.num_rows == 0:
            continue
        columns = feature_columns(batch, schema, str(path), offset)
        predictions = model.predict(columns, batch.num_rows)
        offset += batch.num_rows
        yield batch.append_column(PREDICTION, pa.array(predictions, type=pa.float64()))


class _FileSink:
    """A CSV or Parquet writer opened on the first batch (its schema)."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: Any = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = (
                pq.ParquetWriter(self.path, batch.schema, compression="zstd")
                if is_parquet(self.path.name)
                else pacsv.CSVWriter(self.path, batch.schema)
            )
        self.writer.write_batch(batch)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def predict_file(
    store: Store,
    config: LifecycleConfig,
    data: str | Path,
    out: str | Path,
    model_reference: str = "production",
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Scored:
    """Score the CSV or Parquet file ``data`` into ``out`` (CSV, or Parquet by its suffix).

    Raises:
        InvalidInputError: bad input (naming file, column, row) or an unwritable ``out``.
        ModelNotFoundError: no such version or alias.
    """
    model = load_model(store, config, model_reference)
    schema = InputSchema.from_config(config.schema)
    sink = _FileSink(Path(out))
    rows = 0
    try:
        for batch in scored_batches(model, schema, data, batch_rows):
            sink.write(batch)
            rows += batch.num_rows
    except OSError as exc:
        raise InvalidInputError(f"{out}: cannot write: {exc}") from None
    finally:
        sink.close()
    if rows == 0:
        raise InvalidInputError(f"{data}: no rows to score")
    return Scored(config.model.name, model.version, rows, str(out))


def predict_to_store(
    store: Store,
    config: LifecycleConfig,
    data: str | Path,
    batch_id: str,
    model_reference: str = "production",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    part_rows: int = DEFAULT_PART_ROWS,
) -> Scored:
    """Score ``data`` into the store: Parquet parts, then the manifest that makes them visible.

    Keys: ``predictions/batch/<model>/<version>/<batch>/<time>-<id>/part-00000.parquet``, …,
    then ``…/manifest.json`` (model, version, rows, parts, source, time).

    Raises:
        InvalidInputError: bad input, naming file, column and row.
        ModelNotFoundError: no such version or alias.
    """
    validate_name(batch_id, "batch id")
    model = load_model(store, config, model_reference)
    schema = InputSchema.from_config(config.schema)
    stamp = now_stamp()
    run_prefix = keys.batch_predictions_prefix(
        config.model.name, model.version, batch_id
    ) + keys.stamped_name(stamp, "/")
    parts: list[str] = []
    pending: list[pa.RecordBatch] = []
    pending_rows = rows = 0

    def put_part() -> None:
        nonlocal pending, pending_rows
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_batches(pending), sink, compression="zstd")
        key = f"{run_prefix}part-{len(parts):05d}.parquet"
        store.put_bytes(key, sink.getvalue().to_pybytes())
        parts.append(key)
        pending, pending_rows = [], 0

    for batch in scored_batches(model, schema, data, batch_rows):
        pending.append(batch)
        pending_rows += batch.num_rows
        rows += batch.num_rows
        if pending_rows >= part_rows:
            put_part()
    if pending:
        put_part()
    if rows == 0:
        raise InvalidInputError(f"{data}: no rows to score")
    manifest = {
        "model_name": config.model.name,
        "version": model.version,
        "rows": rows,
        "parts": parts,
        "source": str(data),
        "batch_id": batch_id,
        "created_at": stamp,
    }
    manifest_key = run_prefix + MANIFEST_FILE
    store.put_bytes(manifest_key, json.dumps(manifest, indent=1).encode())
    return Scored(config.model.name, model.version, rows, manifest_key, tuple(parts))
