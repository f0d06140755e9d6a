"""Select-data stage: choose the challenger's training set by the configured policy.

The set is a list of stored datasets (the champion's training data and the batches monitored
since, or the last N batches), referenced, never copied: a model's ``training_datasets`` then
name the datasets themselves, so the next retraining selects from them again without a copy
of a copy, and a 1 GB batch is stored once.
"""

from __future__ import annotations

from lifecycle.config import LifecycleConfig, RetrainConfig
from lifecycle.datasets import DatasetRef, require_columns
from lifecycle.errors import InvalidInputError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.runs import RunContext
from lifecycle.store import Store


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
) -> list[DatasetRef]:
    """The retraining set for a successor of ``model_version``: the stored datasets it is made
    of, in order, referenced as they are (no row is copied; train reads each in turn).

    The batches are those of committed runs and of ``run`` itself (the batch it monitors).

    Raises:
        InvalidInputError: no dataset to retrain on, or one without a column of the first.
    """
    model = ModelRegistry(store, config.model.name, run.run_id).get(model_version)
    records = [
        r
        for r in evaluation_log(store).records(own_run=run.run_id)
        if r["model_name"] == model.name
    ]
    return referenced_datasets(store, select_keys(model, records, config.retrain))


def referenced_datasets(store: Store, dataset_keys: list[str]) -> list[DatasetRef]:
    """The metadata of the datasets at ``dataset_keys``, each of which has the first's columns
    (the values' types are checked where they are read, by train).

    Raises:
        InvalidInputError: no dataset, or one without a column of the first.
        KeyNotFoundError: no complete dataset at one of the keys.
    """
    if not dataset_keys:
        raise InvalidInputError("select_data: no dataset to retrain on")
    first = require_columns(store, dataset_keys[0], ())
    return [first] + [require_columns(store, key, first.columns) for key in dataset_keys[1:]]
