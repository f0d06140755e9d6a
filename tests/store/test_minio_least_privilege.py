"""The stage user of lifecycle.store.provision, against the real MinIO server.

The user that ``make minio`` and the cluster's ``minio-setup`` Job create for the stages may
use its one bucket, through the project's own store, and nothing else: no other bucket's
listing, objects or creation, not even another bucket's name, no admin API. A second user
(KFP's, on the cluster) is confined to its own bucket the same way.
"""

from __future__ import annotations

import io
import uuid

import pytest
from minio import Minio, MinioAdmin
from minio.credentials import StaticProvider
from minio.error import MinioAdminException, S3Error

from lifecycle.errors import InvalidInputError, StoreError
from lifecycle.store import open_store
from lifecycle.store.provision import BucketGrant, grants_from_env, main, provision
from tests.fixtures.minio import MinioServer

pytestmark = pytest.mark.minio


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def root(minio_env: MinioServer) -> Minio:
    return Minio(
        minio_env.endpoint,
        credentials=StaticProvider(minio_env.access_key, minio_env.secret_key),
        secure=False,
    )


@pytest.fixture
def confined(minio_env: MinioServer, root: Minio) -> dict:
    """A stage user on its own bucket, a KFP user on another, and a third bucket with data."""
    stage = BucketGrant(_unique("lifecycle"), _unique("stage"), uuid.uuid4().hex)
    kfp = BucketGrant(_unique("mlpipeline"), _unique("kfp"), uuid.uuid4().hex)
    other = _unique("other")
    lines = provision(
        minio_env.endpoint, minio_env.access_key, minio_env.secret_key, [stage, kfp], [other]
    )
    root.put_object(other, "secret.txt", io.BytesIO(b"root only"), 9)
    root.put_object(kfp.bucket, "artifact.txt", io.BytesIO(b"kfp only"), 8)
    as_stage = Minio(
        minio_env.endpoint,
        credentials=StaticProvider(stage.access_key, stage.secret_key),
        secure=False,
    )
    return {"stage": stage, "kfp": kfp, "other": other, "client": as_stage, "lines": lines}


def _denied(action) -> str:
    with pytest.raises(S3Error) as caught:
        action()
    return caught.value.code


def test_provision_reports_buckets_and_users_without_secrets(confined: dict) -> None:
    stage, kfp = confined["stage"], confined["kfp"]
    text = "\n".join(confined["lines"])
    assert f"bucket {confined['other']}: created" in text
    assert f"user {stage.access_key}: policy bucket-{stage.bucket}-readwrite" in text
    assert f"user {kfp.access_key}: policy bucket-{kfp.bucket}-readwrite" in text
    assert stage.secret_key not in text and kfp.secret_key not in text


