"""Monitoring runs as transactions, end to end with the real command on both backends.

A run killed with SIGKILL at any task boundary, stopped with SIGTERM, repeated on the same
batch or given another batch under a known id leaves the history, the views and the registry
as they were; a rerun's results equal those of a run that was never interrupted.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from lifecycle.commits import CommitLog
from lifecycle.config import DriftConfig, LifecycleConfig
from lifecycle.history import all_logs
from lifecycle.recovery import uncommitted_runs
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store, open_store
from pipelines.local import run_monitoring
from pipelines.summary import batch_outcomes
from tests.helpers import COURSE, store_listing

pytestmark = pytest.mark.e2e

LIFECYCLE = [sys.executable, "-m", "cli"]
FINISHED = re.compile(r"Task '([\w-]+)' finished with status SUCCESS")
# The drift path of batch_1's monitoring run, in the order its tasks finish.
BOUNDARIES = [
    "validate",
    "ingest",
    "evaluate",
    "detect-drift",
    "select-data",
    "train",
    "evaluate-2",
    "promote",
]


def _train(uri: str) -> None:
    done = subprocess.run(
        [
            *LIFECYCLE,
            "train",
            "--data",
            str(COURSE / "data_init.csv"),
            "--test",
            str(COURSE / "data_test.csv"),
            "--store",
            uri,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def _monitor(
    uri: str, batch: str = "batch_1", batch_id: str | None = None, **popen
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *LIFECYCLE,
            "monitor",
            "--batch-file",
            str(COURSE / f"{batch}.csv"),
            "--batch-id",
            batch_id or batch,
            "--store",
            uri,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def _wait_for_tasks(run: subprocess.Popen, count: int) -> list[str]:
    """Read the run's log until ``count`` tasks have finished; their names."""
    finished: list[str] = []
    assert run.stdout is not None
    while len(finished) < count:
        line = run.stdout.readline()
        assert line, f"the run ended after {finished}"
        if match := FINISHED.search(line):
            finished.append(match.group(1))
    return finished


