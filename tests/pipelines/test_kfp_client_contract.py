"""Contract tests of pipelines.kfp_client against a stand-in KFP v2beta1 API on 127.0.0.1.

The real ``kfp.Client`` (kfp 2.17.3) talks HTTP to :mod:`tests.pipelines.fake_kfp`, which
records each request; the tests assert what reached the wire: the uploaded pipeline spec, run
parameters, service account, cron, max concurrency and catch-up, and the idempotent paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lifecycle import __version__
from lifecycle.errors import InvalidInputError
from lifecycle.store import LocalStore
from pipelines import kfp_client
from pipelines.kfp_client import (
    DEFAULT_CRON,
    SERVICE_ACCOUNT,
    RunFailedError,
    course_params,
    make_client,
    schedule,
    submit,
    unschedule,
    upload,
    wait_for_run,
)
from tests.pipelines.fake_kfp import API, FakeKfp, FakeKfpServer

MONITORING_PARAMS = {"batch_source": "incoming/latest.csv", "batch_id": ""}


@pytest.fixture
def kfp() -> Iterator[FakeKfp]:
    with FakeKfpServer() as state:
        yield state


@pytest.fixture
def client(kfp: FakeKfp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KFP_HOST", kfp.url)
    for name in ("KFP_UI_HOST", "KF_PIPELINES_UI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return make_client()


def _uploaded_docs(upload_bytes: bytes) -> list[dict]:
    return list(yaml.safe_load_all(upload_bytes))


# -- client and host -------------------------------------------------------------------------


def test_client_host_comes_from_kfp_host(kfp: FakeKfp, client) -> None:
    assert kfp.calls("GET", f"{API}/healthz"), "kfp.Client checks healthz on the KFP_HOST server"


def test_default_host_is_the_api_port_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFP_HOST", raising=False)
    monkeypatch.delenv("KFP_UI_HOST", raising=False)
    seen = {}
    monkeypatch.setattr("kfp.Client", lambda **kwargs: seen.update(kwargs))
    make_client()
    assert seen == {"host": "http://localhost:8888", "ui_host": "http://localhost:8080"}


def test_printed_links_point_at_the_ui(
    kfp: FakeKfp, client, capsys: pytest.CaptureFixture[str]
) -> None:
    submit(client, "training", course_params("training"))
    assert "Run details: http://localhost:8080/#/runs/details/run-" in capsys.readouterr().out


# -- upload ----------------------------------------------------------------------------------


def test_upload_creates_the_pipeline_with_the_compiled_spec(kfp: FakeKfp, client) -> None:
    done = upload(client, "training")

    assert done.action == "created pipeline"
    (call,) = kfp.calls("POST", f"{API}/pipelines/upload")
    assert call.query["name"] == "lifecycle-training"
    spec, platform = _uploaded_docs(call.upload)
    assert spec["pipelineInfo"]["name"] == "lifecycle-training"
    assert set(spec["root"]["inputDefinitions"]["parameters"]) >= {"training_source", "test_source"}
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == set(spec["deploymentSpec"]["executors"])
    assert f"[{__version__}-" in call.query["description"]
    assert done.version_id == kfp.versions[done.pipeline_id][0]["pipeline_version_id"]


def test_upload_of_an_unchanged_spec_adds_nothing(kfp: FakeKfp, client) -> None:
    first = upload(client, "monitoring")
    again = upload(client, "monitoring")

    assert again.action == "unchanged"
    assert (again.pipeline_id, again.version_id) == (first.pipeline_id, first.version_id)
    assert len(kfp.calls("POST", f"{API}/pipelines/upload")) == 1
    assert not kfp.calls("POST", f"{API}/pipelines/upload_version")


def test_upload_to_an_existing_pipeline_adds_a_version_named_by_version_and_hash(
    kfp: FakeKfp, client
) -> None:
    pipeline_id = kfp.add_pipeline(
        "lifecycle-training", ["lifecycle-training", "0.0.9-0123456789ab"]
    )

    done = upload(client, "training")

    assert done.action == "new version"
    assert done.pipeline_id == pipeline_id
    assert not kfp.calls("POST", f"{API}/pipelines/upload")
    (call,) = kfp.calls("POST", f"{API}/pipelines/upload_version")
    assert call.query["pipelineid"] == pipeline_id
    assert call.query["name"] == done.version_name
    prefix, digest = done.version_name.rsplit("-", 1)
    assert prefix == __version__ and len(digest) == 12 and int(digest, 16) >= 0
    assert _uploaded_docs(call.upload)[0]["pipelineInfo"]["name"] == "lifecycle-training"

    assert upload(client, "training").action == "unchanged"
    assert len(kfp.calls("POST", f"{API}/pipelines/upload_version")) == 1


def test_version_name_follows_the_spec_content(tmp_path: Path) -> None:
    one, two = tmp_path / "a.yaml", tmp_path / "b.yaml"
    one.write_text("a")
    two.write_text("b")
    assert kfp_client.version_name(one) == kfp_client.version_name(one)
    assert kfp_client.version_name(one) != kfp_client.version_name(two)


# -- submit and wait -------------------------------------------------------------------------


def test_submit_runs_the_uploaded_version_with_parameters_as_lifecycle_runner(
    kfp: FakeKfp, client
) -> None:
    run = submit(client, "training", course_params("training"), experiment="lifecycle")

    (call,) = kfp.calls("POST", f"{API}/runs")
    body = call.body
    assert body["service_account"] == SERVICE_ACCOUNT == "lifecycle-runner"
    assert body["runtime_config"]["parameters"] == {
        "training_source": "incoming/course/data_init.csv",
        "test_source": "incoming/course/data_test.csv",
    }
    uploaded = kfp.versions[body["pipeline_version_reference"]["pipeline_id"]][-1]
    assert (
        body["pipeline_version_reference"]["pipeline_version_id"] == uploaded["pipeline_version_id"]
    )
    assert "pipeline_spec" not in body or body["pipeline_spec"] is None
    assert body["experiment_id"] == next(iter(kfp.experiments))
    assert kfp.experiments[body["experiment_id"]]["display_name"] == "lifecycle"
    assert run.run_id in kfp.runs


def test_second_submit_reuses_experiment_and_version(kfp: FakeKfp, client) -> None:
    submit(client, "monitoring", course_params("monitoring", "batch_2"))
    submit(client, "monitoring", course_params("monitoring", "batch_3"))

    assert len(kfp.calls("POST", f"{API}/experiments")) == 1
    assert len(kfp.calls("POST", f"{API}/pipelines/upload")) == 1
    assert not kfp.calls("POST", f"{API}/pipelines/upload_version")
    first, second = (
        c.body["runtime_config"]["parameters"] for c in kfp.calls("POST", f"{API}/runs")
    )
    assert first == {"batch_source": "incoming/course/batch_2.csv", "batch_id": "batch_2"}
    assert second["batch_id"] == "batch_3"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batch_id": "batch_1"}, "needs parameter batch_source"),
        ({**MONITORING_PARAMS, "minio_secret": "x"}, "has no parameter minio_secret"),
    ],
)
def test_submit_refuses_bad_parameters_before_any_call(
    kfp: FakeKfp, client, params: dict, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        submit(client, "monitoring", params)
    assert not kfp.calls("POST", f"{API}/runs")
    assert not kfp.calls("POST", f"{API}/pipelines/upload")


def test_wait_for_run_returns_a_succeeded_run(kfp: FakeKfp, client) -> None:
    run = submit(client, "training", course_params("training"))
    finished = wait_for_run(client, run.run_id, timeout=10, poll=0.01)
    assert finished.state == "SUCCEEDED"
    assert len(kfp.calls("GET", f"{API}/runs/{run.run_id}")) == 2


@pytest.mark.parametrize("final", ["FAILED", "CANCELED"])
def test_wait_for_run_raises_unless_it_succeeded(kfp: FakeKfp, client, final: str) -> None:
    kfp.run_states = ["RUNNING", final]
    run = submit(client, "training", course_params("training"))
    with pytest.raises(RunFailedError, match=final):
        wait_for_run(client, run.run_id, timeout=10, poll=0.01)


def test_wait_for_run_times_out(kfp: FakeKfp, client) -> None:
    kfp.run_states = ["RUNNING"]
    run = submit(client, "training", course_params("training"))
    with pytest.raises(RunFailedError, match="still RUNNING"):
        wait_for_run(client, run.run_id, timeout=0.05, poll=0.01)


# -- schedule --------------------------------------------------------------------------------


def test_schedule_creates_a_daily_monitoring_run_without_catchup(kfp: FakeKfp, client) -> None:
    done = schedule(client, MONITORING_PARAMS)

    assert done.created and done.name == "lifecycle-monitoring-daily"
    (call,) = kfp.calls("POST", f"{API}/recurringruns")
    body = call.body
    assert body["trigger"]["cron_schedule"]["cron"] == DEFAULT_CRON == "0 0 2 * * *"
    assert "periodic_schedule" not in body["trigger"] or not body["trigger"]["periodic_schedule"]
    assert int(body["max_concurrency"]) == 1
    assert body["no_catchup"] is True
    assert body["mode"] == "ENABLE"
    assert body["service_account"] == "lifecycle-runner"
    assert body["runtime_config"]["parameters"] == MONITORING_PARAMS
    pipeline_id = body["pipeline_version_reference"]["pipeline_id"]
    assert kfp.pipelines[pipeline_id]["display_name"] == "lifecycle-monitoring"
    assert body["display_name"] == "lifecycle-monitoring-daily"


def test_existing_schedule_is_reported_not_duplicated(kfp: FakeKfp, client) -> None:
    first = schedule(client, MONITORING_PARAMS, cron="0 30 1 * * *")
    again = schedule(client, MONITORING_PARAMS)

    assert not again.created
    assert again.recurring_run_id == first.recurring_run_id
    assert again.cron == "0 30 1 * * *"
    assert len(kfp.calls("POST", f"{API}/recurringruns")) == 1
    assert len(kfp.recurring_runs) == 1


def test_schedule_refuses_a_five_field_cron(kfp: FakeKfp, client) -> None:
    with pytest.raises(InvalidInputError, match="6"):
        schedule(client, MONITORING_PARAMS, cron="0 2 * * *")
    assert not kfp.calls("POST", f"{API}/recurringruns")


def test_unschedule_deletes_by_name_and_is_idempotent(kfp: FakeKfp, client) -> None:
    done = schedule(client, MONITORING_PARAMS)
    other = schedule(client, MONITORING_PARAMS, name="another")

    assert unschedule(client) == [done.recurring_run_id]
    assert kfp.calls("DELETE", f"{API}/recurringruns/{done.recurring_run_id}")
    assert list(kfp.recurring_runs) == [other.recurring_run_id]
    assert unschedule(client) == []
    assert schedule(client, MONITORING_PARAMS).created


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_submit_waits_and_prints(kfp: FakeKfp, capsys: pytest.CaptureFixture[str]) -> None:
    kfp.run_states = ["SUCCEEDED"]
    argv = [
        "--host",
        kfp.url,
        "submit",
        "monitoring",
        "--batch",
        "batch_4",
        "--wait",
        "--timeout",
        "5",
    ]
    assert kfp_client.main(argv) == 0

    (call,) = kfp.calls("POST", f"{API}/runs")
    assert call.body["runtime_config"]["parameters"] == {
        "batch_source": "incoming/course/batch_4.csv",
        "batch_id": "batch_4",
    }
    out = capsys.readouterr().out
    assert "submitted monitoring run run-" in out and ": SUCCEEDED" in out


def test_cli_schedule_twice(kfp: FakeKfp, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--host", kfp.url, "schedule", "--cron", "0 0 3 * * *"]
    assert kfp_client.main(argv) == 0
    assert kfp_client.main(argv) == 0

    out = capsys.readouterr().out
    assert "scheduled lifecycle-monitoring-daily" in out and "'0 0 3 * * *'" in out
    assert "exists" in out and "left unchanged" in out
    (call,) = kfp.calls("POST", f"{API}/recurringruns")
    assert call.body["runtime_config"]["parameters"] == {
        "batch_source": "incoming/latest.csv",
        "batch_id": "",
    }


def test_cli_config_is_passed_as_config_json(kfp: FakeKfp) -> None:
    course = Path(kfp_client.__file__).parent / "scenarios" / "course.yaml"
    argv = [
        "--host",
        kfp.url,
        "submit",
        "training",
        "--config",
        str(course),
        "--param",
        "test_name=holdout",
    ]
    assert kfp_client.main(argv) == 0
    params = kfp.calls("POST", f"{API}/runs")[0].body["runtime_config"]["parameters"]
    assert '"estimator":"sklearn.linear_model.LinearRegression"' in params["config_json"]
    assert params["test_name"] == "holdout"


def test_cli_failed_run_and_api_errors_exit_non_zero(
    kfp: FakeKfp, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.run_states = ["FAILED"]
    assert kfp_client.main(["--host", kfp.url, "submit", "training", "--wait"]) == 1
    assert kfp_client.main(["--host", kfp.url, "wait", "run-does-not-exist"]) == 4
    err = capsys.readouterr().err
    assert "finished FAILED" in err and "KFP API 404" in err


def test_cli_unschedule_without_a_schedule(
    kfp: FakeKfp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfp_client.main(["--host", kfp.url, "unschedule"]) == 0
    assert "no schedule named lifecycle-monitoring-daily" in capsys.readouterr().out


# -- data for the cluster's runs -------------------------------------------------------------


def test_upload_data_puts_the_course_files_under_incoming(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "store"))
    files = kfp_client.course_files()

    keys = kfp_client.upload_data(store, files)

    assert set(keys) == set(files)
    assert "incoming/course/data_init.csv" in keys and "incoming/course/batch_6.csv" in keys
    for key, path in files.items():
        assert store.get_bytes(key) == path.read_bytes()
    assert (
        store.get_bytes("incoming/latest.csv") == files["incoming/course/batch_6.csv"].read_bytes()
    )
    for pipeline in ("training", "monitoring"):
        sources = [v for k, v in course_params(pipeline).items() if k.endswith("source")]
        assert sources and all(store.exists(source) for source in sources)
