"""Runs as transactions, stage by stage: idempotent tasks, commits, rollback, recovery, cleanup.

The KFP components are called as KFP calls them (their ``python_func`` with artifacts at local
paths), with a run id and task name of the test's choosing: a second call with the same ones is
what Argo's retry of a finished pod, or KFP's retry of a run, does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kfp.dsl import HTML, Dataset, Markdown, Metrics, Model

from components.detect_drift.component import detect_drift
from components.evaluate.component import evaluate
from components.evaluate.logic import evaluate as evaluate_logic
from components.finalize.component import finalize
from components.finalize.logic import (
    COMMITTED,
    ROLLED_BACK,
    SKIPPED,
    Contributions,
    commit_run,
    decide_at_commit,
)
from components.finalize.logic import finalize as finalize_logic
from components.ingest.component import ingest
from components.promote.component import promote
from components.select_data.component import select_data
from components.train.component import train
from components.validate.component import validate
from lifecycle import keys
from lifecycle.batches import batch_id_from_schedule, identify_batch, source_sha256
from lifecycle.commits import CommitLog
from lifecycle.config import LifecycleConfig
from lifecycle.errors import InvalidInputError, LifecycleError
from lifecycle.history import evaluation_log
from lifecycle.recovery import cleanup, recover_dead_local_runs, rollback, uncommitted_runs
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RUN_ID_ENV, RunContext, RunOwner, register_run
from lifecycle.store import LocalStore
from tests.helpers import COURSE, course_model_in_production, store_listing

CONFIG = LifecycleConfig()
CONFIG_JSON = CONFIG.to_json()
RUN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def store(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    monkeypatch.setenv("STORE", store.uri)
    monkeypatch.delenv(RUN_ID_ENV, raising=False)
    return store


@pytest.fixture
def trained(store):
    return course_model_in_production(store)


class Artifacts:
    """Fresh output artifacts for each call, at paths under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.count = 0

    def __call__(self, kind):
        self.count += 1
        return kind(uri=str(self.root / f"artifact-{self.count}"), metadata={})


def _twice(store, call):
    """Call a task twice; the second call writes nothing and returns the first one's outputs."""
    before = store_listing(store)
    first = call()
    after_first = store_listing(store)
    assert after_first != before, "the first attempt wrote nothing"
    second = call()
    assert store_listing(store) == after_first, "the second attempt wrote again"
    assert second == first
    return first


