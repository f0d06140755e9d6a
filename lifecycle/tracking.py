"""Optional MLflow logging of the train and evaluate stages (the course's tracking exercise).

When ``MLFLOW_TRACKING_URI`` is set, :func:`log_training` records a new model version (its
hyperparameters, training data, test metrics and version) and :func:`log_evaluation` records
an evaluation (its metrics, batch and role) as MLflow runs. When it is unset both do nothing.
The store stays the system of record: a tracking server that is down, slow or rejects a
request produces a warning, never a failed stage. ``mlflow`` (the ``tracking`` extra,
``mlflow-skinny``) is imported only when tracking is on.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lifecycle.registry import ModelVersion

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
# MLflow retries a failing request 7 times with backoff and waits 120 s per request by
# default: minutes of a stage spent on a dead server. Ours, unless the user set their own.
HTTP_DEFAULTS: dict[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}
# MLflow's limit on a parameter value.
MAX_PARAM_LENGTH = 6000

logger = logging.getLogger(__name__)


class TrackingWarning(UserWarning):
    """The tracking server could not record a run; the stage went on without it."""


@dataclass(frozen=True)
class TrackingSettings:
    """Where runs go. ``uri`` None means tracking is off."""

    uri: str | None = None
    experiment: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrackingSettings:
        """Read ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME`` (at call time)."""
        env = os.environ if environ is None else environ
        return cls(
            uri=env.get(TRACKING_URI_ENV) or None, experiment=env.get(EXPERIMENT_ENV) or None
        )

    @property
    def enabled(self) -> bool:
        return self.uri is not None

    def experiment_for(self, model_name: str) -> str:
        """The experiment of a model: ``MLFLOW_EXPERIMENT_NAME`` or ``lifecycle-<model>``."""
        return self.experiment or f"lifecycle-{model_name}"


@dataclass(frozen=True)
class RunRecord:
    """One MLflow run to write: what a stage did, flattened to params, metrics and tags."""

    experiment: str
    run_name: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def training_record(model: ModelVersion, settings: TrackingSettings) -> RunRecord:
    """The run of a newly registered version: hyperparameters, data, test metrics, version."""
    params: dict[str, Any] = {
        f"param.{name}": value for name, value in sorted(model.params.items())
    }
    params.update(
        {
            "estimator": model.estimator,
            "model_version": model.version,
            "parent_version": model.parent_version or "",
            "features": ",".join(model.features),
            "target": model.target,
            "training_datasets": ",".join(model.training_keys),
            "test_dataset": model.test_dataset or "",
            "artifact_sha256": model.artifact_sha256,
        }
    )
    return RunRecord(
        experiment=settings.experiment_for(model.name),
        run_name=f"train {model.name} {model.version}",
        params={name: _param_value(value) for name, value in params.items()},
        metrics={f"test_{name}": float(score) for name, score in model.test_metrics.items()},
        tags=_tags("train", model.name, model.version),
    )


def evaluation_record(
    model_name: str,
    version: str,
    batch: str,
    dataset_key: str,
    role: str,
    metrics: Mapping[str, float],
    settings: TrackingSettings,
) -> RunRecord:
    """The run of one evaluation: the version's scores on a batch, and why it was scored."""
    return RunRecord(
        experiment=settings.experiment_for(model_name),
        run_name=f"evaluate {model_name} {version} on {batch}",
        params={"model_version": version, "batch": batch, "dataset_key": dataset_key, "role": role},
        metrics={name: float(score) for name, score in metrics.items()},
        tags={**_tags("evaluate", model_name, version), "batch": batch, "role": role},
    )


def log_training(model: ModelVersion, settings: TrackingSettings | None = None) -> str | None:
    """Log a registered version to MLflow when tracking is on.

    Args:
        model: the version the train stage just registered.
        settings: where to log; read from the environment when None.

    Returns:
        The MLflow run id, or None when tracking is off or the server failed (then warned).
    """
    settings = settings or TrackingSettings.from_env()
    if not settings.enabled:
        return None
    return _log_safely(settings, lambda: training_record(model, settings))


def log_evaluation(
    model_name: str,
    version: str,
    batch: str,
    dataset_key: str,
    role: str,
    metrics: Mapping[str, float],
    settings: TrackingSettings | None = None,
) -> str | None:
    """Log an evaluation to MLflow when tracking is on.

    Args:
        model_name: the model's name.
        version: the version that was scored (resolved, not an alias).
        batch: the batch id of the evaluation history.
        dataset_key: the stored dataset it was scored on.
        role: ``test``, ``monitor`` or ``challenger``.
        metrics: the scores by metric name.
        settings: where to log; read from the environment when None.

    Returns:
        The MLflow run id, or None when tracking is off or the server failed (then warned).
    """
    settings = settings or TrackingSettings.from_env()
    if not settings.enabled:
        return None
    return _log_safely(
        settings,
        lambda: evaluation_record(model_name, version, batch, dataset_key, role, metrics, settings),
    )


def write_run(uri: str, record: RunRecord) -> str:
    """Create a finished MLflow run for ``record`` on the server at ``uri``; return its id.

    Raises:
        ImportError: mlflow is not installed (``pip install kfp-lifecycle[tracking]``).
        Exception: whatever the MLflow client raises for an unreachable or failing server.
    """
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(record.experiment)
    if experiment is not None:
        experiment_id = experiment.experiment_id
    else:
        try:
            experiment_id = client.create_experiment(record.experiment)
        except MlflowException:  # created by a concurrent stage in the meantime
            found = client.get_experiment_by_name(record.experiment)
            if found is None:
                raise
            experiment_id = found.experiment_id
    run = client.create_run(experiment_id, run_name=record.run_name, tags=record.tags)
    now = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(name, value, now, 0) for name, value in record.metrics.items()],
        params=[Param(name, value) for name, value in record.params.items()],
    )
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def _log_safely(settings: TrackingSettings, build: Callable[[], RunRecord]) -> str | None:
    assert settings.uri is not None
    try:
        record = build()
        with _http_defaults():
            return write_run(settings.uri, record)
    except ImportError:
        _warn(
            f"{TRACKING_URI_ENV} is set but mlflow is not installed"
            " (pip install 'kfp-lifecycle[tracking]')"
        )
    except Exception as exc:  # noqa: BLE001 - tracking must never fail the stage
        _warn(f"could not log to MLflow at {settings.uri}: {type(exc).__name__}: {exc}")
    return None


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, TrackingWarning, stacklevel=3)


@contextmanager
def _http_defaults() -> Iterator[None]:
    """Apply :data:`HTTP_DEFAULTS` for the variables the user left unset, then restore."""
    added = [name for name in HTTP_DEFAULTS if name not in os.environ]
    for name in added:
        os.environ[name] = HTTP_DEFAULTS[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _tags(stage: str, model_name: str, version: str) -> dict[str, str]:
    return {"lifecycle.stage": stage, "model_name": model_name, "model_version": version}


def _param_value(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 1] + "…"
