"""Evaluate stage: score a model version on a dataset and record it in the history."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from components.evaluate.scores import (
    MAE,
    R2,
    RMSE,
    RunningScores,
    UndefinedMetricError,
    compute_metrics,
)
from lifecycle import datasets, keys
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import (
    ParquetSource,
    dataset_file,
    iter_parquet_batches,
    open_parquet,
    require_columns,
)
from lifecycle.errors import IntegrityError
from lifecycle.history import evaluation_log
from lifecycle.objects import now_stamp
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import Store, validate_name
from lifecycle.tracking import log_evaluation

__all__ = [
    "MAE",
    "R2",
    "RMSE",
    "Evaluation",
    "UndefinedMetricError",
    "compute_metrics",
    "evaluate",
    "predict",
    "predict_dataset",
    "predict_parquet",
    "score_dataset",
    "score_parquet",
]

PREDICTION = "prediction"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: which version, on what, when, and its scores."""

    model_name: str
    version: str
    batch: str
    dataset_key: str
    time_stamp: str
    metrics: dict[str, float]


def load_estimator(
    store: Store, config: LifecycleConfig, version: str, own_run: str | None = None
) -> Any:
    """A registered version's estimator (hash-checked before loading); ``own_run`` sees its
    own uncommitted versions too."""
    estimator, _ = ModelRegistry(store, config.model.name, own_run, config.model).load_artifact(
        version
    )
    return estimator


def predict(
    store: Store,
    config: LifecycleConfig,
    version: str,
    data: pd.DataFrame,
    own_run: str | None = None,
) -> np.ndarray:
    """Predictions of a registered version (hash-checked before loading); ``own_run`` sees
    its own uncommitted versions too."""
    estimator = load_estimator(store, config, version, own_run)
    return estimator.predict(data[config.schema.feature_names])


def _predict_batch(estimator: Any, batch: pa.RecordBatch, features: list[str]) -> np.ndarray:
    # Only the features become a (small, per-chunk) frame: estimators check the names.
    frame = batch.select(features).to_pandas()
    return np.asarray(estimator.predict(frame), dtype=np.float64).reshape(-1)


def score_parquet(
    estimator: Any,
    config: LifecycleConfig,
    file: ParquetSource,
    batch: str,
    each_chunk: Callable[[pa.RecordBatch, np.ndarray], None] | None = None,
    source: str | None = None,
) -> dict[str, float]:
    """RMSE, R² and MAE of an estimator on a dataset's Parquet file, read, predicted and
    scored chunk by chunk (memory holds one chunk, whatever the file's size).

    Args:
        estimator: the fitted model.
        config: the schema (features and target).
        file: the dataset's file (see :func:`lifecycle.datasets.dataset_file`).
        batch: what is scored, for an error message.
        each_chunk: called with each chunk (the schema's columns) and its predictions.
        source: what the file is, for an error (default the file itself; its dataset's key
            says more to a user).

    Returns:
        The scores by metric name, all finite.

    Raises:
        UndefinedMetricError: a metric has no finite value on the dataset.
        IntegrityError: the file is not readable Parquet.
    """
    features, target = config.schema.feature_names, config.schema.target.name
    scores = RunningScores()
    for chunk in iter_parquet_batches(file, source or str(file), config.schema.column_names):
        predicted = _predict_batch(estimator, chunk, features)
        actual = chunk.column(target).to_numpy(zero_copy_only=False)
        scores.add(np.asarray(actual, dtype=np.float64), predicted)
        if each_chunk is not None:
            each_chunk(chunk, predicted)
    return scores.metrics(batch)


def score_dataset(
    store: Store,
    config: LifecycleConfig,
    version: str,
    dataset_key: str,
    batch: str,
    own_run: str | None = None,
    each_chunk: Callable[[pa.RecordBatch, np.ndarray], None] | None = None,
) -> dict[str, float]:
    """RMSE, R² and MAE of a registered version on a stored dataset (see
    :func:`score_parquet`); ``own_run``'s uncommitted versions count too.

    Raises:
        InvalidInputError: the dataset lacks a column of the schema.
        UndefinedMetricError: a metric has no finite value on the dataset.
    """
    estimator = load_estimator(store, config, version, own_run)
    require_columns(store, dataset_key, config.schema.column_names)
    with dataset_file(store, dataset_key) as file:
        return score_parquet(estimator, config, file, batch, each_chunk, f"dataset {dataset_key!r}")


