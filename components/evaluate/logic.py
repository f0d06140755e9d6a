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
from lifecycle.history import evaluation_log
from lifecycle.objects import now_stamp
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import Store, validate_name
from lifecycle.tables import to_parquet_bytes
from lifecycle.tracking import log_evaluation

# Names as in the course's evaluation history.
RMSE, R2, MAE = "RMSE", "r2", "MAE"


def compute_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, R² and MAE of ``predicted`` against ``actual``."""
    return {
        RMSE: float(math.sqrt(mean_squared_error(actual, predicted))),
        R2: float(r2_score(actual, predicted)),
        MAE: float(mean_absolute_error(actual, predicted)),
    }


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
    estimator, _ = ModelRegistry(store, config.model.name, own_run).load_artifact(version)
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
    data = read_dataset(store, dataset_key)
    predicted = predict(store, config, version, data, run.run_id)
    actual = data[config.schema.target.name].to_numpy()
    metrics = compute_metrics(actual, predicted)
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
