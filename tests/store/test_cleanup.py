"""verify and cleanup of what runs that never commit leave, on both backends (``any_store``)."""

from __future__ import annotations

from components.finalize.logic import Contributions, commit_run
from lifecycle.config import LifecycleConfig
from lifecycle.consistency import verify_store
from lifecycle.history import evaluation_log
from lifecycle.recovery import cleanup, uncommitted_runs
from lifecycle.runs import RunContext, register_run
from lifecycle.store import LocalStore, Store
from lifecycle.store.minio import MinioStore
from tests.helpers import store_listing


def _run(store: Store, run_id: str, commit: bool) -> None:
    run = RunContext(run_id, "evaluate")
    register_run(store, run)
    evaluation_log(store).append(
        [{"metric": "RMSE", "score": 1.0, "version": "1.0", "batch": "b"}], run
    )
    if commit:
        commit_run(store, LifecycleConfig(), run, Contributions())


def _interrupted_write(store: Store) -> str:
    """What a writer killed mid-write leaves: a temporary file, or an incomplete upload."""
    if isinstance(store, LocalStore):
        (store.root / "evaluation" / ".tmp-0123abcd").write_bytes(b"half a write")
        return "evaluation/.tmp-0123abcd"
    assert isinstance(store, MinioStore)
    client = store._client  # noqa: SLF001 - the test makes what a killed upload leaves
    upload_id = client._create_multipart_upload(  # noqa: SLF001
        store.bucket,
        store._name("datasets/big/data.parquet"),
        {},  # noqa: SLF001
    )
    return f"datasets/big/data.parquet?uploadId={upload_id}"


def test_verify_names_leftovers_and_cleanup_removes_them_never_a_commit(any_store: Store):
    _run(any_store, "committed", commit=True)
    committed = store_listing(any_store)
    _run(any_store, "abandoned", commit=False)
    temporary = _interrupted_write(any_store)

    problems = verify_store(any_store)
    assert any(p.startswith("run abandoned: not committed") for p in problems)
    assert any(p.startswith(f"temporary object {temporary}") for p in problems)

    kept = cleanup(any_store, grace_seconds=3600)  # all of it is younger than an hour
    assert kept.runs == [] and kept.temporary == [] and kept.kept == ["abandoned"]
    report = cleanup(any_store, grace_seconds=0)
    assert report.runs == ["abandoned"] and report.temporary == [temporary]
    assert verify_store(any_store) == [] and uncommitted_runs(any_store) == []
    assert store_listing(any_store) == committed


def test_cleanup_dry_run_removes_nothing(any_store: Store):
    _run(any_store, "abandoned", commit=False)
    before = store_listing(any_store)
    report = cleanup(any_store, grace_seconds=0, dry_run=True)
    assert report.runs == ["abandoned"] and store_listing(any_store) == before


def test_cleanup_refuses_a_negative_grace_period(any_store: Store, capsys):
    from cli.main import main

    assert main(["cleanup", "--store", any_store.uri, "--grace", "-5"]) == 2
    assert "--grace" in capsys.readouterr().err


def test_a_view_behind_a_commit_is_named_and_cleanup_rewrites_it(any_store: Store):
    # What a writer killed between its run's commit and the view's rewrite leaves: the view
    # (and its row count) of the run before.
    log = evaluation_log(any_store)
    _run(any_store, "first", commit=True)
    behind = {
        key: any_store.get_bytes(key) for key in (log.view_key, f"_views/{log.view_key}.rows")
    }
    _run(any_store, "second", commit=True)
    for key, data in behind.items():
        any_store.put_bytes(key, data)

    (problem,) = verify_store(any_store)
    assert problem.startswith(f"{log.view_key}: 1 rows for 2 records, a view behind")
    assert cleanup(any_store, grace_seconds=0, dry_run=True).views == [log.view_key]
    assert any_store.get_bytes(log.view_key) == behind[log.view_key]
    assert cleanup(any_store, grace_seconds=0).views == [log.view_key]
    assert verify_store(any_store) == []
    assert cleanup(any_store, grace_seconds=0).views == []
