"""Histories, commits and the registry under concurrency, on both backends (``any_store``).

Every write here is a run's and counts once the run commits: the tests race committing runs.
"""

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

from components.finalize.logic import Contributions, commit_run
from lifecycle import keys
from lifecycle.commits import CommitLog
from lifecycle.config import LifecycleConfig, ModelConfig
from lifecycle.errors import IntegrityError
from lifecycle.history import decision_log, evaluation_log
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.runs import RunContext, new_run_id
from lifecycle.store import Store, open_store
from tests.store.writers import append_many, committed_append, record

WRITERS = 8
RUNS = 25  # per writer: 200 runs racing for the commit log


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


def _assert_commits_dense(store: Store, runs: int) -> None:
    """One commit per run, numbered 1..n without a gap or a duplicate."""
    entries = CommitLog(open_store(store.uri)).entries()
    assert [entry.seq for entry in entries] == list(range(1, runs + 1))
    assert len({entry.run_id for entry in entries}) == runs


def test_8_threads_committing_25_runs_each_lose_nothing(any_store: Store) -> None:
    def write(writer: int) -> None:
        for index in range(RUNS):
            committed_append(any_store, [record(writer, index)], f"w{writer}-{index}")

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    _assert_history_complete(any_store, WRITERS, RUNS)
    _assert_commits_dense(any_store, WRITERS * RUNS)


def test_writers_with_their_own_store_objects_lose_nothing(any_store: Store) -> None:
    """As separate components would: no shared cache of records."""
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(append_many, any_store.uri, w, 10) for w in range(WRITERS)]
        for future in futures:
            future.result()
    _assert_history_complete(any_store, WRITERS, 10)


def test_8_processes_committing_25_runs_each_lose_nothing(any_store: Store) -> None:
    """As concurrent pipeline runs would: separate processes, each with its own store client."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [pool.submit(append_many, any_store.uri, w, RUNS) for w in range(WRITERS)]
        for future in futures:
            future.result()
    _assert_history_complete(any_store, WRITERS, RUNS)
    _assert_commits_dense(any_store, WRITERS * RUNS)


def test_records_returns_copies_the_caller_may_change(any_store: Store) -> None:
    log = evaluation_log(any_store)
    committed_append(any_store, [record(0, 0)], "run-0")
    log.records()[0]["score"] = -1.0
    assert log.records()[0]["score"] == 0.0


def test_uncommitted_records_count_only_for_their_own_run(any_store: Store) -> None:
    log = evaluation_log(any_store)
    committed_append(any_store, [record(0, 0)], "committed")
    log.append([record(1, 0)], RunContext("in-flight", "evaluate"))
    assert [r["batch"] for r in log.records()] == ["w0"]
    assert [r["batch"] for r in log.records(own_run="in-flight")] == ["w0", "w1"]
    assert [row["batch"] for row in _view_rows(any_store)] == ["w0"]


# -- the registry ----------------------------------------------------------------------------


def _model(slope: float = 2.0) -> LinearRegression:
    x = np.arange(6, dtype=float).reshape(-1, 1)
    return LinearRegression().fit(x, slope * x.ravel() + 1.0)


def _register(registry: ModelRegistry, slope: float = 2.0, run_id: str = "") -> ModelVersion:
    """Register a model in a run of its own and commit the run."""
    run = RunContext(run_id or new_run_id(), "train")
    model = registry.register(
        _model(slope),
        run,
        estimator="sklearn.linear_model.LinearRegression",
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    )
    commit_run(registry.store, LifecycleConfig(), run, Contributions(registered=[model.version]))
    return model


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


def test_promotion_is_a_compare_and_swap_on_the_champion(any_store: Store) -> None:
    """Two runs decided to replace champion 1.0: the first to commit does, the other is told
    the champion changed; a third that lost its comparison keeps the champion."""
    registry = ModelRegistry(any_store, "course")
    champion = _register(registry).version
    config = LifecycleConfig()

    def intent(challenger: str, wins: bool) -> dict[str, Any]:
        return {
            "challenger": challenger,
            "champion": champion,
            "wins": wins,
            "reason": f"{challenger} compared with {champion}",
            "metric": "RMSE",
            "challenger_score": 1.0,
            "champion_score": 2.0,
            "batch": "b",
        }

    first = _register_uncommitted(registry, "first")
    second = _register_uncommitted(registry, "second")
    assert registry.alias() is None
    # The very first commit promoted nothing: make the champion production first.
    commit_run(any_store, config, RunContext("seed", "promote"), _promotion(champion, None))
    assert registry.alias() == champion
    outcome_first = commit_run(
        any_store, config, RunContext("first", "finalize"), _registered(first, intent(first, True))
    )
    outcome_second = commit_run(
        any_store,
        config,
        RunContext("second", "finalize"),
        _registered(second, intent(second, True)),
    )
    assert outcome_first.promotion["decision"] == "promoted"
    assert outcome_second.promotion["decision"] == "champion changed, not promoted"
    assert "production is now " + first in outcome_second.promotion["reason"]
    assert registry.alias() == first
    decisions = [d["decision"] for d in decision_log(any_store).records()]
    assert decisions == ["promoted", "promoted", "champion changed, not promoted"]


def _register_uncommitted(registry: ModelRegistry, run_id: str) -> str:
    return registry.register(
        _model(),
        RunContext(run_id, "train"),
        estimator="sklearn.linear_model.LinearRegression",
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    ).version


def _promotion(challenger: str, champion: str | None) -> Contributions:
    return Contributions(
        promotion={
            "challenger": challenger,
            "champion": champion,
            "wins": True,
            "reason": "no production model yet",
            "metric": "RMSE",
            "challenger_score": 1.0,
            "champion_score": None,
            "batch": "b",
        }
    )


def _registered(version: str, promotion: dict[str, Any]) -> Contributions:
    return Contributions(registered=[version], promotion=promotion)


def test_production_never_names_a_version_whose_artifact_does_not_check_out(
    any_store: Store,
) -> None:
    registry = ModelRegistry(any_store, "m")
    version = _register_uncommitted(registry, "tampered-run")
    any_store.put_bytes(keys.model_version_prefix("m", version) + keys.MODEL_FILE, b"garbage")
    config = LifecycleConfig(model=ModelConfig(name="m"))
    with pytest.raises(IntegrityError, match="sha256"):
        commit_run(
            any_store, config, RunContext("tampered-run", "finalize"), _promotion(version, None)
        )
    assert registry.alias() is None and CommitLog(any_store).head() is None


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
    any_store.put_bytes(
        keys.model_version_prefix("m", version) + keys.MODEL_FILE, pickle.dumps(_Tampered())
    )
    UNPICKLED.clear()
    with pytest.raises(IntegrityError, match="sha256"):
        registry.load_artifact(version)
    assert UNPICKLED == []
    meta = json.loads(any_store.get_bytes(keys.model_version_prefix("m", version) + keys.META_FILE))
    assert meta["version"] == version