def predict_parquet(
    estimator: Any,
    file: ParquetSource,
    features: list[str],
    out: np.ndarray | None = None,
    source: str | None = None,
) -> np.ndarray:
    """An estimator's predictions for every row of a Parquet file, in order; only the
    features are read, a chunk at a time, into one preallocated array (``out``'s start, when
    given: the predictions of several files then share one array).

    Returns:
        The predictions (a view of ``out`` when given).

    Raises:
        IntegrityError: the file is not readable Parquet.
    """
    try:
        parquet = open_parquet(file, pre_buffer=False)  # see lifecycle.datasets
        rows = parquet.metadata.num_rows
        predictions = np.empty(rows, dtype=np.float64) if out is None else out[:rows]
        done = 0
        for chunk in parquet.iter_batches(batch_size=datasets.READ_BATCH_ROWS, columns=features):
            predictions[done : done + chunk.num_rows] = _predict_batch(estimator, chunk, features)
            done += chunk.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise IntegrityError(f"{source or file}: not a readable Parquet file: {exc}") from None
    return predictions[:done]


def predict_dataset(
    store: Store,
    config: LifecycleConfig,
    version: str,
    dataset_key: str,
    own_run: str | None = None,
) -> np.ndarray:
    """A version's predictions for every row of a stored dataset, in order (see
    :func:`predict_parquet`)."""
    estimator = load_estimator(store, config, version, own_run)
    with dataset_file(store, dataset_key) as file:
        source = f"dataset {dataset_key!r}"
        return predict_parquet(estimator, file, config.schema.feature_names, source=source)


class _ExperienceWriter:
    """The rows scored with their predictions, written chunk by chunk to a scratch Parquet
    file that goes to the store only once the scores are known to be defined."""

    def __init__(self, store: Store):
        staged = store.staging_path(".parquet")
        if staged is None:
            handle, temp = tempfile.mkstemp(prefix="lifecycle-experiences-", suffix=".parquet")
            os.close(handle)
            staged = Path(temp)
        self.path = staged
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: pa.RecordBatch, predicted: np.ndarray) -> None:
        rows = chunk.append_column(PREDICTION, pa.array(predicted, type=pa.float64()))
        if self._writer is None:
            floats = {f.name for f in rows.schema if pa.types.is_floating(f.type)}
            # Snappy, and no dictionary tried on float columns (they are rarely repeated):
            # 3x faster to write than zstd with dictionaries, for about a fifth more bytes;
            # on a big batch, writing the experiences was most of evaluate's time.
            self._writer = pq.ParquetWriter(
                self.path,
                rows.schema,
                compression="snappy",
                use_dictionary=[name for name in rows.schema.names if name not in floats],
                write_statistics=True,
            )
        self._writer.write_batch(rows)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def evaluate(
    store: Store,
    config: LifecycleConfig,
    model_reference: str,
    dataset_key: str,
    batch: str,
    role: str,
    run: RunContext,
) -> Evaluation:
    """Score a model on a stored dataset; append the records and the experiences.

    The dataset is read, predicted and scored chunk by chunk, and the experiences (its rows
    with their predictions) are written as they come: memory holds one chunk.

    Args:
        store: the artefact store.
        config: schema and model name.
        model_reference: a version (``1.0``) or alias (``production``).
        dataset_key: the stored dataset to score on.
        batch: the batch id recorded in the history (``test``, ``batch_1``, …).
        role: why it was evaluated (``test``, ``monitor`` or ``challenger``), kept in the
            records so that data selection can find the batches seen in production.
        run: the run and task writing the records.

    Returns:
        The evaluation, whose ``time_stamp`` identifies this run in the history.

    Raises:
        UndefinedMetricError: a metric has no finite value on the dataset (nothing is written).
    """
    validate_name(batch, "batch id")
    version = ModelRegistry(store, config.model.name, run.run_id).resolve(model_reference)
    experiences = _ExperienceWriter(store)
    try:
        # Before anything is written: an undefined metric leaves the store as it was.
        metrics = score_dataset(
            store,
            config,
            version,
            dataset_key,
            f"batch {batch!r} (dataset {dataset_key})",
            run.run_id,
            experiences.write,
        )
        experiences.close()
        stamp = now_stamp()
        experience_key = keys.experience_key(
            config.model.name, version, batch, run.run_id, run.task
        )
        store.put_file(experience_key, experiences.path, move=True)
    finally:
        experiences.discard()
    evaluation_log(store).append(
        (
            {
                "time_stamp": stamp,
                "model_name": config.model.name,
                "version": version,
                "batch": batch,
                "metric": metric,
                "score": score,
                "dataset_key": dataset_key,
                "role": role,
            }
            for metric, score in metrics.items()
        ),
        run,
    )
    log_evaluation(config.model.name, version, batch, dataset_key, role, metrics)  # MLflow, if set
    return Evaluation(config.model.name, version, batch, dataset_key, stamp, metrics)
