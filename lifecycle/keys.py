"""Every key of the store layout, in one place (documented in the README's "Store layout")."""

from __future__ import annotations

from lifecycle.store.base import validate_name

DATASETS = "datasets"
MODELS = "models"
EVALUATION_RECORDS = "evaluation/records"
DRIFT_RECORDS = "evaluation/drift"
DECISION_RECORDS = "logs/decisions"
EXPERIENCES = "experiences"
COMMITS = "commits"
RUNS = "runs"
TASK_RESULTS = "tasks"

EVALUATION_VIEW = "evaluation/model_eval.csv"
DRIFT_VIEW = "evaluation/model_drift.csv"
DECISION_VIEW = "logs/decisions.csv"

PRODUCTION_ALIAS = "production"

DATA_FILE = "data.parquet"
META_FILE = "meta.json"
MODEL_FILE = "model.pkl"
PROFILE_FILE = "profile.npz"


def dataset_prefix(name: str) -> str:
    return f"{DATASETS}/{validate_name(name, 'dataset name')}/"


def dataset_key(name: str, digest: str) -> str:
    """Datasets are content-addressed: re-ingesting the same data yields the same key."""
    return f"{dataset_prefix(name)}{digest[:16]}/{DATA_FILE}"


def dataset_meta_key(data_key: str) -> str:
    return data_key.rsplit("/", 1)[0] + f"/{META_FILE}"


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