def test_every_stage_run_twice_with_the_same_run_and_task_writes_once(store, trained, tmp_path):
    new = Artifacts(tmp_path / "kfp")
    ids = {"run_id": RUN}
    source = str(COURSE / "batch_1.csv")
    batch_artifact = new(Dataset)

    def ingest_batch():
        return ingest.python_func(
            source=source,
            name="batch_1",
            config_json=CONFIG_JSON,
            dataset=batch_artifact,
            identify_batch=True,
            task_name="ingest",
            **ids,
        )

    batch = _twice(store, ingest_batch)
    assert batch.production == "1.0"
    champion = _twice(
        store,
        lambda: evaluate.python_func(
            model_version=batch.production,
            data=batch_artifact,
            batch_id="batch_1",
            role="monitor",
            config_json=CONFIG_JSON,
            metrics=new(Metrics),
            task_name="evaluate",
            **ids,
        ),
    )
    drift = _twice(
        store,
        lambda: detect_drift.python_func(
            model_version=champion.version,
            data=batch_artifact,
            batch_id="batch_1",
            evaluation_time=champion.evaluation_time,
            config_json=CONFIG_JSON,
            metrics=new(Metrics),
            report=new(HTML),
            task_name="detect-drift",
            **ids,
        ),
    )
    assert drift is True
    retraining = new(Dataset)
    _twice(
        store,
        lambda: select_data.python_func(
            model_version=champion.version,
            config_json=CONFIG_JSON,
            dataset=retraining,
            task_name="select-data",
            **ids,
        ),
    )
    challenger = _twice(
        store,
        lambda: train.python_func(
            training_data=retraining,
            test_data=batch_artifact,
            parent_version=champion.version,
            config_json=CONFIG_JSON,
            model=new(Model),
            task_name="train",
            **ids,
        ),
    )
    assert challenger == "1.1"
    _twice(
        store,
        lambda: evaluate.python_func(
            model_version=challenger,
            data=batch_artifact,
            batch_id="batch_1",
            role="challenger",
            config_json=CONFIG_JSON,
            metrics=new(Metrics),
            task_name="evaluate-2",
            **ids,
        ),
    )
    decided = _twice(
        store,
        lambda: promote.python_func(
            challenger_version=challenger,
            champion_version=champion.version,
            data=batch_artifact,
            batch_id="batch_1",
            config_json=CONFIG_JSON,
            task_name="promote",
            **ids,
        ),
    )
    assert decided.wins
    # Nothing of the run counts before its commit.
    assert ModelRegistry(store, "course").alias() == "1.0"
    assert {r["batch"] for r in evaluation_log(store).records()} == {"test"}

    def end_run():
        finalize.python_func(
            status=_status("SUCCEEDED"),
            pipeline_name="lifecycle-monitoring",
            config_json=CONFIG_JSON,
            summary=new(Markdown),
            task_name="finalize",
            **ids,
        )

    end_run()
    committed = store_listing(store)
    end_run()  # the exit handler retried: its commit is there already
    assert store_listing(store) == committed
    records = [r for r in evaluation_log(store).records() if r["batch"] == "batch_1"]
    assert sorted((r["role"], r["metric"]) for r in records) == sorted(
        (role, metric) for role in ("monitor", "challenger") for metric in ("RMSE", "r2", "MAE")
    )
    assert ModelRegistry(store, "course").alias() == "1.1"
    (commit,) = [c for c in CommitLog(store).entries() if c.run_id == RUN]
    assert commit.batch["id"] == "batch_1" and commit.registered == ["1.1"]
    assert commit.promotion["decision"] == "promoted"


def _status(state: str):
    from kfp.dsl import PipelineTaskFinalStatus

    return PipelineTaskFinalStatus(
        state=state,
        pipeline_job_resource_name="local",
        pipeline_task_name="exit-handler-1",
        error_code=None,
        error_message=None,
    )


def test_a_task_that_died_half_way_is_redone_over_its_own_writes(store, trained):
    """No task result: the retry runs again, and its keys are the first attempt's."""
    batch_key = trained[2].key
    run = RunContext(RUN, "evaluate")
    evaluate_logic(store, CONFIG, "1.0", batch_key, "test", "test", run)
    first = set(store.list_keys())
    evaluate_logic(store, CONFIG, "1.0", batch_key, "test", "test", run)
    assert set(store.list_keys()) == first
    ours = [r for r in evaluation_log(store).records(own_run=RUN) if r["run_id"] == RUN]
    assert len(ours) == 3


def test_a_failed_run_is_rolled_back_whole(store, trained):
    before = store_listing(store)
    run = RunContext(RUN, "evaluate")
    register_run(store, run)
    evaluate_logic(store, CONFIG, "1.0", trained[2].key, "test", "test", run)
    ModelRegistry(store, "course", RUN).register(
        ModelRegistry(store, "course").load_artifact("1.0")[0],
        RunContext(RUN, "train"),
        estimator=CONFIG.model.estimator,
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    )
    outcome = finalize_logic(store, CONFIG, RunContext(RUN, "finalize"), "FAILED", "boom")
    assert outcome.outcome == ROLLED_BACK and outcome.removed > 5
    assert store_listing(store) == before
    # The version number it had claimed is free again.
    again = RunContext("another", "train")
    model = ModelRegistry(store, "course", "another").register(
        ModelRegistry(store, "course").load_artifact("1.0")[0],
        again,
        estimator=CONFIG.model.estimator,
        params={},
        features=["x"],
        target="y",
        training_datasets=[],
    )
    assert model.version == "1.1"


