"""Every key of the store layout, in one place (documented in the README's "Store layout")."""

from __future__ import annotations

import re
import uuid

from lifecycle.store.base import validate_name

DATASETS = "datasets"
MODELS = "models"
EVALUATION_RECORDS = "evaluation/records"
DRIFT_RECORDS = "evaluation/drift"
DECISION_RECORDS = "logs/decisions"
EXPERIENCES = "experiences"
PREDICTIONS = "predictions"
COMMITS = "commits"
RUNS = "runs"
TASK_RESULTS = "tasks"

EVALUATION_VIEW = "evaluation/model_eval.csv"
DRIFT_VIEW = "evaluation/model_drift.csv"
DECISION_VIEW = "logs/decisions.csv"

PRODUCTION_ALIAS = "production"

DATA_FILE = "data.parquet"
DATASET_USES = "uses"
META_FILE = "meta.json"
MODEL_FILE = "model.skops"
PROFILE_FILE = "profile.npz"


def dataset_prefix(name: str) -> str:
    return f"{DATASETS}/{validate_name(name, 'dataset name')}/"


def dataset_key(name: str, digest: str) -> str:
    """Datasets are content-addressed: re-ingesting the same data yields the same key."""
    return f"{dataset_prefix(name)}{digest[:16]}/{DATA_FILE}"


def dataset_use_key(data_key: str, run_id: str) -> str:
    """A run's mark on a dataset it uses: a dataset no committed run uses can be rolled back."""
    return data_key.rsplit("/", 1)[0] + f"/{DATASET_USES}/{validate_name(run_id, 'run id')}"


def dataset_meta_key(data_key: str) -> str:
    return data_key.rsplit("/", 1)[0] + f"/{META_FILE}"


DATASET_KEY_FORM = f"{DATASETS}/<name>/<sha256[:16]>/{DATA_FILE}"
_DATASET_KEY = re.compile(
    rf"^{DATASETS}/[A-Za-z0-9][A-Za-z0-9._-]{{0,127}}/[0-9a-f]{{16}}/{re.escape(DATA_FILE)}$"
)


def is_dataset_key(key: str) -> bool:
    """Whether ``key`` has the form of a dataset's data key (see :func:`dataset_key`)."""
    return bool(_DATASET_KEY.match(key))


def model_prefix(model_name: str) -> str:
    return f"{MODELS}/{validate_name(model_name, 'model name')}/"


def model_version_prefix(model_name: str, version: str) -> str:
    return f"{model_prefix(model_name)}versions/{validate_name(version, 'model version')}/"


def model_profile_key(model_name: str, version: str) -> str:
    """The drift suite's reference profile of a model version's training data."""
    return model_version_prefix(model_name, version) + PROFILE_FILE


def model_claim_key(model_name: str, version: str) -> str:
    return f"{model_prefix(model_name)}claims/{validate_name(version, 'model version')}"


def experience_key(model_name: str, version: str, batch: str, run_id: str, task: str) -> str:
    """Predictions with actuals of one model version on one batch, by one run's task."""
    return (
        f"{EXPERIENCES}/{validate_name(model_name, 'model name')}/"
        f"{validate_name(version, 'model version')}/{validate_name(batch, 'batch id')}/"
        f"{validate_name(run_id, 'run id')}/{validate_name(task, 'task name')}.parquet"
    )


def run_of_experience(key: str) -> str:
    """The run id an experience key names (see :func:`experience_key`)."""
    return key.split("/")[4]


def record_key(prefix: str, run_id: str, task: str, index: int) -> str:
    """A history record: under its run, so a second attempt of the task overwrites it."""
    return (
        f"{prefix}/{validate_name(run_id, 'run id')}/"
        f"{validate_name(task, 'task name')}-{index:03d}.json"
    )


def commit_key(seq: int) -> str:
    """The commit log: zero-padded, so the keys sort in commit order."""
    return f"{COMMITS}/{seq:012d}.json"


def run_marker_key(run_id: str) -> str:
    """Created by a run's first write; its owner tells whether a local run's process died."""
    return f"{RUNS}/{validate_name(run_id, 'run id')}.json"


def task_results_prefix(run_id: str) -> str:
    return f"{TASK_RESULTS}/{validate_name(run_id, 'run id')}/"


def task_result_key(run_id: str, task: str) -> str:
    """A task's outputs, its last write: a second attempt returns them instead of rerunning."""
    return f"{task_results_prefix(run_id)}{validate_name(task, 'task name')}.json"


def prediction_log_prefix(model_name: str, version: str | None = None) -> str:
    """The served predictions of a model (of one version when given): ``lifecycle serve``
    writes one Parquet object per flush and version under it."""
    prefix = f"{PREDICTIONS}/served/{validate_name(model_name, 'model name')}/"
    return prefix + (f"{validate_name(version, 'model version')}/" if version else "")


def prediction_log_key(model_name: str, version: str, name: str) -> str:
    """One flush of the prediction log:
    ``predictions/served/<model>/<version>/<time>-<id>.parquet``."""
    return prediction_log_prefix(model_name, version) + validate_name(name, "object name")


def batch_predictions_prefix(model_name: str, version: str, batch: str) -> str:
    """One batch-scoring run's predictions: numbered Parquet parts, then its manifest."""
    return (
        f"{PREDICTIONS}/batch/{validate_name(model_name, 'model name')}/"
        f"{validate_name(version, 'model version')}/{validate_name(batch, 'batch id')}/"
    )


def stamped_name(stamp: str, suffix: str) -> str:
    """A unique object name that sorts by time: the stamp made key-safe, a random part, a suffix
    (the prediction log's flushes, batch-scoring runs)."""
    return f"{stamp.replace(':', '').replace('+', 'Z')}-{uuid.uuid4().hex[:12]}{suffix}"
