"""The images the cluster runs besides the stages': MinIO's, and the base as the setup Job.

``images/minio`` is the server ``make minio-install`` builds (the same pin, the same binary),
run as the manifests run it: uid 1000, read-only root filesystem, HOME and certificates on
/tmp. The base image runs the ``minio-setup`` Job's command (lifecycle.store.provision)
against the real MinIO of the tests, and carries the content tags ``make wheel`` baked in.

Needs a Docker engine and the MinIO binary; without them the tests skip, or fail when
``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from minio import Minio
from minio.credentials import StaticProvider

from lifecycle.images import STAGES, content_tags, image_tag, registry
from tests.docker._engine import docker, image_exists, inspect_image, make_images, require_engine
from tests.docker.conftest import python_base_image
from tests.fixtures.minio import MinioServer, free_port, minio_binary

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
MINIO_DIR = ROOT / "images" / "minio"
MANIFESTS = ROOT / "manifests" / "base"
MINIO_UID = 1000


def _pin() -> str:
    return (MINIO_DIR / "minio.version").read_text().strip()


def _make_var(name: str) -> str:
    show = ["make", "--no-print-directory", "--eval", f"show: ; @echo $({name})", "show"]
    return subprocess.run(show, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


# No engine needed ---------------------------------------------------------------------


def test_one_pin_for_the_local_server_and_the_image() -> None:
    assert _make_var("MINIO_VERSION") == _pin()
    assert _pin().startswith("v0.0.0-20")


def test_the_manifests_run_minio_as_the_image_expects() -> None:
    deployment = yaml.safe_load((MANIFESTS / "minio-deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "lifecycle-minio"
    assert pod["securityContext"]["runAsUser"] == MINIO_UID
    assert container["args"][:2] == ["server", "/data"]


# Engine needed ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minio_image() -> str:
    """``make image-minio`` (a cache hit when current); its tag."""
    require_engine()
    if minio_binary() is None:
        pytest.fail("the MinIO binary is absent: run `make minio-install`")
    build = ["image-minio", f"BASE_IMAGE={python_base_image()}", f"REGISTRY={registry()}"]
    result = make_images(*build, timeout=900)
    assert result.returncode == 0, f"make image-minio failed:\n{result.stdout}\n{result.stderr}"
    tag = image_tag("minio")
    assert image_exists(tag), f"make image-minio did not produce {tag}"
    return tag


def test_the_image_holds_the_binary_of_make_minio_install(minio_image: str, tmp_path) -> None:
    container = docker("create", minio_image).stdout.strip()
    try:
        docker("cp", f"{container}:/usr/local/bin/minio", str(tmp_path / "minio"))
    finally:
        docker("rm", container)
    local = Path(minio_binary())
    digest = hashlib.sha256((tmp_path / "minio").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(local.read_bytes()).hexdigest()
    labels = inspect_image(minio_image)["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == _pin()
    config = inspect_image(minio_image)["Config"]
    assert config["User"] == f"{MINIO_UID}:{MINIO_UID}"


def test_minio_serves_read_only_as_uid_1000(
    minio_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    name = f"lifecycle-test-minio-{uuid.uuid4().hex[:8]}"
    root_key = uuid.uuid4().hex
    monkeypatch.setenv("MINIO_ROOT_USER", "lifecycle-test")
    monkeypatch.setenv("MINIO_ROOT_PASSWORD", root_key)  # by name: not on the command line
    docker(
        "run", "--detach", "--rm", "--name", name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "--tmpfs", f"/data:uid={MINIO_UID}",
        "--env=MINIO_ROOT_USER", "--env=MINIO_ROOT_PASSWORD",
        minio_image, "server", "/data", f"--address=127.0.0.1:{port}",
        f"--console-address=127.0.0.1:{free_port()}", "--certs-dir=/tmp/certs",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and not ready:
            try:
                url = f"http://127.0.0.1:{port}/minio/health/ready"
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                    ready = response.status == 200
            except OSError:
                time.sleep(0.2)
        assert ready, docker("logs", name, check=False).stderr[-2000:]
        client = Minio(
            f"127.0.0.1:{port}",
            credentials=StaticProvider("lifecycle-test", root_key),
            secure=False,
        )
        client.make_bucket("lifecycle")
        assert [b.name for b in client.list_buckets()] == ["lifecycle"]
        top = docker("top", name, "-o", "pid,uid,comm").stdout
        assert any(line.split()[1:3] == [str(MINIO_UID), "minio"] for line in top.splitlines())
    finally:
        docker("stop", "--time", "5", name, check=False)


def test_the_base_image_runs_the_setup_job_against_minio(
    base_image: str, minio_env: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = yaml.safe_load((MANIFESTS / "minio-setup-job.yaml").read_text())
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "lifecycle-base"
    bucket, user, secret = f"lifecycle-{uuid.uuid4().hex[:8]}", "stage-docker", uuid.uuid4().hex
    env = {
        "MINIO_ROOT_USER": minio_env.access_key,
        "MINIO_ROOT_PASSWORD": minio_env.secret_key,
        "STAGE_ACCESS_KEY": user,
        "STAGE_SECRET_KEY": secret,
    }
    for name, value in env.items():  # passed by name: no secret on docker's command line
        monkeypatch.setenv(name, value)
    result = docker(
        "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
        *(f"--env={name}" for name in env), base_image, *container["command"],
        f"--endpoint={minio_env.endpoint}", f"--grant={bucket}=STAGE",
    )  # fmt: skip
    assert f"provision: user {user}: policy bucket-{bucket}-readwrite" in result.stdout
    assert secret not in result.stdout + result.stderr
    stage = Minio(minio_env.endpoint, credentials=StaticProvider(user, secret), secure=False)
    assert [b.name for b in stage.list_buckets()] == [bucket]


def test_the_images_carry_the_tags_the_repository_computes(base_image: str) -> None:
    # Components name their image at import; in an image there are no Dockerfiles to hash.
    script = "import json, lifecycle.images as i; print(json.dumps(i.content_tags()))"
    out = docker("run", "--rm", "--network", "none", base_image, "python", "-c", script).stdout
    assert json.loads(out) == content_tags()
    assert set(json.loads(out)) >= set(STAGES)
