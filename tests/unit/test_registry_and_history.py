"""Model registry and append-only histories: version numbering, lookups, record format.

Concurrency, aliases and tampering are tested on both backends in tests/store/.
"""

from __future__ import annotations

import json

import pytest
from sklearn.linear_model import LinearRegression

from lifecycle.errors import ModelNotFoundError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore

METADATA = dict(
    estimator="sklearn.linear_model.LinearRegression",
    params={},
    features=["x"],
    target="y",
    training_datasets=[],
)


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _fitted() -> LinearRegression:
    return LinearRegression().fit([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.1])


def test_versions_start_at_1_0_and_increment_the_minor(store):
    run = RunContext("run-1", "train")
    registry = ModelRegistry(store, "m", own_run=run.run_id)
    versions = [
        registry.register(_fitted(), RunContext(run.run_id, f"train-{i}"), **METADATA).version
        for i in range(12)
    ]
    assert versions[:3] == ["1.0", "1.1", "1.2"] and versions[-1] == "1.11"
    assert registry.versions() == versions
    # Not committed: no other reader counts them.
    assert ModelRegistry(store, "m").versions() == []


def test_a_second_attempt_of_a_task_reuses_its_version_number(store):
    registry = ModelRegistry(store, "m", own_run="run-1")
    first = registry.register(_fitted(), RunContext("run-1", "train"), **METADATA)
    again = registry.register(_fitted(), RunContext("run-1", "train"), **METADATA)
    other = registry.register(_fitted(), RunContext("run-2", "train"), **METADATA)
    assert (first.version, again.version, other.version) == ("1.0", "1.0", "1.1")


def test_unknown_versions_and_aliases(store):
    registry = ModelRegistry(store, "m")
    with pytest.raises(ModelNotFoundError, match="no 'production' version"):
        registry.resolve("production")
    with pytest.raises(ModelNotFoundError, match="no version '3.0'"):
        registry.resolve("3.0")
    with pytest.raises(ModelNotFoundError, match="MAJOR.MINOR"):
        registry.get("latest.best")


def test_records_are_json_objects_under_their_run(store):
    evaluation_log(store).append(
        [{"time_stamp": "t", "version": "1.0", "batch": "b", "metric": "r2", "score": 1.0}],
        RunContext("run-1", "evaluate"),
    )
    (key,) = evaluation_log(store).keys()
    assert key == "evaluation/records/run-1/evaluate-000.json"
    record = json.loads(store.get_bytes(key))
    assert (record["metric"], record["run_id"], record["task"]) == ("r2", "run-1", "evaluate")
