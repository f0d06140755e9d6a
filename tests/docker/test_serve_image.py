"""The serve image runs the inference server: ready on a mounted store, answers V2, and on
`docker stop` (SIGTERM) flushes its prediction log into the store. Skips without an engine,
or fails when REQUIRE_SERVICES=1 (the stage_images fixture)."""

from __future__ import annotations

import io
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lifecycle import keys
from lifecycle.store import LocalStore
from pipelines.scenarios.serving import free_port
from tests.docker._engine import docker
from tests.docker.test_base_image import NON_ROOT_UID
from tests.helpers import course_model_in_production

pytestmark = pytest.mark.docker


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_the_serve_image_serves_and_flushes_on_stop(stage_images: dict[str, str], tmp_path: Path):
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    if os.geteuid() == 0:
        for path in (tmp_path, *tmp_path.rglob("*")):
            os.chown(path, NON_ROOT_UID, NON_ROOT_UID)
    user = () if os.geteuid() == 0 else ("--user", f"{os.getuid()}:{os.getgid()}")
    port, name = free_port(), f"lifecycle-serve-test-{uuid.uuid4().hex[:8]}"
    docker(
        "run", "--detach", "--name", name, "--network", "host", "--read-only",
        "--tmpfs", "/tmp", *user, "--volume", f"{store.root}:/store", "--env", "STORE=/store",
        stage_images["serve"], "--host", "127.0.0.1", "--port", str(port),
        "--log-flush-seconds", "3600",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _get(f"{base}/v2/health/ready") != 200:
            assert time.monotonic() < deadline, docker("logs", name).stdout[-2000:]
            time.sleep(0.5)
        body = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [3.0]}]}
        request = urllib.request.Request(
            f"{base}/v2/models/course/infer",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "x-request-id": "from-docker"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            answer = json.loads(response.read())
        assert answer["model_version"] == "1.0" and answer["id"] == "from-docker"
    finally:
        docker("stop", "--time", "60", name)
        logs = docker("logs", name).stdout + docker("logs", name).stderr
        docker("rm", "--force", name)
    logged = [
        pq.read_table(io.BytesIO(store.get_bytes(key))).column("request_id").to_pylist()
        for key in store.list_keys(keys.prediction_log_prefix("course"))
    ]
    assert logged == [["from-docker"]], logs[-2000:]