def test_stage_user_uses_its_bucket_through_the_store(
    confined: dict, minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = confined["stage"]
    monkeypatch.setenv("MINIO_ACCESS_KEY", stage.access_key)
    monkeypatch.setenv("MINIO_SECRET_KEY", stage.secret_key)
    store = open_store(minio_env.bucket_uri(stage.bucket))
    store.put_bytes("a/b.txt", b"hello")
    assert store.put_if_absent("a/c.txt", b"once") is True
    assert store.put_if_absent("a/c.txt", b"twice") is False
    assert store.get_bytes("a/b.txt") == b"hello"
    assert sorted(store.list_keys("a/")) == ["a/b.txt", "a/c.txt"]
    store.delete("a/b.txt")
    assert not store.exists("a/b.txt")


def test_stage_user_cannot_list_read_or_write_another_bucket(confined: dict) -> None:
    client, other, kfp = confined["client"], confined["other"], confined["kfp"].bucket
    for bucket, key in ((other, "secret.txt"), (kfp, "artifact.txt")):
        assert _denied(lambda b=bucket: list(client.list_objects(b))) == "AccessDenied"
        assert _denied(lambda b=bucket, k=key: client.get_object(b, k)) == "AccessDenied"
        assert _denied(lambda b=bucket, k=key: client.stat_object(b, k)) == "AccessDenied"
        assert (
            _denied(lambda b=bucket: client.put_object(b, "x.txt", io.BytesIO(b"x"), 1))
            == "AccessDenied"
        )
        assert _denied(lambda b=bucket, k=key: client.remove_object(b, k)) == "AccessDenied"


def test_stage_user_cannot_list_buckets_create_one_or_use_the_admin_api(
    confined: dict, minio_env: MinioServer
) -> None:
    client, stage = confined["client"], confined["stage"]
    # MinIO answers ListBuckets with the buckets the user may use: its own, no other name.
    assert [bucket.name for bucket in client.list_buckets()] == [stage.bucket]
    assert _denied(lambda: client.make_bucket(_unique("new"))) == "AccessDenied"
    admin = MinioAdmin(
        endpoint=minio_env.endpoint,
        credentials=StaticProvider(stage.access_key, stage.secret_key),
        secure=False,
    )
    with pytest.raises(MinioAdminException):
        admin.user_add(_unique("escalate"), uuid.uuid4().hex)
    with pytest.raises(MinioAdminException):
        admin.policy_set("readwrite", user=stage.access_key)


def test_the_store_says_which_bucket_the_stage_user_may_not_use(
    confined: dict, minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = confined["stage"]
    monkeypatch.setenv("MINIO_ACCESS_KEY", stage.access_key)
    monkeypatch.setenv("MINIO_SECRET_KEY", stage.secret_key)
    with pytest.raises(StoreError, match=confined["other"]):
        open_store(minio_env.bucket_uri(confined["other"]))


def test_rerun_is_idempotent_and_rotates_the_secret(confined: dict, minio_env: MinioServer) -> None:
    stage = confined["stage"]
    rotated = BucketGrant(stage.bucket, stage.access_key, uuid.uuid4().hex)
    lines = provision(minio_env.endpoint, minio_env.access_key, minio_env.secret_key, [rotated])
    assert lines[0] == f"bucket {stage.bucket}: exists"
    old = confined["client"]
    new = Minio(
        minio_env.endpoint,
        credentials=StaticProvider(rotated.access_key, rotated.secret_key),
        secure=False,
    )
    assert list(new.list_objects(stage.bucket)) == []
    # The old secret no longer signs: MinIO refuses its signature.
    assert _denied(lambda: list(old.list_objects(stage.bucket))) == "SignatureDoesNotMatch"


def test_cli_reads_credentials_from_the_environment(
    minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket, user, secret = _unique("lifecycle"), _unique("stage"), uuid.uuid4().hex
    monkeypatch.setenv("MINIO_ROOT_USER", minio_env.access_key)
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", minio_env.secret_key)
    monkeypatch.setenv("STAGE_ACCESS_KEY", user)
    monkeypatch.setenv("STAGE_SECRET_KEY", secret)
    assert main(["--endpoint", minio_env.endpoint, "--grant", f"{bucket}=STAGE"]) == 0
    out = capsys.readouterr().out
    assert f"provision: user {user}: policy bucket-{bucket}-readwrite (bucket {bucket} only)" in out
    assert secret not in out and minio_env.secret_key not in out


def test_cli_refuses_missing_credentials_and_bad_grants(
    minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MINIO_ROOT_USER", raising=False)
    assert main(["--endpoint", minio_env.endpoint]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: $MINIO_ROOT_USER and $MINIO_ROOT_PASSWORD must be set"
    )
    monkeypatch.setenv("MINIO_ROOT_USER", minio_env.access_key)
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", "wrong-password")
    monkeypatch.setenv("STAGE_ACCESS_KEY", "stage-user")
    monkeypatch.delenv("STAGE_SECRET_KEY", raising=False)
    assert main(["--endpoint", minio_env.endpoint, "--grant", "lifecycle=STAGE"]) == 2
    assert "STAGE_SECRET_KEY not set" in capsys.readouterr().err
    monkeypatch.setenv("STAGE_SECRET_KEY", uuid.uuid4().hex)
    assert main(["--endpoint", minio_env.endpoint, "--grant", "lifecycle=STAGE"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: MinIO at {minio_env.endpoint}: ") and err.count("\n") == 1


def test_grants_must_not_reuse_the_root_or_each_others_key(minio_env: MinioServer) -> None:
    with pytest.raises(InvalidInputError, match="distinct from the root"):
        provision(
            minio_env.endpoint,
            minio_env.access_key,
            minio_env.secret_key,
            [BucketGrant("lifecycle", minio_env.access_key, "x" * 16)],
        )
    with pytest.raises(InvalidInputError, match="granted twice"):
        environ = {f"{p}_{k}_KEY": "v" * 8 for p in "AB" for k in ("ACCESS", "SECRET")}
        grants_from_env(["a-bucket=A", "a-bucket=B"], environ)