def _session(sid: int) -> list[int]:
    """Every live process of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _kill_session(sid: int) -> None:
    """SIGKILL every process of a session, as a crash would, until none is left (a process
    forked while the others were being killed is killed on the next round)."""
    deadline = time.monotonic() + 20
    while alive := _session(sid):
        assert time.monotonic() < deadline, f"processes of the run still alive: {alive}"
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _wait_for_session_end(sid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while _session(sid):
        assert time.monotonic() < deadline, f"processes of the run still alive: {_session(sid)}"
        time.sleep(0.05)


def _counted(store: Store) -> dict:
    """Everything readers count: committed records, the views, the registry, the commits."""
    fresh = open_store(store.uri)
    registry = ModelRegistry(fresh, "course")
    return {
        "records": [log.records() for log in all_logs(fresh)],
        "views": {log.view_key: _read(fresh, log.view_key) for log in all_logs(fresh)},
        "versions": registry.versions(),
        "production": registry.alias(),
        "commits": [asdict(entry) for entry in CommitLog(fresh).entries()],
    }


def _read(store: Store, key: str) -> bytes | None:
    return store.get_bytes(key) if store.exists(key) else None


def _outcome(store: Store) -> dict:
    """A run's results without what differs between any two runs (ids, times)."""
    fresh = open_store(store.uri)
    rows = [
        {k: v for k, v in asdict(o).items() if k != "run_id"}
        for o in batch_outcomes(fresh, "course")
    ]
    records = sorted(
        (r["version"], r["batch"], r["role"], r["metric"], r["score"])
        for r in all_logs(fresh)[0].records()
    )
    registry = ModelRegistry(fresh, "course")
    return {
        "rows": rows,
        "records": records,
        "versions": registry.versions(),
        "alias": registry.alias(),
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """batch_1 monitored once, without interruption: what every rerun must equal."""
    uri = str(tmp_path_factory.mktemp("reference") / "store")
    _train(uri)
    run = _monitor(uri)
    output, _ = run.communicate(timeout=900)
    assert run.returncode == 0, output[-3000:]
    return _outcome(open_store(uri))


# Every boundary once, on alternate backends: each sees an early and a late kill, and a run
# killed after task k costs k tasks (all eight on one backend would cost 36).
@pytest.mark.parametrize(
    "boundaries",
    [
        pytest.param(BOUNDARIES[0::2], id="local"),
        pytest.param(BOUNDARIES[1::2], id="minio"),
    ],
)
def test_sigkill_at_each_task_boundary_changes_nothing_counted(
    boundaries, uninterrupted, tmp_path, request
):
    if request.node.callspec.id == "minio":
        store = open_store(request.getfixturevalue("minio_store_uri"))
    else:
        store = open_store(str(tmp_path / "store"))
    _train(store.uri)
    before = _counted(store)
    for boundary in boundaries:
        run = _monitor(store.uri, start_new_session=True)
        _wait_for_tasks(run, BOUNDARIES.index(boundary) + 1)
        _kill_session(run.pid)
        run.wait()
        assert _counted(store) == before, f"killed after {boundary}"
        assert uncommitted_runs(store), "the killed run left nothing to roll back?"
    rerun = _monitor(store.uri)
    output, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, output[-3000:]
    assert "rolled back run" in output  # the dead run, by the rerun, before it started
    assert _outcome(store) == uninterrupted
    assert uncommitted_runs(store) == []


def test_sigkill_of_the_command_alone_stops_its_tasks_too(tmp_path):
    uri = str(tmp_path / "store")
    _train(uri)
    store = open_store(uri)
    run = _monitor(uri, start_new_session=True)
    _wait_for_tasks(run, 3)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    _wait_for_session_end(run.pid, timeout=10)  # the watchdog ended the child's group
    after_exit = store_listing(store)
    time.sleep(2)
    assert store_listing(store) == after_exit, "a task wrote after the command was killed"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_the_run_and_undo_it(signum, code, tmp_path):
    uri = str(tmp_path / "store")
    _train(uri)
    store = open_store(uri)
    before, listing = _counted(store), store_listing(store)
    temp = tmp_path / "tmp"
    temp.mkdir()
    run = _monitor(uri, env={**os.environ, "TMPDIR": str(temp)}, start_new_session=True)
    _wait_for_tasks(run, 4)
    run.send_signal(signum)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == code, output[-2000:]
    assert "interrupted" in output
    after_exit = store_listing(store)
    assert not _session(run.pid), "a process of the run outlived the command"
    time.sleep(2)
    assert store_listing(store) == after_exit, "something was written after the command exited"
    assert _counted(store) == before and uncommitted_runs(store) == []
    assert after_exit == listing, "the store is not exactly as before the run"
    assert list(temp.iterdir()) == [], "temporary folders were left behind"


def test_the_same_batch_twice_is_monitored_once(tmp_path):
    uri = str(tmp_path / "store")
    _train(uri)
    store = open_store(uri)
    first = _monitor(uri)
    output, _ = first.communicate(timeout=900)
    assert first.returncode == 0, output[-3000:]
    # Retrained and promoted: for the new production version the batch is new once more.
    again = _monitor(uri, batch_id="batch_1_again")
    output, _ = again.communicate(timeout=900)
    assert again.returncode == 0, output[-3000:]
    before = store_listing(store)
    production = ModelRegistry(store, "course").alias()
    third = _monitor(uri, batch_id="yet_another_id")
    output, _ = third.communicate(timeout=300)
    assert third.returncode == 0, output
    assert f"already monitored for production {production}" in output
    assert store_listing(store) == before  # nothing written

    other = _monitor(uri, batch="batch_2", batch_id="batch_1")
    output, _ = other.communicate(timeout=300)
    assert other.returncode == 2, output
    (line,) = [line for line in output.splitlines() if line.startswith("error: ")]
    assert "batch id 'batch_1'" in line and line.count("sha256") == 2
    assert store_listing(store) == before


def test_the_pipeline_itself_skips_a_known_batch(tmp_path):
    """Past the command's own check (as a cluster run is), validate's answer skips the batch:
    the run commits nothing and leaves the store as it was."""
    uri = str(tmp_path / "store")
    _train(uri)
    store = open_store(uri)
    # No test can fire, so production stays 1.0 and the batch stays known for it.
    quiet = LifecycleConfig(
        drift=DriftConfig(
            history_tests=("fixed",), fixed_thresholds={"RMSE": 1e9, "r2": -1e9}, data_tests=()
        )
    )
    assert run_monitoring(str(COURSE / "batch_4.csv"), "batch_4", uri, quiet).commit
    before = store_listing(store)
    skipped = run_monitoring(str(COURSE / "batch_4.csv"), "renamed", uri, quiet)
    assert skipped.commit is None and store_listing(store) == before
    assert ModelRegistry(store, "course").alias() == "1.0"
