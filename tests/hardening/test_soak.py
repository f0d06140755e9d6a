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

# Minutes long: `make soak` runs it, not `make test`.
pytestmark = [pytest.mark.e2e, pytest.mark.soak]

RUNS = 100
# Every test runs and every decision is logged, but the signal never fires (it follows only
# a fixed threshold no RMSE reaches; a policy that cannot fire at all is refused): the soak
# measures the monitoring path itself, 4 tasks per run.
CONFIG = LifecycleConfig(
    drift=DriftConfig(
        data_tests=(),
        history_tests=("hard", "param", "iqr", "fixed"),
        fixed_thresholds={"RMSE": 1e9},
        policy="subset",
        subset=("fixed_test_RMSE",),
    )
)


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_hundred_monitoring_runs_in_a_row(tmp_path, monkeypatch):
    # A private temporary folder, for this process and the task processes it starts, so that
    # whatever the runs leave behind is theirs alone.
    private_temp = tmp_path / "tmp"
    private_temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_temp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_temp))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # KFP must leave nothing in the working folder either
    store = LocalStore(tmp_path / "store")
    run_training(str(COURSE / "data_init.csv"), str(COURSE / "data_test.csv"), store.uri, CONFIG)
    run_monitoring(str(COURSE / "batch_1.csv"), "soak_warmup", store.uri, CONFIG)
    files, temp_entries = open_files(), set(os.listdir(private_temp))
    for run in range(RUNS):
        # Forced: the six batches come round again for the same production version, which
        # batch identity would otherwise skip.
        run_monitoring(
            str(COURSE / f"batch_{run % 6 + 1}.csv"),
            f"soak_{run:03d}",
            store.uri,
            CONFIG,
            force=True,
        )
    assert open_files() <= files
    assert set(os.listdir(private_temp)) <= temp_entries
    assert os.listdir(work) == []
    evaluations = evaluation_log(store).records()
    assert len(evaluations) == 3 * (1 + 1 + RUNS)
    drift_decisions = [d for d in decision_log(store).records() if d["kind"] == "drift"]
    assert len(drift_decisions) == 1 + RUNS and not any(
        d["decision"] == "retrain" for d in drift_decisions
    )
    assert verify_store(store) == []
    assert not list(Path(store.uri).rglob(".tmp-*"))
