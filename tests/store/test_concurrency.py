"""Histories and the registry under concurrency, on both backends (``any_store``)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from lifecycle import keys
from lifecycle.errors import IntegrityError, ModelNotFoundError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.store import Store, open_store
from tests.store.writers import append_many, record

WRITERS = 8
APPENDS = 100


def _view_rows(store: Store) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(store.get_bytes(keys.EVALUATION_VIEW).decode())))


def _assert_history_complete(store: Store, writers: int, count: int) -> None:
    expected = {(f"w{w}", float(i)) for w in range(writers) for i in range(count)}
    records = evaluation_log(open_store(store.uri)).records()  # a fresh reader, no cache
    assert len(records) == writers * count
    assert {(r["batch"], r["score"]) for r in records} == expected
    rows = _view_rows(store)
    assert len(rows) == writers * count
    assert {(row["batch"], float(row["score"])) for row in rows} == expected


def test_8_threads_appending_100_records_each_lose_nothing(any_store: Store) -> None:
    log = evaluation_log(any_store)

    def write(writer: int) -> None:
        for index in range(APPENDS):
            log.append([record(writer, index)])

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    _assert_history_complete(any_store, WRITERS, APPENDS)


def test_writers_with_their_own_store_objects_lose_nothing(any_store: Store) -> None:
    """As separate components would: no shared cache of records."""
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(append_many, any_store.uri, w, 20) for w in range(WRITERS)]
        for future in futures:
            future.result()
    _assert_history_complete(any_store, WRITERS, 20)


def test_8_processes_appending_100_records_each_lose_nothing(any_store: Store) -> None:
    """As concurrent stages would: separate processes, each with its own store client."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [pool.submit(append_many, any_store.uri, w, APPENDS) for w in range(WRITERS)]
        for future in futures:
            future.result()
    _assert_history_complete(any_store, WRITERS, APPENDS)


def test_records_returns_copies_the_caller_may_change(any_store: Store) -> None:
    log = evaluation_log(any_store)
    log.append([record(0, 0)])
    log.records()[0]["score"] = -1.0
    assert log.records()[0]["score"] == 0.0


# -- the registry ----------------------------------------------------------------------------


def _model(slope: float = 2.0) -> LinearRegression:
    x = np.arange(6, dtype=float).reshape(-1, 1)
    return LinearRegression().fit(x, slope * x.ravel() + 1.0)


def _register(registry: ModelRegistry, slope: float = 2.0) -> ModelVersion:
    return registry.register(
        _model(slope),
        estimator="sklearn.linear_model.LinearRegression",
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    )


def test_concurrent_registrations_get_distinct_versions(any_store: Store) -> None:
    count = 8
    barrier = threading.Barrier(count)

    def register(index: int) -> str:
        registry = ModelRegistry(open_store(any_store.uri), "m")
        barrier.wait()
        return _register(registry, slope=float(index)).version

    with ThreadPoolExecutor(count) as pool:
        versions = list(pool.map(register, range(count)))
    assert len(set(versions)) == count
    registry = ModelRegistry(any_store, "m")
    assert sorted(registry.versions()) == sorted(versions)
    for version in versions:
        model, meta = registry.load_artifact(version)
        assert meta.version == version
        assert model.coef_.shape == (1,)


def test_alias_moves_only_to_a_version_whose_artifact_checks_out(any_store: Store) -> None:
    registry = ModelRegistry(any_store, "m")
    first = _register(registry).version
    second = _register(registry, slope=3.0).version
    registry.set_alias(first)
    assert registry.alias() == first

    any_store.delete(keys.model_version_prefix("m", second) + keys.MODEL_FILE)
    with pytest.raises(ModelNotFoundError, match="missing"):
        registry.set_alias(second)
    assert registry.alias() == first

    with pytest.raises(ModelNotFoundError):
        registry.set_alias("9.9")
    assert registry.alias() == first


UNPICKLED: list[str] = []


def _mark_unpickled() -> str:
    UNPICKLED.append("ran")
    return "tampered"


class _Tampered:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _mark_unpickled, ()


def test_a_tampered_artifact_is_refused_and_never_unpickled(any_store: Store) -> None:
    registry = ModelRegistry(any_store, "m")
    version = _register(registry).version
    registry.set_alias(version)
    any_store.put_bytes(
        keys.model_version_prefix("m", version) + keys.MODEL_FILE, pickle.dumps(_Tampered())
    )
    UNPICKLED.clear()
    with pytest.raises(IntegrityError, match="sha256"):
        registry.load_artifact(version)
    with pytest.raises(IntegrityError):
        registry.set_alias(version)
    assert UNPICKLED == []
    meta = json.loads(any_store.get_bytes(keys.model_version_prefix("m", version) + keys.META_FILE))
    assert meta["version"] == version
