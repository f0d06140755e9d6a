"""The reference profile of a model version in the store: written at training, read by monitoring.

Columns profiled: the schema's features and target, and the model's predictions on its
own training data (column :data:`PREDICTION_COLUMN`), so a monitoring run compares the
batch's predictions with the training-time ones without re-reading the training data.

On a local-folder store the profile file is memory-mapped: a run holds the pages of the
column under test only (:meth:`ReferenceProfile.release` drops them after). On another
store (MinIO) the profile's bytes are read whole and viewed in place, so the whole profile
is in memory for the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.detect_drift.suite.columns import FrameColumns, Kind
from components.detect_drift.suite.profile import ReferenceProfile, profile_bytes, read_profile
from lifecycle import keys
from lifecycle.config import PREDICTION_COLUMN as PREDICTION_COLUMN  # re-exported
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import ParquetSource
from lifecycle.errors import KeyNotFoundError
from lifecycle.store import Store


def prediction_column(config: LifecycleConfig) -> str:
    """The predictions' column name: ``prediction`` unless the schema already uses it."""
    return config.schema.prediction_column


def profiled_columns(config: LifecycleConfig) -> tuple[dict[str, Kind], dict[str, str]]:
    """Kinds and roles of the profiled columns: features, target, then predictions."""
    kinds: dict[str, Kind] = {column.name: column.kind for column in config.schema.features}
    roles = dict.fromkeys(kinds, "feature")
    kinds[config.schema.target.name] = config.schema.target.kind
    roles[config.schema.target.name] = "target"
    kinds[prediction_column(config)] = "numeric"
    roles[prediction_column(config)] = "prediction"
    return kinds, roles


def frame_profile_bytes(config: LifecycleConfig, frame: pd.DataFrame, estimator: Any) -> bytes:
    """Profile a training frame and the fitted estimator's predictions on it."""
    kinds, roles = profiled_columns(config)
    predictions = estimator.predict(frame[config.schema.feature_names])
    source = FrameColumns(frame, {prediction_column(config): predictions})
    return profile_bytes(source, kinds, roles, config.drift.psi_bins)


def write_files_profile(
    target: Path, config: LifecycleConfig, files: list[ParquetSource], estimator: Any
) -> None:
    """Profile a training set stored as Parquet files (its datasets, in order) and the fitted
    estimator's predictions on it into the file ``target``, one column at a time: memory
    holds one column (sorted in place), never the training set.

    Raises:
        ValueError: a numeric column has an infinite value (the message names it).
    """
    from components.detect_drift.suite.columns import ParquetFilesColumns, WithColumns
    from components.detect_drift.suite.profile import write_profile
    from components.evaluate.logic import predict_parquet

    table = ParquetFilesColumns(files)

    def predictions() -> np.ndarray:
        values = np.empty(table.num_rows, dtype=np.float64)
        done = 0
        features = config.schema.feature_names
        for file in files:
            done += predict_parquet(estimator, file, features, values[done:]).size
        return values[:done]

    kinds, roles = profiled_columns(config)
    source = WithColumns(table, {prediction_column(config): predictions})
    write_profile(target, source, kinds, roles, config.drift.psi_bins)


def load_reference_profile(
    store: Store, config: LifecycleConfig, version: str, own_run: str | None = None
) -> ReferenceProfile:
    """The stored profile of ``version`` (memory-mapped from a local store); a version
    registered without one (not by the train stage) gets one computed from its training data
    (and stored, so this happens once).

    Raises:
        ValueError: the stored object is not a profile.
    """
    key = keys.model_profile_key(config.model.name, version)
    path = store.local_path(key)
    if path is not None:
        try:
            return read_profile(path)
        except FileNotFoundError:  # deleted since: as if it had never been there
            pass
    try:
        return read_profile(store.get_bytes(key))
    except KeyNotFoundError:
        pass
    from lifecycle.datasets import read_dataset
    from lifecycle.registry import ModelRegistry

    estimator, model = ModelRegistry(store, config.model.name, own_run, config.model).load_artifact(
        version
    )
    frame = pd.concat([read_dataset(store, k) for k in model.training_keys], ignore_index=True)
    data = frame_profile_bytes(config, frame, estimator)
    store.put_if_absent(key, data)
    return read_profile(data)