def test_a_failed_run_takes_its_datasets_along_unless_another_run_uses_them(store, trained):
    from components.finalize.logic import standalone_run
    from components.ingest.logic import ingest as ingest_logic

    before = store_listing(store)
    with (
        pytest.raises(RuntimeError, match="the estimator failed"),
        standalone_run(store, CONFIG, "train") as tx,
    ):
        ingest_logic(store, str(COURSE / "batch_5.csv"), "batch_5", CONFIG.schema, tx.run)
        raise RuntimeError("the estimator failed")
    assert store_listing(store) == before  # the store exactly as before, datasets included

    # A dataset another run marked (it reused the same content) stays.
    shared = ingest_logic(
        store, str(COURSE / "batch_5.csv"), "batch_5", CONFIG.schema, RunContext("a", "ingest")
    )
    ingest_logic(
        store, str(COURSE / "batch_5.csv"), "batch_5", CONFIG.schema, RunContext("b", "ingest")
    )
    rollback(store, "a")
    assert store.exists(shared.key)
    rollback(store, "b")  # the last user gone, and its creator never committed
    assert not store.exists(shared.key) and not store.exists(keys.dataset_meta_key(shared.key))


def test_a_run_that_wrote_nothing_is_skipped_and_leaves_nothing(store, trained):
    before = store_listing(store)
    register_run(store, RunContext(RUN, "runner"))
    outcome = finalize_logic(store, CONFIG, RunContext(RUN, "finalize"), "SUCCEEDED")
    assert outcome.outcome == SKIPPED and store_listing(store) == before


def test_a_committed_run_is_never_rolled_back(store, trained):
    (first, *_) = CommitLog(store).entries()
    with pytest.raises(LifecycleError, match="has committed"):
        rollback(store, first.run_id)
    outcome = finalize_logic(store, CONFIG, RunContext(first.run_id, "finalize"), "FAILED")
    assert outcome.outcome == COMMITTED


def test_a_lost_reply_to_the_commit_is_found_again(store, trained, monkeypatch):
    """The create succeeded but its reply was lost (a retry then answers 412): the run's
    commit is found in the log, not written twice."""
    original = store.put_if_absent

    def lost_reply(key, data):
        created = original(key, data)
        return False if key.startswith(keys.COMMITS) else created

    monkeypatch.setattr(store, "put_if_absent", lost_reply)
    commit = commit_run(store, CONFIG, RunContext(RUN, "finalize"), Contributions())
    assert commit.run_id == RUN
    assert [c.run_id for c in CommitLog(store).entries()].count(RUN) == 1


@pytest.mark.parametrize(
    ("wins", "production", "decision"),
    [
        (True, "1.0", "promoted"),
        (False, "1.0", "kept champion"),
        (True, "1.1", "champion changed, not promoted"),
    ],
)
def test_the_decision_at_commit_is_a_compare_and_swap(wins, production, decision):
    intent = {"challenger": "1.2", "champion": "1.0", "wins": wins, "reason": "scores"}
    assert decide_at_commit(intent, production)[0] == decision


def _dead_owner() -> RunOwner:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    alive = RunOwner.of_this_process()
    return RunOwner(alive.host, alive.boot_id, ended.pid, 12345)


def _uncommitted(store, run_id: str, owner: RunOwner | None) -> None:
    run = RunContext(run_id, "evaluate")
    register_run(store, run, owner)
    evaluation_log(store).append([{"metric": "RMSE", "score": 1.0}], run)


def test_the_next_local_run_rolls_back_runs_whose_process_died(store):
    _uncommitted(store, "dead", _dead_owner())
    _uncommitted(store, "alive", RunOwner.of_this_process())
    other = RunOwner("another-host", "boot", 1, 1)
    _uncommitted(store, "elsewhere", other)
    assert recover_dead_local_runs(store) == ["dead"]
    assert sorted(run.run_id for run in uncommitted_runs(store)) == ["alive", "elsewhere"]


