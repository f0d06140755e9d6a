"""Faults on both backends: a stage killed mid-write, and concurrent monitoring runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lifecycle.consistency import verify_store
from lifecycle.history import decision_log, evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore, Store
from tests.helpers import COURSE
from tests.store.writers import start_stage_writer


def assert_nothing_partial(store: Store) -> None:
    """Every visible object is whole: records parse, datasets and models match their hashes.

    A CSV view may lag behind its records (the writer died between the two); the next
    append brings it up to date, which the rerun below checks.
    """
    problems = [p for p in verify_store(store) if " rows for " not in p]
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
    assert verify_store(store) == []
    registry = ModelRegistry(store, "course")
    assert registry.alias() == registry.versions()[-1]  # the rerun's last model


@pytest.mark.e2e
def test_two_monitoring_runs_at_once_keep_both_records_and_distinct_versions(any_store):
    root = any_store.uri
    lifecycle = [sys.executable, "-m", "lifecycle.cli"]
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
    promoted = {d["version"] for d in promotions if d["decision"] == "promoted"}
    assert registry.alias() in promoted and registry.alias() in registry.versions()
    assert verify_store(store) == []


def test_verify_reports_a_tampered_dataset_and_a_dangling_alias(tmp_path):
    from components.ingest.logic import ingest
    from lifecycle import keys
    from lifecycle.config import LifecycleConfig

    store = LocalStore(tmp_path / "store")
    ref = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", LifecycleConfig().schema)
    store.put_bytes(ref.key, b"garbage")
    store.put_bytes(
        keys.model_alias_key("course", "production"), json.dumps({"version": "9.9"}).encode()
    )
    problems = verify_store(store)
    assert any("does not match its sha256" in p for p in problems)
    assert any("production names 9.9" in p for p in problems)
