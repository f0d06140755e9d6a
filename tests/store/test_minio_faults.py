"""The MinIO backend against a real server: URI and credentials, failures and their messages.

Retry settings are small in these tests (see ``TEST_RETRY_ENV``), so a failure is reported
within a couple of seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

import pytest
from minio.credentials import StaticProvider
from minio.minioadmin import MinioAdmin

from lifecycle import keys
from lifecycle.consistency import verify_store
from lifecycle.errors import InvalidInputError, StoreError
from lifecycle.history import evaluation_log
from lifecycle.recovery import rollback, uncommitted_runs
from lifecycle.store import open_store
from lifecycle.store.minio import MinioSettings, MinioStore
from tests.fixtures.minio import MinioServer, free_port
from tests.helpers import COURSE
from tests.store.writers import committed_append, record, start_stage_writer

pytestmark = pytest.mark.minio

# Retries stop after ~2 s (STORE_RETRY_BUDGET in TEST_RETRY_ENV); generous for a busy host.
FAILURE_BOUND_SECONDS = 8.0


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


# -- URIs, without a server ---------------------------------------------------------------


def test_uri_parts_and_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINIO_SECURE", raising=False)
    settings = MinioSettings.from_uri("minio://127.0.0.1:9000/lifecycle/runs/a")
    assert (settings.endpoint, settings.bucket, settings.prefix, settings.secure) == (
        "127.0.0.1:9000",
        "lifecycle",
        "runs/a",
        False,
    )
    assert MinioSettings.from_uri("minios://127.0.0.1:9000/lifecycle").secure
    monkeypatch.setenv("MINIO_SECURE", "1")
    assert MinioSettings.from_uri("minio://127.0.0.1:9000/lifecycle").secure


@pytest.mark.parametrize(
    "uri",
    [
        "minio://127.0.0.1:9000",
        "minio://127.0.0.1:9000/",
        "minio://127.0.0.1:9000/UPPER",
        "minio://127.0.0.1:9000/ab",
        "minio://127.0.0.1:notaport/bucket",
        "minio://127.0.0.1:9000/bucket/../escape",
    ],
)
def test_bad_uris_are_rejected(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        MinioSettings.from_uri(uri)


def test_credentials_in_the_uri_are_refused_without_echoing_them() -> None:
    with pytest.raises(InvalidInputError) as caught:
        MinioSettings.from_uri("minio://user:s3cr3t-value@127.0.0.1:9000/bucket")
    assert "s3cr3t-value" not in str(caught.value)
    assert "MINIO_ACCESS_KEY" in str(caught.value)


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(StoreError, match="no MinIO credentials"):
        open_store("minio://127.0.0.1:9/bucket")


@pytest.mark.parametrize("name", ["STORE_RETRIES", "STORE_RETRY_DELAY"])
def test_bad_retry_settings_are_named(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "many")
    with pytest.raises(InvalidInputError, match=name):
        MinioSettings.from_uri("minio://127.0.0.1:9000/bucket")


# -- a real server ---------------------------------------------------------------------------


def test_bucket_is_created_and_prefix_scopes_keys(minio_env: MinioServer) -> None:
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    outer = open_store(minio_env.bucket_uri(bucket))
    inner = open_store(minio_env.bucket_uri(bucket, prefix="runs/a"))
    assert isinstance(inner, MinioStore)
    inner.put_bytes("k/1", b"x")
    outer.put_bytes("other", b"y")
    assert inner.list_keys() == ["k/1"]
    assert outer.list_keys() == ["other", "runs/a/k/1"]
    inner.clear()
    assert outer.list_keys() == ["other"]


def test_aws_variable_names_are_accepted(
    minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINIO_ACCESS_KEY")
    monkeypatch.delenv("MINIO_SECRET_KEY")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", minio_env.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", minio_env.secret_key)
    store = open_store(minio_env.bucket_uri())
    store.put_bytes("a", b"1")
    assert store.get_bytes("a") == b"1"


def test_unreachable_endpoint_fails_fast_with_one_line(minio_env: MinioServer) -> None:
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store(f"minio://127.0.0.1:{free_port()}/lifecycle")
    assert time.monotonic() - started < FAILURE_BOUND_SECONDS
    message = _one_line(caught.value)
    assert "unreachable" in message and "connection refused" in message
    assert "attempts" in message


@pytest.mark.parametrize("which", ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"])
def test_wrong_credentials_are_named_and_not_leaked(
    minio_env: MinioServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    which: str,
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    monkeypatch.setenv(which, wrong)
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store(minio_env.bucket_uri())
    assert time.monotonic() - started < 1.0  # not retried
    message = _one_line(caught.value)
    assert "wrong credentials" in message
    for secret in (wrong, minio_env.secret_key):
        assert secret not in message
        assert secret not in caplog.text


def test_unknown_bucket_that_cannot_be_created(minio_env: MinioServer) -> None:
    """A user who may list and read every bucket but create none."""
    admin = MinioAdmin(
        endpoint=minio_env.endpoint,
        credentials=StaticProvider(minio_env.access_key, minio_env.secret_key),
        secure=False,
    )
    user, password = f"reader-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    policy = f"list-only-{uuid.uuid4().hex[:8]}"
    admin.policy_add(
        policy,
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"],
                    "Resource": ["arn:aws:s3:::*"],
                }
            ],
        },
    )
    admin.user_add(user, password)
    admin.policy_set(policy, user=user)
    env = {"MINIO_ACCESS_KEY": user, "MINIO_SECRET_KEY": password}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(StoreError) as caught:
            open_store(minio_env.bucket_uri())
    message = _one_line(caught.value)
    assert "unknown bucket" in message and "AccessDenied" in message
    assert password not in message


def test_server_stopped_mid_run_then_restarted(minio_env: MinioServer) -> None:
    """Runs fail with a clear error within bounded time; nothing partial; the interrupted run
    counts for nobody and is rolled back; a rerun succeeds."""
    uri = minio_env.bucket_uri()
    store = open_store(uri)
    committed = 0
    failure: list[BaseException] = []
    failed_at: list[float] = []

    def keep_committing() -> None:
        nonlocal committed
        try:
            while True:
                committed_append(store, [record(0, committed)], f"run-{committed}")
                committed += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failed_at.append(time.monotonic())
            failure.append(exc)

    writer = threading.Thread(target=keep_committing, daemon=True)
    writer.start()
    while committed < 10:
        time.sleep(0.01)
    stopped_at = time.monotonic()
    minio_env.stop()
    writer.join(timeout=FAILURE_BOUND_SECONDS * 2)
    assert not writer.is_alive(), "the writer kept retrying past its bound"
    assert failure and isinstance(failure[0], StoreError), failure
    assert failed_at[0] - stopped_at < FAILURE_BOUND_SECONDS
    assert "unreachable" in _one_line(failure[0])

    minio_env.start()
    store = open_store(uri)
    listed = store.list_keys(keys.EVALUATION_RECORDS + "/")
    for raw in store.get_many(listed):
        json.loads(raw)  # every record is whole
    log = evaluation_log(store)
    assert len(log.records()) == committed  # an uncommitted run's record counts for nobody
    leftovers = [p for p in verify_store(store) if "not committed" in p]
    assert len(leftovers) <= 1 and len(verify_store(store)) == len(leftovers)
    for run in uncommitted_runs(store):
        rollback(store, run.run_id)
    committed_append(store, [record(1, 0)], "rerun")
    assert len(log.records()) == committed + 1
    assert verify_store(store) == []  # the view holds every committed record


def test_stages_losing_the_server_fail_clearly_and_a_rerun_after_restart_succeeds(
    minio_env: MinioServer,
) -> None:
    """Real stages (ingest, train, evaluate, promote) in a process of their own lose MinIO."""
    store = open_store(minio_env.bucket_uri())
    writer = start_stage_writer(store.uri, COURSE, rounds=10_000)
    assert writer.stdout is not None
    for _ in range(3):  # a few rounds done: every kind of write is under way
        writer.stdout.readline()
    stopped_at = time.monotonic()
    minio_env.stop()
    _, error = writer.communicate(timeout=FAILURE_BOUND_SECONDS * 4)
    assert writer.returncode == StoreError.exit_code, error
    assert time.monotonic() - stopped_at < FAILURE_BOUND_SECONDS * 2
    *retries, line = error.splitlines()
    assert retries and all(" retry " in retry for retry in retries)  # bounded, then one line
    assert line.startswith("error: MinIO store ") and "unreachable" in line

    minio_env.start()
    # Nothing partial: every dataset, model and record is whole; the run the writer was in
    # has not committed, and counts for nobody until the next run rolls it back.
    assert all("not committed" in p for p in verify_store(store))
    rerun = start_stage_writer(store.uri, COURSE, rounds=2)
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read() if rerun.stderr else ""
    assert verify_store(store) == []


def test_an_outage_within_the_retry_budget_is_ridden_out(
    minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORE_RETRIES", "12")
    monkeypatch.setenv("STORE_RETRY_BUDGET", "30")
    store = open_store(minio_env.bucket_uri())
    log = evaluation_log(store)
    committed_append(store, [record(0, 0)], "before")
    minio_env.stop()
    outcome: list[BaseException | None] = []

    def append_during_the_outage() -> None:
        try:
            committed_append(store, [record(0, 1)], "during")
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    writer = threading.Thread(target=append_during_the_outage, daemon=True)
    writer.start()
    time.sleep(1.0)  # the append is retrying against a closed port
    assert writer.is_alive()
    minio_env.start()
    writer.join(timeout=40)
    assert outcome == [None]
    assert [r["score"] for r in log.records()] == [0.0, 1.0]
    assert verify_store(log.store) == []