def test_cleanup_waits_for_the_grace_period_and_spares_live_runs(store, trained):
    _uncommitted(store, "recent", None)
    _uncommitted(store, "alive", RunOwner.of_this_process())
    _uncommitted(store, "old", None)
    past = time.time() - 7200
    old = [key for key in store.list_keys() if "/old/" in key or key.endswith("/old.json")]
    for key in old:
        os.utime(store.root / key, (past, past))
    stray = store.root / "evaluation" / ".tmp-cut-short"
    stray.write_bytes(b"half")
    os.utime(stray, (past, past))
    kept = {k: v for k, v in store_listing(store).items() if k not in old and ".tmp-" not in k}
    dry = cleanup(store, grace_seconds=3600, dry_run=True)
    assert dry.runs == ["old"] and stray.exists()
    report = cleanup(store, grace_seconds=3600)
    assert report.runs == ["old"] and sorted(report.kept) == ["alive", "recent"]
    assert report.temporary == ["evaluation/.tmp-cut-short"] and not stray.exists()
    assert store_listing(store) == kept


def test_batch_identity(store, trained, tmp_path):
    sha = source_sha256(store, str(COURSE / "batch_1.csv"))
    assert identify_batch(store, "course", "batch_1", sha).is_new
    commit_run(
        store,
        CONFIG,
        RunContext(RUN, "finalize"),
        Contributions(batch={"id": "batch_1", "sha256": sha, "production": "1.0"}),
    )
    again = identify_batch(store, "course", "renamed", sha)
    assert not again.is_new and again.monitored_by == RUN
    assert "already monitored for production 1.0" in again.describe()
    assert identify_batch(store, "course", "renamed", sha, force=True).is_new
    other = source_sha256(store, str(COURSE / "batch_2.csv"))
    with pytest.raises(InvalidInputError) as refused:
        identify_batch(store, "course", "batch_1", other)
    assert sha in str(refused.value) and other in str(refused.value)


def test_validate_says_a_known_batch_is_not_new_and_writes_nothing(store, trained, tmp_path):
    new = Artifacts(tmp_path / "kfp")
    sha = source_sha256(store, str(COURSE / "batch_1.csv"))
    commit_run(
        store,
        CONFIG,
        RunContext(RUN, "finalize"),
        Contributions(batch={"id": "batch_1", "sha256": sha, "production": "1.0"}),
    )
    before = store_listing(store)
    summary = new(Markdown)
    go_on = validate.python_func(
        source=str(COURSE / "batch_1.csv"),
        config_json=CONFIG_JSON,
        report=new(Metrics),
        summary=summary,
        identify_batch=True,
        batch_id="",
        schedule_time="2026-12-03T02:00:00Z",
    )
    assert go_on is False and store_listing(store) == before
    assert "already monitored" in Path(summary.path).read_text()


def test_a_scheduled_run_names_its_batch_by_its_schedule_time():
    assert batch_id_from_schedule("", "2026-12-03T02:00:00Z") == "20261203T020000Z"
    assert batch_id_from_schedule("", "2026-12-03T02:00:00.123456Z") == "20261203T020000Z"
    assert batch_id_from_schedule("batch_7", "2026-12-03T02:00:00Z") == "batch_7"
    for unresolved in ("", "{{$.pipeline_job_schedule_time_utc}}"):
        with pytest.raises(InvalidInputError, match="batch_id"):
            batch_id_from_schedule("", unresolved)


def test_run_ids_come_from_kfp_unless_the_local_runner_gives_one(monkeypatch):
    monkeypatch.delenv(RUN_ID_ENV, raising=False)
    assert RunContext.for_task("abc-123", "evaluate-2").run_id == "abc-123"
    with pytest.raises(InvalidInputError, match="no run id"):
        RunContext.for_task("{{$.pipeline_job_uuid}}", "evaluate")
    monkeypatch.setenv(RUN_ID_ENV, RUN)
    assert RunContext.for_task("12345678", "evaluate").run_id == RUN


def test_every_record_names_its_run_and_task(store, trained):
    for record in evaluation_log(store).records():
        assert record["run_id"] and record["task"]
    for key in store.list_keys(keys.MODELS):
        if key.endswith("/meta.json") or "/claims/" in key:
            assert json.loads(store.get_bytes(key))["run_id"]
