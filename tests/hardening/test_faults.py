"""Faults on both backends: a stage killed mid-write, and concurrent monitoring runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sklearn.linear_model import LinearRegression

from components.finalize.logic import Contributions, commit_run
from components.ingest.logic import ingest
from lifecycle.config import LifecycleConfig
from lifecycle.consistency import LAGGING_VIEW, verify_store
from lifecycle.history import decision_log, evaluation_log
from lifecycle.recovery import cleanup
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore, Store
from tests.helpers import COURSE, committed, course_model_in_production
from tests.store.writers import start_stage_writer


def assert_nothing_partial(store: Store) -> None:
    """Every object that counts is whole: records parse, datasets and models match their
    hashes, views hold committed records only. What the killed writer's open run wrote does
    not count (verify names it as not committed) until the next run rolls it back; a local
    folder may also hold the temporary file of a write cut short, and a view may lag behind
    a commit the writer made just before it was killed."""
    problems = [
        p
        for p in verify_store(store)
        if "not committed" not in p
        and not p.startswith("temporary object")
        and LAGGING_VIEW not in p
    ]
    assert problems == []


def test_sigkill_in_the_middle_of_writing_leaves_nothing_partial(any_store):
    store = any_store
    for delay in (0.0, 0.1, 0.2, 0.3, 0.45):
        writer = start_stage_writer(store.uri, COURSE, rounds=10_000)
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one round completed: writes are under way
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        assert_nothing_partial(store)
    rerun = start_stage_writer(store.uri, COURSE, rounds=2)
    assert rerun.wait(timeout=120) == 0
    # The rerun rolled back the killed runs (their process is gone); temporary files of cut
    # writes are cleanup's, after its grace period (none here).
    cleanup(store, grace_seconds=0)
    assert verify_store(store) == []
    registry = ModelRegistry(store, "course")
    assert registry.alias() == registry.versions()[-1]  # the rerun's last model


@pytest.mark.e2e
def test_two_monitoring_runs_at_once_keep_both_records_and_distinct_versions(any_store):
    root = any_store.uri
    lifecycle = [sys.executable, "-m", "cli"]
    trained = subprocess.run(
        [
            *lifecycle,
            "train",
            "--data",
            str(COURSE / "data_init.csv"),
            "--test",
            str(COURSE / "data_test.csv"),
            "--store",
            root,
        ],
        capture_output=True,
        text=True,
    )
    assert trained.returncode == 0, trained.stdout[-2000:]
    runs = [
        subprocess.Popen(
            [
                *lifecycle,
                "monitor",
                "--batch-file",
                str(COURSE / f"{batch}.csv"),
                "--batch-id",
                batch,
                "--store",
                root,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for batch in ("batch_1", "batch_2")
    ]
    for run in runs:
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output[-2000:]
    store = any_store
    monitored = {r["batch"] for r in evaluation_log(store).records() if r["role"] == "monitor"}
    assert monitored == {"batch_1", "batch_2"}
    registry = ModelRegistry(store, "course")
    assert registry.versions() == ["1.0", "1.1", "1.2"]  # one new version per retrain
    promotions = [d for d in decision_log(store).records() if d["kind"] == "promotion"]
    # Both challengers beat champion 1.0; exactly one replaced it. The other run either
    # started after that commit (its champion was the new version) or was told the
    # champion had changed.
    from_the_first_champion = [
        d for d in promotions if d["champion"] == "1.0" and d["decision"] == "promoted"
    ]
    assert len(from_the_first_champion) == 1, promotions
    assert registry.alias() in registry.versions()
    assert verify_store(store) == []


def test_verify_reports_a_tampered_dataset_a_missing_alias_and_leftovers(tmp_path):
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    ref = committed(
        store,
        lambda tx: ingest(
            store, str(COURSE / "batch_1.csv"), "batch_1", LifecycleConfig().schema, tx.run
        ),
    )
    store.put_bytes(ref.key, b"garbage")
    (store.root / "datasets" / ".tmp-0123abcd").write_bytes(b"half a write")
    evaluation_log(store).append([{"metric": "RMSE"}], RunContext("abandoned", "evaluate"))
    problems = verify_store(store)
    assert any("does not match its sha256" in p for p in problems)
    assert any(p.startswith("temporary object datasets/.tmp-0123abcd") for p in problems)
    assert any(p.startswith("run abandoned: not committed") for p in problems)

    other = LocalStore(tmp_path / "no-alias")
    model = ModelRegistry(other, "course", own_run="r").register(
        LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]),
        RunContext("r", "train"),
        estimator="sklearn.linear_model.LinearRegression",
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    )
    commit_run(
        other, LifecycleConfig(), RunContext("r", "finalize"), Contributions([model.version])
    )
    assert verify_store(other) == ["model course: versions 1.0 but no production alias"]
