"""100 monitoring runs in a row on the local runner: no leaked files, no leftover temporary
folders, and a consistent store (every record kept, views equal to records)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from lifecycle.config import DriftConfig, LifecycleConfig
from lifecycle.consistency import verify_store
from lifecycle.history import decision_log, evaluation_log
from lifecycle.store import LocalStore
from pipelines.local import run_monitoring, run_training
from tests.helpers import COURSE

pytestmark = pytest.mark.e2e

RUNS = 100
# Every test runs and every decision is logged, but the signal never fires: the soak
# measures the monitoring path itself, 4 tasks per run.
CONFIG = LifecycleConfig(drift=DriftConfig(data_tests=(), policy="at_least", at_least=99))


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def our_temp_folders() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("lifecycle-")}


def test_a_hundred_monitoring_runs_in_a_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # KFP must leave nothing in the working folder either
    store = LocalStore(tmp_path / "store")
    run_training(str(COURSE / "data_init.csv"), str(COURSE / "data_test.csv"), store.uri, CONFIG)
    run_monitoring(str(COURSE / "batch_1.csv"), "soak_warmup", store.uri, CONFIG)
    files, temp_folders = open_files(), our_temp_folders()
    for run in range(RUNS):
        run_monitoring(str(COURSE / f"batch_{run % 6 + 1}.csv"), f"soak_{run:03d}", store.uri, CONFIG)
    assert open_files() <= files
    assert our_temp_folders() <= temp_folders
    assert sorted(os.listdir(tmp_path)) == ["store"]
    evaluations = evaluation_log(store).records()
    assert len(evaluations) == 3 * (1 + 1 + RUNS)
    drift_decisions = [d for d in decision_log(store).records() if d["kind"] == "drift"]
    assert len(drift_decisions) == 1 + RUNS and not any(d["decision"] == "retrain" for d in drift_decisions)
    assert verify_store(store) == []
    assert not list(Path(store.uri).rglob(".tmp-*"))
