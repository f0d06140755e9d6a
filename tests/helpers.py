"""Small builders shared by the tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from lifecycle.config import LifecycleConfig
from lifecycle.datasets import DatasetRef
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.store import LocalStore, Store

COURSE = Path(__file__).resolve().parent.parent / "pipelines" / "scenarios" / "course"


def course_frame(name: str) -> pd.DataFrame:
    """A course CSV (``data_init``, ``batch_3``, …) as a DataFrame."""
    return pd.read_csv(COURSE / f"{name}.csv")


def store_listing(store: Store) -> dict[str, str]:
    """Every key of a store with the sha256 of its object: compare before and after a failure.

    A local store's folder is walked whole, so a stray temporary file counts as a change too.
    """
    if isinstance(store, LocalStore):
        return {
            path.relative_to(store.root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(store.root.rglob("*"))
            if path.is_file()
        }
    listed = store.list_keys()
    return {
        key: hashlib.sha256(data).hexdigest()
        for key, data in zip(listed, store.get_many(listed), strict=True)
    }


def course_model_in_production(store: Store) -> tuple[ModelVersion, DatasetRef, DatasetRef]:
    """Train the course's model 1.0 on data_init, score it on data_test, make it production."""
    from components.evaluate.logic import evaluate
    from components.ingest.logic import ingest
    from components.train.logic import train

    config = LifecycleConfig()
    training = ingest(store, str(COURSE / "data_init.csv"), "data_init", config.schema)
    test = ingest(store, str(COURSE / "data_test.csv"), "data_test", config.schema)
    model, _ = train(store, config, [training.key], test.key)
    evaluate(store, config, model.version, test.key, "test", role="test")
    ModelRegistry(store, config.model.name).set_alias(model.version)
    return model, training, test
