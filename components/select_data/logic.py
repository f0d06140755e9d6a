"""Select-data stage: assemble the challenger's training set by the configured policy."""

from __future__ import annotations

from contextlib import ExitStack

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle.config import LifecycleConfig, RetrainConfig
from lifecycle.datasets import (
    DatasetRef,
    dataset_file,
    iter_parquet_batches,
    require_columns,
    write_dataset_batches,
)
from lifecycle.errors import InvalidInputError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.runs import RunContext
from lifecycle.store import Store

RETRAIN_DATASET = "retrain"


def monitored_batches(records: list[dict], since: str | None = None) -> list[str]:
    """Store keys of the labelled batches evaluated in production, oldest first, each once.

    ``records`` are one model's evaluation records (see :func:`select_data`).
    """
    keys: list[str] = []
    for record in sorted(records, key=lambda r: r["time_stamp"]):
        if record.get("role") != "monitor" or (since is not None and record["time_stamp"] <= since):
            continue
        if record["dataset_key"] not in keys:
            keys.append(record["dataset_key"])
    return keys


def select_keys(model: ModelVersion, records: list[dict], policy: RetrainConfig) -> list[str]:
    """The dataset keys to retrain on.

    ``since_training``: the model's own training data plus every batch seen since it
    was trained. ``last_n``: the last N batches seen.
    """
    if policy.policy == "last_n":
        return monitored_batches(records)[-policy.last_n :]
    selected = list(model.training_keys)
    for key in monitored_batches(records, since=model.created_at):
        if key not in selected:
            selected.append(key)
    return selected


def select_data(
    store: Store, config: LifecycleConfig, model_version: str, run: RunContext
) -> DatasetRef:
    """Write the retraining set for a successor of ``model_version`` as a dataset.

    The batches are those of committed runs and of ``run`` itself (the batch it monitors).
    """
    model = ModelRegistry(store, config.model.name, run.run_id).get(model_version)
    records = [
        r
        for r in evaluation_log(store).records(own_run=run.run_id)
        if r["model_name"] == model.name
    ]
    selected = select_keys(model, records, config.retrain)
    return combine_datasets(store, selected, RETRAIN_DATASET, run)


def combine_datasets(
    store: Store, dataset_keys: list[str], name: str, run: RunContext
) -> DatasetRef:
    """Store the rows of the datasets at ``dataset_keys``, in order, as dataset ``name``: each
    one's file read once, in record batches written as they come, so memory holds a batch or
    a row group, whatever the datasets' size.

    Args:
        store: the artefact store.
        dataset_keys: the datasets to combine; the first one's columns and types are the
            result's (another dataset's values are cast to them: an integer column into a
            float one, never losing a value).
        name: the new dataset's name.
        run: the run storing it.

    Returns:
        The stored dataset (the same key for the same rows, however they were combined).

    Raises:
        InvalidInputError: no dataset, one without a column of the first, or values that
            do not fit the first one's type.
    """
    if not dataset_keys:
        raise InvalidInputError("select_data: no dataset to retrain on")
    columns = list(require_columns(store, dataset_keys[0], ()).columns)
    for key in dataset_keys[1:]:
        require_columns(store, key, columns)
    with ExitStack() as stack:
        writer = None
        for key in dataset_keys:
            with dataset_file(store, key) as path:
                if writer is None:
                    schema = pq.read_schema(path).remove_metadata()
                    schema = pa.schema([schema.field(column) for column in columns])
                    writer = stack.enter_context(
                        write_dataset_batches(store, name, schema, " + ".join(dataset_keys), run)
                    )
                for batch in iter_parquet_batches(path, f"dataset {key!r}", columns):
                    writer.write(_cast(batch, writer.schema, key))
        assert writer is not None
        return writer.commit()


def _cast(batch: pa.RecordBatch, schema: pa.Schema, key: str) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    try:
        return batch.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"dataset {key!r}: its columns do not fit those of the first dataset: {exc}"
        ) from None
