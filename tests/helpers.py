"""Small builders shared by the tests."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest

from lifecycle.config import LifecycleConfig
from lifecycle.datasets import DatasetRef
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.store import LocalStore, Store

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "pipelines" / "scenarios" / "course"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def committed(store: Store, work: Callable[[Any], T], config: LifecycleConfig | None = None) -> T:
    """``work(transaction)`` in a run of its own, committed when it returns: a stage as the
    command line runs it (``transaction.run`` is the run to pass to the stage)."""
    from components.finalize.logic import standalone_run

    with standalone_run(store, config or LifecycleConfig(), "stage") as transaction:
        return work(transaction)


def course_model_in_production(store: Store) -> tuple[ModelVersion, DatasetRef, DatasetRef]:
    """Train the course's model 1.0 on data_init, score it on data_test, make it production:
    the training pipeline's stages called in one committed run."""
    from components.evaluate.logic import evaluate
    from components.finalize.logic import promotion_contribution, standalone_run
    from components.ingest.logic import ingest
    from components.promote.logic import promote
    from components.train.logic import train

    config = LifecycleConfig()
    with standalone_run(store, config, "setup") as tx:
        training = ingest(
            store, str(COURSE / "data_init.csv"), "data_init", config.schema, tx.task("ingest")
        )
        test = ingest(
            store, str(COURSE / "data_test.csv"), "data_test", config.schema, tx.task("ingest-2")
        )
        model, _ = train(store, config, [training.key], test.key, None, tx.task("train"))
        tx.contribute({"registered": [model.version]})
        evaluate(store, config, model.version, test.key, "test", "test", tx.task("evaluate"))
        decided = promote(store, config, model.version, "", test.key, "test", tx.task("promote"))
        tx.contribute(promotion_contribution(decided))
    return ModelRegistry(store, config.model.name).get(model.version), training, test


@cache
def docs_results() -> Any:
    """``docs/results.py`` (not a package) as a module: the committed run's facts, the text and
    pictures drawn from them."""
    spec = importlib.util.spec_from_file_location("docs_results", ROOT / "docs" / "results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same_facts(fresh: Any, committed: Any) -> None:
    """Equal run facts (``docs_results().run_facts``), floats within the 6 digits
    ``results.json`` keeps."""
    if isinstance(fresh, dict):
        assert fresh.keys() == committed.keys()
        for key in fresh:
            assert_same_facts(fresh[key], committed[key])
    elif isinstance(fresh, list):
        assert len(fresh) == len(committed)
        for a, b in zip(fresh, committed, strict=True):
            assert_same_facts(a, b)
    elif isinstance(fresh, float):
        assert fresh == pytest.approx(committed, abs=2e-6)
    else:
        assert fresh == committed


def assert_docs_quote(store: Store) -> None:
    """The finished course scenario in ``store`` gives the numbers docs/ quotes."""
    results = docs_results()
    fresh = results.run_facts(store, LifecycleConfig())
    # Through JSON, as the committed facts were written: tuples as lists.
    assert_same_facts(json.loads(json.dumps(fresh)), results.read_facts())
