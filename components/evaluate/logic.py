"""Evaluate stage: score a model version on a dataset and record it in the history."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import read_dataset
from lifecycle.errors import InvalidInputError
from lifecycle.history import evaluation_log
from lifecycle.objects import now_stamp
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import Store, validate_name
from lifecycle.tables import to_parquet_bytes
from lifecycle.tracking import log_evaluation

# Names as in the course's evaluation history.
RMSE, R2, MAE = "RMSE", "r2", "MAE"


class UndefinedMetricError(InvalidInputError):
    """A metric has no finite value on a batch (R² on one row or on a constant target)."""


def _why_undefined(metric: str, actual: np.ndarray) -> str:
    if metric == R2 and len(actual) < 2:
        return f"R² is undefined on {len(actual)} row(s)"
    if metric == R2 and np.all(actual == actual[0]):
        return "R² is undefined when the target is constant (it divides by its variance)"
    return "its value is not a finite number"


def compute_metrics(
    actual: np.ndarray, predicted: np.ndarray, batch: str = "the data"
) -> dict[str, float]:
    """RMSE, R² and MAE of ``predicted`` against ``actual``.

    A metric without a finite value never enters a history: a NaN R² would make every
    later R² test of the model silently never fire.

    Args:
        actual: the target's values.
        predicted: the model's predictions.
        batch: what was scored, for the error message (e.g. ``batch 'batch_7'``).

    Returns:
        The scores by metric name, all finite.

    Raises:
        UndefinedMetricError: a metric is NaN or infinite, naming ``batch`` and the metric.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # refused below, not warned
        metrics = {
            RMSE: float(math.sqrt(mean_squared_error(actual, predicted))),
            # force_finite=False: sklearn would report a constant target's R² as 0 or 1.
            R2: float(r2_score(actual, predicted, force_finite=False))
            if len(actual) > 1
            else math.nan,
            MAE: float(mean_absolute_error(actual, predicted)),
        }
    for metric, score in metrics.items():
        if not math.isfinite(score):
            raise UndefinedMetricError(
                f"{batch}: metric {metric} is undefined ({_why_undefined(metric, actual)}); "
                "nothing was recorded"
            )
    return metrics


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: which version, on what, when, and its scores."""

    model_name: str
    version: str
    batch: str
    dataset_key: str
    time_stamp: str
    metrics: dict[str, float]


def predict(
    store: Store,
    config: LifecycleConfig,
    version: str,
    data: pd.DataFrame,
    own_run: str | None = None,
) -> np.ndarray:
    """Predictions of a registered version (hash-checked before loading); ``own_run`` sees
    its own uncommitted versions too."""
    estimator, _ = ModelRegistry(store, config.model.name, own_run, config.model).load_artifact(
        version
    )
    return estimator.predict(data[config.schema.feature_names])


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
    """
    validate_name(batch, "batch id")
    version = ModelRegistry(store, config.model.name, run.run_id).resolve(model_reference)
    data = read_dataset(store, dataset_key, config.schema.column_names)
    predicted = predict(store, config, version, data, run.run_id)
    actual = data[config.schema.target.name].to_numpy()
    # Before anything is written: an undefined metric leaves the store as it was.
    metrics = compute_metrics(actual, predicted, f"batch {batch!r} (dataset {dataset_key})")
    stamp = now_stamp()
    experiences = data.assign(prediction=predicted)
    experience_key = keys.experience_key(config.model.name, version, batch, run.run_id, run.task)
    store.put_bytes(experience_key, to_parquet_bytes(experiences))
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
