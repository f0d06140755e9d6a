"""Model registry and append-only histories on the local store."""

from __future__ import annotations

import json
import threading

import pytest
from sklearn.linear_model import LinearRegression

from lifecycle import keys
from lifecycle.errors import IntegrityError, InvalidInputError, ModelNotFoundError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry
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
    registry = ModelRegistry(store, "m")
    versions = [registry.register(_fitted(), **METADATA).version for _ in range(12)]
    assert versions[:3] == ["1.0", "1.1", "1.2"] and versions[-1] == "1.11"
    assert registry.versions() == versions


def test_concurrent_registrations_never_share_a_version(store):
    registry = ModelRegistry(store, "m")
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(registry.register(_fitted(), **METADATA).version)
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda v: int(v.split(".")[1])) == [f"1.{i}" for i in range(8)]


def test_production_alias_moves_only_to_an_intact_version(store):
    registry = ModelRegistry(store, "m")
    first = registry.register(_fitted(), **METADATA).version
    registry.set_alias(first)
    assert registry.resolve("production") == first
    second = registry.register(_fitted(), **METADATA).version
    store.put_bytes(keys.model_version_prefix("m", second) + keys.MODEL_FILE, b"not a model")
    with pytest.raises(IntegrityError, match="refusing to load"):
        registry.set_alias(second)
    assert registry.alias() == first


def test_a_tampered_artifact_is_never_unpickled(store, monkeypatch):
    registry = ModelRegistry(store, "m")
    version = registry.register(_fitted(), **METADATA).version
    store.put_bytes(keys.model_version_prefix("m", version) + keys.MODEL_FILE, b"cos\nsystem\n.")
    monkeypatch.setattr("pickle.loads", lambda *_: pytest.fail("unpickled a tampered artifact"))
    with pytest.raises(IntegrityError, match="sha256"):
        registry.load_artifact(version)


def test_unknown_versions_and_aliases(store):
    registry = ModelRegistry(store, "m")
    with pytest.raises(ModelNotFoundError, match="no 'production' version"):
        registry.resolve("production")
    with pytest.raises(ModelNotFoundError, match="no version '3.0'"):
        registry.resolve("3.0")
    with pytest.raises(ModelNotFoundError, match="MAJOR.MINOR"):
        registry.get("latest.best")


def test_evaluation_history_keeps_every_concurrent_append_and_its_view(store):
    log = evaluation_log(store)

    def writer(worker: int) -> None:
        for i in range(25):
            log.append(
                [
                    {
                        "time_stamp": f"2026-01-01T00:00:{i:02d}.{worker:06d}+00:00",
                        "version": "1.0",
                        "batch": f"b{worker}",
                        "metric": "RMSE",
                        "score": float(i),
                    }
                ]
            )

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.records()) == 200
    view = store.get_bytes(keys.EVALUATION_VIEW).decode().splitlines()
    assert view[0] == "time_stamp,version,batch,metric,score" and len(view) == 201


def test_store_keys_cannot_escape_the_store(store):
    for key in ["../x", "/etc/passwd", "a//b", "a/./b", "a/../../b", "", "a/ b"]:
        with pytest.raises(InvalidInputError):
            store.put_bytes(key, b"x")
    assert store.list_keys() == []


def test_records_are_json_objects(store):
    evaluation_log(store).append(
        [{"time_stamp": "t", "version": "1.0", "batch": "b", "metric": "r2", "score": 1.0}]
    )
    (key,) = evaluation_log(store).keys()
    assert json.loads(store.get_bytes(key))["metric"] == "r2"
