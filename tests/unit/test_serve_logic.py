"""The server's logic without a server: model holder and reload, prediction log, metrics, routes."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest

from components.serve.app import ServeApp
from components.serve.metrics import LATENCY_BUCKETS, LogState, ServerMetrics
from components.serve.model_holder import ModelHolder, VerificationError, verify
from components.serve.prediction_log import LogCounters, PredictionLog
from components.serve.schema import FeatureSpec, InputSchema
from components.serve.settings import LogSettings, ServeSettings
from lifecycle import keys
from lifecycle.errors import StoreError
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from tests.helpers import course_model_in_production
from tests.serving_helpers import make_production, second_version

SCHEMA = InputSchema((FeatureSpec("x", False),))


class FlakyStore(LocalStore):
    """A local store whose writes fail while ``down`` is set (a store outage)."""

    down = False
    puts = 0

    def put_bytes(self, key: str, data: bytes) -> None:
        if self.down:
            raise StoreError(f"store {self.uri} is unreachable (test outage)")
        self.puts += 1
        super().put_bytes(key, data)


@pytest.fixture
def store(tmp_path) -> FlakyStore:
    store = FlakyStore(tmp_path / "store")
    course_model_in_production(store)
    return store


def retrain(store) -> str:
    """Register a successor of 1.0 and make it production."""
    version = second_version(store)
    make_production(store, version)
    return version


# Model holder ---------------------------------------------------------------------------


def test_the_holder_serves_production_and_follows_the_alias(store):
    holder = ModelHolder(store, "course", SCHEMA)
    assert holder.current is None and not holder.status.ready
    assert holder.refresh() is True
    first = holder.current
    assert first.version == "1.0" and not first.frame_input
    assert holder.refresh() is False and holder.current is first
    new = retrain(store)
    assert holder.refresh() is True and holder.current.version == new
    assert holder.status.reloads == 2


def test_the_fast_path_predicts_what_the_estimator_predicts_on_a_frame(store):
    holder = ModelHolder(store, "course", SCHEMA)
    holder.refresh()
    estimator, _ = ModelRegistry(store, "course").load_artifact("1.0")
    import pandas as pd

    x = np.asarray([1.0, 5.5, 20.0])
    expected = estimator.predict(pd.DataFrame({"x": x}))
    np.testing.assert_allclose(holder.current.predict({"x": x}, 3), expected, rtol=1e-12)


def test_a_version_with_other_features_is_never_served(store):
    estimator, metadata = ModelRegistry(store, "course").load_artifact("1.0")
    other = InputSchema((FeatureSpec("x", False), FeatureSpec("z", False)))
    with pytest.raises(VerificationError, match=r"trained on features \['x'\]"):
        verify("course", estimator, metadata, other)
    holder = ModelHolder(store, "course", other)
    assert holder.refresh() is False
    assert not holder.status.ready and "trained on features" in holder.status.last_error


def test_a_corrupt_new_version_keeps_the_old_one_served(store):
    holder = ModelHolder(store, "course", SCHEMA)
    holder.refresh()
    new = retrain(store)
    artifact = keys.model_version_prefix("course", new) + keys.MODEL_FILE
    store.put_bytes(artifact, b"not a model")
    assert holder.refresh() is False
    assert holder.current.version == "1.0"
    assert holder.status.failures == 1 and "sha256" in holder.status.last_error


def test_without_a_production_version_the_holder_is_not_ready(tmp_path):
    holder = ModelHolder(LocalStore(tmp_path / "empty"), "course", SCHEMA)
    assert holder.refresh() is False
    assert "no 'production' version" in holder.status.last_error


def test_a_categorical_model_gets_a_data_frame(tmp_path):
    from pipelines.scenarios.diabetes import diabetes_scenario

    plan = diabetes_scenario(tmp_path)
    store = LocalStore(tmp_path / "store")
    from components.finalize.logic import standalone_run
    from components.ingest.logic import ingest
    from components.train.logic import train

    with standalone_run(store, plan.config, "setup") as tx:
        data = ingest(store, str(plan.training_file), "train", plan.config.schema, tx.task("i"))
        model, _ = train(store, plan.config, [data.key], None, None, tx.task("train"))
        tx.contribute({"registered": [model.version]})
    make_production(store, model.version, plan.config)
    holder = ModelHolder(store, "diabetes", InputSchema.from_config(plan.config.schema))
    assert holder.refresh() and holder.current.frame_input


# Prediction log -------------------------------------------------------------------------


def log_of(store, **settings) -> PredictionLog:
    return PredictionLog(store, "course", ("x",), LogSettings(**settings))


def append(log: PredictionLog, request_id: str, values: list[float], version: str = "1.0") -> bool:
    x = np.asarray(values)
    return log.append(version, request_id, 1_700_000_000.0, {"x": x}, x * 2)


def logged(store) -> list[dict]:
    rows = []
    for key in store.list_keys(keys.prediction_log_prefix("course")):
        rows += pq.read_table(io.BytesIO(store.get_bytes(key))).to_pylist()
    return rows


def test_one_object_per_flush_and_version_with_every_row(store):
    log = log_of(store)
    append(log, "a", [1.0, 2.0])
    append(log, "b", [3.0])
    append(log, "c", [4.0], version="1.1")
    assert log.queued_rows == 4
    assert log.flush() is True
    assert len(store.list_keys(keys.prediction_log_prefix("course", "1.0"))) == 1
    assert len(store.list_keys(keys.prediction_log_prefix("course", "1.1"))) == 1
    rows = sorted(logged(store), key=lambda row: (row["request_id"], row["row"]))
    assert [
        (r["request_id"], r["row"], r["x"], r["prediction"], r["model_version"]) for r in rows
    ] == [
        ("a", 0, 1.0, 2.0, "1.0"),
        ("a", 1, 2.0, 4.0, "1.0"),
        ("b", 0, 3.0, 6.0, "1.0"),
        ("c", 0, 4.0, 8.0, "1.1"),
    ]
    assert log.counters.written_rows == 4 and log.counters.objects == 2


def test_a_store_outage_holds_rows_then_writes_them(store):
    log = log_of(store)
    store.down = True
    append(log, "a", [1.0])
    assert log.flush() is False
    assert log.held_rows == 1 and log.counters.write_failures == 1
    append(log, "b", [2.0])
    store.down = False
    assert log.flush() is True
    assert log.held_rows == 0 and {r["request_id"] for r in logged(store)} == {"a", "b"}


def test_the_buffer_is_bounded_and_drops_are_counted(store):
    log = log_of(store, max_buffered_rows=3)
    store.down = True
    assert append(log, "a", [1.0, 2.0])
    log.flush()
    assert append(log, "b", [3.0])
    assert not append(log, "c", [4.0])
    assert log.counters.dropped_rows == 1


def test_close_flushes_what_was_acknowledged(store):
    log = log_of(store, flush_seconds=3600)
    log.start()
    append(log, "a", [1.0])
    report = log.close()
    assert (report.written_rows, report.lost_rows) == (1, 0)
    assert [r["request_id"] for r in logged(store)] == ["a"]


def test_a_request_answered_after_close_is_written_at_once(store):
    # granian may finish a request in flight after the worker began to stop the app.
    log = log_of(store, flush_seconds=3600)
    log.start()
    log.close()
    append(log, "late", [1.0])
    assert log.queued_rows == 0 and [r["request_id"] for r in logged(store)] == ["late"]


def test_a_size_trigger_flushes_before_the_timer(store):
    log = log_of(store, flush_rows=2, flush_seconds=3600)
    log.start()
    append(log, "a", [1.0, 2.0])
    import time

    deadline = time.monotonic() + 10
    while log.counters.written_rows < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert log.counters.written_rows == 2
    log.close()


def test_what_the_store_refuses_at_shutdown_is_spooled_and_sent_next_time(store, tmp_path):
    spool = tmp_path / "spool"
    log = log_of(store, shutdown_seconds=0.3, spool_dir=str(spool))
    store.down = True
    append(log, "a", [1.0])
    report = log.close()
    assert (report.spooled_rows, report.lost_rows) == (1, 0)
    assert len(list(spool.iterdir())) == 1 and logged(store) == []
    store.down = False
    again = log_of(store, spool_dir=str(spool))
    again.start()
    again.close()
    assert [r["request_id"] for r in logged(store)] == ["a"]
    assert list(spool.iterdir()) == []


def test_without_a_spool_unwritable_rows_are_reported_lost(store):
    log = log_of(store, shutdown_seconds=0.2)
    store.down = True
    append(log, "a", [1.0, 2.0])
    assert log.close().lost_rows == 2


# Metrics --------------------------------------------------------------------------------


def test_metrics_render_in_the_prometheus_text_format():
    from prometheus_client.parser import text_string_to_metric_families

    metrics = ServerMetrics("course")
    metrics.observe("v2_infer", 200, 0.0007)
    metrics.observe("v2_infer", 200, 0.02)
    metrics.observe("v2_infer", 422, 0.0001)
    metrics.observe("metrics", 200)
    from components.serve.model_holder import HolderStatus

    text = metrics.render(
        HolderStatus(True, "1.3", 2, 1, None),
        LogState(True, 5, 7, LogCounters(written_rows=9, dropped_rows=3, spooled_rows=1)),
    ).decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    requests = {
        (s.labels["endpoint"], s.labels["status"]): s.value
        for s in families["lifecycle_serve_requests"].samples
    }
    assert requests == {("v2_infer", "200"): 2, ("v2_infer", "422"): 1, ("metrics", "200"): 1}
    buckets = {
        s.labels["le"]: s.value
        for s in families["lifecycle_serve_request_duration_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert buckets["0.0005"] == 1 and buckets["0.001"] == 2 and buckets["+Inf"] == 3
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    (info,) = families["lifecycle_serve_model_info"].samples
    assert info.labels == {"model": "course", "version": "1.3"}
    values = {s.name: s.value for f in families.values() for s in f.samples}
    assert values["lifecycle_prediction_log_queued_rows"] == 5
    assert values["lifecycle_prediction_log_held_rows"] == 7
    assert values["lifecycle_prediction_log_dropped_rows_total"] == 3
    assert values["lifecycle_prediction_log_spooled_rows_total"] == 1


# Routes ---------------------------------------------------------------------------------


@pytest.fixture
def app(store) -> ServeApp:
    settings = ServeSettings()
    holder = ModelHolder(store, "course", SCHEMA)
    log = PredictionLog(store, "course", ("x",), settings.log)
    return ServeApp(settings, holder, log)


def call(app: ServeApp, method: str, path: str, body: dict | None = None, rid: str | None = None):
    response = app.handle(method, path, rid, orjson.dumps(body) if body is not None else b"")
    return (
        response.status,
        (
            orjson.loads(response.body)
            if response.content_type.startswith("application/json")
            else response.body.decode()
        ),
        dict(response.headers),
    )


V2_BODY = {"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]}]}


def test_not_ready_until_a_model_is_loaded(app):
    assert call(app, "GET", "/v2/health/live")[0] == 200
    status, body, _ = call(app, "GET", "/v2/health/ready")
    assert status == 503 and body["ready"] is False
    assert call(app, "POST", "/v2/models/course/infer", V2_BODY)[0] == 503
    app.holder.refresh()
    assert call(app, "GET", "/v2/health/ready")[:2] == (
        200,
        {"name": "course", "ready": True, "version": "1.0"},
    )


def test_inference_names_the_version_and_logs_the_request(app):
    app.holder.refresh()
    status, body, headers = call(app, "POST", "/v2/models/course/infer", V2_BODY, rid="req-1")
    assert status == 200 and body["model_version"] == "1.0" and body["id"] == "req-1"
    assert headers == {"x-request-id": "req-1", "x-model-version": "1.0"}
    status, body, _ = call(app, "POST", "/v1/models/course:predict", {"instances": [[1.0]]})
    assert status == 200 and body["predictions"] == [pytest.approx(2.980727272727)]
    assert app.log.queued_rows == 3
    assert call(app, "POST", "/v2/models/course/versions/1.0/infer", V2_BODY)[0] == 200
    assert call(app, "POST", "/v2/models/course/versions/0.9/infer", V2_BODY)[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("POST", "/v2/models/other/infer", 404, "model 'other' not found"),
        ("POST", "/v1/models/other:predict", 404, "model 'other' not found"),
        ("GET", "/v2/models/course/infer", 405, "GET is not allowed"),
        ("GET", "/nowhere", 404, "no such endpoint"),
    ],
)
def test_unknown_routes(app, method, path, status, message):
    app.holder.refresh()
    got_status, body, _ = call(app, method, path)
    assert got_status == status and message in body["error"]


def test_a_bad_request_id_header_is_refused(app):
    app.holder.refresh()
    status, body, _ = call(app, "POST", "/v2/models/course/infer", V2_BODY, rid="bad id")
    assert status == 422 and body["error"].startswith("x-request-id:")


def test_model_metadata_and_metrics(app):
    app.holder.refresh()
    status, body, _ = call(app, "GET", "/v2/models/course")
    assert status == 200 and body["versions"] == ["1.0"]
    call(app, "POST", "/v2/models/course/infer", {"inputs": "x"})
    status, text, _ = call(app, "GET", "/metrics")
    assert status == 200
    assert 'lifecycle_serve_requests_total{endpoint="v2_infer",status="422"} 1' in text
    assert 'lifecycle_serve_model_info{model="course",version="1.0"} 1' in text
