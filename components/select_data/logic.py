"""Select-data stage: assemble the challenger's training set by the configured policy."""

from __future__ import annotations

import pandas as pd

from lifecycle.config import LifecycleConfig, RetrainConfig
from lifecycle.datasets import DatasetRef, read_dataset, write_dataset
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
    frame = pd.concat([read_dataset(store, key) for key in selected], ignore_index=True)
    return write_dataset(store, RETRAIN_DATASET, frame, " + ".join(selected), run)
