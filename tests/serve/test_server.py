"""The inference server as a real process (``lifecycle serve``, granian) on 127.0.0.1 and a
free port: protocols, errors, metrics, reload under load, shutdown, a store outage on MinIO."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.store import LocalStore, Store, open_store
from pipelines.scenarios.serving import ServerProcess, running_server
from tests.helpers import course_model_in_production
from tests.serving_helpers import make_production, second_version

CONFIG = LifecycleConfig()
INFER = "/v2/models/course/infer"


def v2(*values: float) -> dict:
    return {
        "inputs": [{"name": "x", "shape": [len(values)], "datatype": "FP64", "data": list(values)}]
    }


def logged_ids(store: Store) -> Counter:
    ids: Counter = Counter()
    for key in store.list_keys(keys.prediction_log_prefix("course")):
        table = pq.read_table(io.BytesIO(store.get_bytes(key)), columns=["request_id"])
        ids.update(table.column("request_id").to_pylist())
    return ids


def post_chunked(base: str, path: str, data: bytes) -> tuple[int, dict]:
    """POST ``data`` in chunks of 64 kB (Transfer-Encoding: chunked, no Content-Length)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
        connection.request("POST", path, body=chunks, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    return store


def test_both_protocols_errors_and_metrics(store: LocalStore, tmp_path: Path):
    with running_server(store.uri, CONFIG, tmp_path, "--max-rows", "5") as server:
        status, body = server.post(INFER, v2(1.0, 2.0), {"x-request-id": "client-7"})
        assert status == 200 and body["model_version"] == "1.0" and body["id"] == "client-7"
        assert body["outputs"][0]["data"] == pytest.approx([2.980727, 4.807455], abs=1e-6)
        status, body = server.post("/v1/models/course:predict", {"instances": [[1.0], [2.0]]})
        assert status == 200 and body["predictions"] == pytest.approx(
            [2.980727, 4.807455], abs=1e-6
        )
        assert server.get("/v2/models/course")[0] == 200
        bad = {
            "unknown feature": (
                v2(1.0)
                | {"inputs": [{"name": "z", "shape": [1], "datatype": "FP64", "data": [1]}]},
                422,
                "inputs[0].name",
            ),
            "wrong type": (
                {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ["a"]}]},
                422,
                "inputs[0].data[0]",
            ),
            "too many rows": (v2(*range(6)), 422, "6 rows exceed the limit of 5"),
            "missing feature": ({"instances": [{"y": 1}]}, 422, "missing feature 'x'"),
        }
        for name, (request, expected, message) in bad.items():
            path = "/v1/models/course:predict" if "instances" in request else INFER
            status, body = server.post(path, request)
            assert status == expected and message in body["error"], name
        status, body = server.post(INFER, {"inputs": "x" * 5_000_000})
        assert status == 400 and body["error"].startswith("body: ")
        status, body = post_chunked(server.base, INFER, b"x" * 5_000_000)
        assert status == 400 and body["error"].startswith("body: "), "without Content-Length"
        status, body = post_chunked(server.base, INFER, json.dumps(v2(1.0)).encode())
        assert status == 200 and body["model_version"] == "1.0"
        metrics = server.get("/metrics")[1].decode()
        assert 'lifecycle_serve_requests_total{endpoint="v2_infer",status="422"} 3' in metrics
        assert 'lifecycle_serve_model_info{model="course",version="1.0"} 1' in metrics


def test_not_ready_without_a_production_model(tmp_path: Path):
    empty = LocalStore(tmp_path / "empty")
    empty.put_bytes("placeholder", b"")
    config_file = tmp_path / "c.json"
    config_file.write_text(CONFIG.to_json())
    import subprocess
    import sys

    from pipelines.scenarios.serving import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--store", empty.uri, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", "course")
    try:
        server.wait(lambda: server.get("/v2/health/live")[0] == 200, "live")
        status, body = server.get("/v2/health/ready")
        assert status == 503 and "no 'production' version" in json.loads(body)["reason"]
        assert server.post(INFER, v2(1.0))[0] == 503
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_a_clean_shutdown_flushes_every_acknowledged_prediction(store: LocalStore, tmp_path: Path):
    # A flush interval longer than the test: only the shutdown can write the log.
    with running_server(store.uri, CONFIG, tmp_path, "--log-flush-seconds", "3600") as server:
        ids = [server.post(INFER, v2(float(i)))[1]["id"] for i in range(25)]
        assert server.metric("lifecycle_prediction_log_queued_rows") == 25
    assert logged_ids(store) == Counter(ids)


def _hammer(server: ServerProcess, stop: threading.Event, results: Counter, versions: Counter):
    host, port = server.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps(v2(3.0)).encode()
    while not stop.is_set():
        try:
            connection.request("POST", INFER, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            results[response.status] += 1
            if response.status == 200:
                versions[json.loads(payload)["model_version"]] += 1
        except (OSError, http.client.HTTPException) as exc:
            results[type(exc).__name__] += 1
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.close()


def test_a_reload_under_load_loses_no_request(store: LocalStore, tmp_path: Path):
    second = second_version(store)
    with running_server(store.uri, CONFIG, tmp_path, "--reload-seconds", "0.3") as server:
        stop, results, versions = threading.Event(), Counter(), Counter()
        threads = [
            threading.Thread(target=_hammer, args=(server, stop, results, versions))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        try:
            for flip in range(6):  # bounded: six promotions about a second apart
                time.sleep(1.0)
                make_production(store, second if flip % 2 == 0 else "1.0")
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        reloads = server.metric("lifecycle_serve_model_reloads_total")
    assert set(results) == {200}, results
    assert results[200] > 100
    assert set(versions) == {"1.0", second}
    assert reloads >= 6


@pytest.mark.minio
def test_a_store_outage_never_fails_a_request_and_the_log_catches_up(minio_env, tmp_path: Path):
    uri = minio_env.bucket_uri()
    store = open_store(uri)
    course_model_in_production(store)
    with running_server(
        store.uri, CONFIG, tmp_path, "--log-flush-seconds", "0.3", "--reload-seconds", "0.5"
    ) as server:
        before = [server.post(INFER, v2(1.0))[1]["id"] for _ in range(5)]
        server.wait(
            lambda: server.metric("lifecycle_prediction_log_written_rows_total") >= 5, "written"
        )
        minio_env.stop()
        try:
            during = []
            for i in range(40):
                status, body = server.post(INFER, v2(float(i)))
                assert status == 200, body
                during.append(body["id"])
            server.wait(
                lambda: server.metric("lifecycle_prediction_log_write_failures_total") >= 1,
                "reporting the failed write",
            )
            assert server.metric("lifecycle_prediction_log_held_rows") > 0
            assert server.get("/v2/health/ready")[0] == 200  # the loaded model stays served
        finally:
            minio_env.start()
        server.wait(lambda: server.metric("lifecycle_prediction_log_held_rows") == 0, "caught up")
        after = [server.post(INFER, v2(2.0))[1]["id"] for _ in range(5)]
    assert logged_ids(open_store(uri)) == Counter(before + during + after)


@pytest.mark.minio
def test_the_buffer_bound_drops_and_says_so(minio_env, tmp_path: Path):
    store = open_store(minio_env.bucket_uri())
    course_model_in_production(store)
    with running_server(
        store.uri, CONFIG, tmp_path, "--log-flush-seconds", "0.2", "--log-max-rows", "10"
    ) as server:
        minio_env.stop()
        try:
            statuses = [server.post(INFER, v2(1.0, 2.0))[0] for _ in range(8)]
            assert statuses == [200] * 8
            assert server.metric("lifecycle_prediction_log_dropped_rows_total") == 6
        finally:
            minio_env.start()
