"""Contract tests of pipelines.kfp_client against a stand-in KFP v2beta1 API on 127.0.0.1.

The real ``kfp.Client`` (kfp 2.17.3) talks HTTP to :mod:`tests.pipelines.fake_kfp`, which
records each request; the tests assert what reached the wire: the uploaded pipeline spec, run
parameters, service account, cron, max concurrency and catch-up, and the idempotent paths.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lifecycle import __version__
from lifecycle.config import ClusterConfig, StageResources
from lifecycle.errors import InvalidInputError
from lifecycle.store import LocalStore
from pipelines import kfp_client
from pipelines.kfp_client import (
    DEFAULT_CRON,
    SCHEDULE_TIME_ZONE,
    SERVICE_ACCOUNT,
    TOKEN_AUDIENCE,
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


# Variables the client reads; none may leak in from the shell running the tests.
CLIENT_ENV = (
    "KFP_UI_HOST",
    "KF_PIPELINES_UI_ENDPOINT",
    "KFP_NAMESPACE",
    "KFP_TOKEN",
    "KFP_TOKEN_SERVICE_ACCOUNT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(kfp: FakeKfp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KFP_HOST", kfp.url)
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
    assert seen == {
        "host": "http://localhost:8888",
        "ui_host": "http://localhost:8080",
        "existing_token": None,
    }


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


def test_a_current_schedule_is_left_unchanged(kfp: FakeKfp, client) -> None:
    first = schedule(client, MONITORING_PARAMS, cron="0 30 1 * * *")
    again = schedule(client, MONITORING_PARAMS, cron="0 30 1 * * *")

    assert (first.action, again.action) == ("created", "unchanged")
    assert again.recurring_run_id == first.recurring_run_id and again.changes == ()
    assert len(kfp.calls("POST", f"{API}/recurringruns")) == 1
    assert not kfp.calls("DELETE", f"{API}/recurringruns/.*")


def test_a_changed_cron_replaces_the_schedule_and_says_so(kfp: FakeKfp, client) -> None:
    first = schedule(client, MONITORING_PARAMS, cron="0 30 1 * * *")
    again = schedule(client, MONITORING_PARAMS, cron="0 0 4 * * *")

    assert again.action == "updated" and again.replaced == (first.recurring_run_id,)
    assert again.changes == ("cron '0 30 1 * * *' -> '0 0 4 * * *'",)
    assert kfp.calls("DELETE", f"{API}/recurringruns/{first.recurring_run_id}")
    (current,) = kfp.recurring_runs.values()
    assert current["recurring_run_id"] == again.recurring_run_id
    assert current["trigger"]["cron_schedule"]["cron"] == "0 0 4 * * *"
    assert current["display_name"] == "lifecycle-monitoring-daily"


def test_changed_parameters_replace_the_schedule_and_are_named(kfp: FakeKfp, client) -> None:
    schedule(client, MONITORING_PARAMS)
    config_json = ClusterConfig().model_dump_json()  # any long value
    changed = {**MONITORING_PARAMS, "batch_id": "hourly", "config_json": config_json}
    again = schedule(client, changed)

    assert again.action == "updated"
    assert again.changes == (
        "parameter batch_id '' -> 'hourly'",
        f"parameter config_json <{len(config_json)} characters> added",
    )
    (current,) = kfp.recurring_runs.values()
    assert current["runtime_config"]["parameters"] == changed


def test_a_new_pipeline_version_moves_the_schedule(kfp: FakeKfp, client) -> None:
    first = schedule(client, MONITORING_PARAMS)
    bigger = ClusterConfig(defaults=StageResources(cpu_limit="2"))
    again = schedule(client, MONITORING_PARAMS, cluster=bigger)

    assert again.action == "updated"
    assert again.changes == (
        f"pipeline version {first.pipeline_version_id} -> {again.pipeline_version_id}",
    )
    (current,) = kfp.recurring_runs.values()
    reference = current["pipeline_version_reference"]["pipeline_version_id"]
    assert reference == again.pipeline_version_id != first.pipeline_version_id


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


def test_cli_schedule_twice_then_with_a_new_cron(
    kfp: FakeKfp, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--host", kfp.url, "schedule", "--cron", "0 0 3 * * *"]
    assert kfp_client.main(argv) == 0
    created = capsys.readouterr().out
    assert kfp_client.main(argv) == 0
    kept = capsys.readouterr().out
    assert kfp_client.main([*argv[:-1], "0 0 4 * * *"]) == 0
    updated = capsys.readouterr().out

    assert SCHEDULE_TIME_ZONE == "UTC"
    assert re.search(
        r"^scheduled lifecycle-monitoring-daily \(recurring-\d+\): monitoring on cron "
        r"'0 0 3 \* \* \*' \(UTC, the scheduler's time zone\), max_concurrency=1, no_catchup, "
        r"as lifecycle-runner$",
        created,
        re.MULTILINE,
    ), created
    assert "is current" in kept and "left unchanged" in kept and "(UTC" in kept
    assert re.search(r"^updated lifecycle-monitoring-daily \(recurring-", updated, re.MULTILINE)
    assert "changed: cron '0 0 3 * * *' -> '0 0 4 * * *'" in updated
    first, second = kfp.calls("POST", f"{API}/recurringruns")
    assert first.body["runtime_config"]["parameters"] == {
        "batch_source": "incoming/latest.csv",
        "batch_id": "",
    }
    assert second.body["trigger"]["cron_schedule"]["cron"] == "0 0 4 * * *"


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


# -- run names, cluster resources, multi-user KFP --------------------------------------------


def test_monitoring_run_names_carry_the_batch_id(kfp: FakeKfp, client) -> None:
    submit(client, "monitoring", course_params("monitoring", "batch_5"))
    submit(client, "training", course_params("training"))

    monitoring, training = (c.body["display_name"] for c in kfp.calls("POST", f"{API}/runs"))
    assert re.fullmatch(r"monitoring batch_5 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", monitoring)
    assert re.fullmatch(r"training \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", training)


def test_cli_upload_compiles_the_config_cluster_section(kfp: FakeKfp, tmp_path: Path) -> None:
    config = tmp_path / "big.yaml"
    config.write_text("cluster:\n  defaults: {cpu_limit: '4', memory_limit: 8Gi}\n  stages: {}\n")
    assert kfp_client.main(["--host", kfp.url, "upload", "training", "--config", str(config)]) == 0

    (call,) = kfp.calls("POST", f"{API}/pipelines/upload")
    spec, _ = _uploaded_docs(call.upload)
    resources = [e["container"]["resources"] for e in spec["deploymentSpec"]["executors"].values()]
    assert {(r["resourceCpuLimit"], r["resourceMemoryLimit"]) for r in resources} == {("4", "8Gi")}


def test_cli_refuses_a_bad_cluster_section(
    kfp: FakeKfp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("cluster:\n  stages:\n    trian: {cpu_limit: '2'}\n")
    assert kfp_client.main(["--host", kfp.url, "upload", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid config file {config}: cluster.stages: ")
    assert "trian" in err and not kfp.calls("POST", f"{API}/pipelines/upload")


@pytest.fixture
def multi_user() -> Iterator[FakeKfp]:
    with FakeKfpServer(multi_user=True, token="team-a-token") as state:
        yield state


def _assert_every_call_is_authorised_and_namespaced(kfp: FakeKfp, namespace: str) -> None:
    assert kfp.requests
    for request in kfp.requests:
        if request.path == f"{API}/healthz":
            continue
        assert request.authorization == "Bearer team-a-token", request
    listed = [r for r in kfp.requests if r.method == "GET" and r.path.endswith(
        ("/pipelines", "/experiments", "/recurringruns")
    )]  # fmt: skip
    assert listed and all(r.query.get("namespace") == namespace for r in listed), listed
    for upload_call in kfp.calls("POST", f"{API}/pipelines/upload"):
        assert upload_call.query["namespace"] == namespace
    for experiment in kfp.calls("POST", f"{API}/experiments"):
        assert experiment.body["namespace"] == namespace


def test_multi_user_calls_carry_the_namespace_and_the_token(
    multi_user: FakeKfp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFP_HOST", multi_user.url)
    monkeypatch.setenv("KFP_TOKEN", "team-a-token")
    client = make_client()
    submit(client, "monitoring", course_params("monitoring", "batch_1"), namespace="team-a")
    schedule(client, MONITORING_PARAMS, namespace="team-a")
    assert schedule(client, MONITORING_PARAMS, namespace="team-a").action == "unchanged"
    assert len(unschedule(client, namespace="team-a")) == 1

    _assert_every_call_is_authorised_and_namespaced(multi_user, "team-a")
    (pipeline,) = multi_user.pipelines.values()
    assert pipeline["namespace"] == "team-a"


def test_multi_user_kfp_refuses_calls_without_namespace_or_token(
    multi_user: FakeKfp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFP_HOST", multi_user.url)
    from kfp_server_api.exceptions import ApiException

    with pytest.raises(ApiException) as no_namespace:
        schedule(make_client(token="team-a-token"), MONITORING_PARAMS)
    assert no_namespace.value.status == 400
    with pytest.raises(ApiException) as no_token:
        upload(make_client(), "training", namespace="team-a")
    assert no_token.value.status == 401


def test_cli_takes_namespace_and_token_from_the_environment(
    multi_user: FakeKfp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFP_NAMESPACE", "team-a")
    monkeypatch.setenv("KFP_TOKEN", "team-a-token")
    assert kfp_client.main(["--host", multi_user.url, "submit", "training"]) == 0
    assert kfp_client.main(["--host", multi_user.url, "schedule"]) == 0
    _assert_every_call_is_authorised_and_namespaced(multi_user, "team-a")


def test_cli_token_from_kubectl_create_token(
    multi_user: FakeKfp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stand-in kubectl that records its arguments and prints a token; the real
    # `kubectl create token` is run against a real API server in tests/cluster.
    calls = tmp_path / "calls"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho team-a-token\n')
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    argv = [
        "--host",
        multi_user.url,
        "--namespace",
        "team-a",
        "--token-service-account",
        "default-editor",
        "--kubectl",
        str(kubectl),
        "upload",
    ]
    assert kfp_client.main(argv) == 0

    assert calls.read_text().split() == [
        "create",
        "token",
        "default-editor",
        "--namespace=team-a",
        f"--audience={TOKEN_AUDIENCE}",
        "--duration=1h",
    ]
    _assert_every_call_is_authorised_and_namespaced(multi_user, "team-a")
    assert "team-a-token" not in capsys.readouterr().out


def test_cli_token_service_account_needs_a_namespace(
    kfp: FakeKfp, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--host", kfp.url, "--token-service-account", "default-editor", "upload"]
    assert kfp_client.main(argv) == 2
    assert "needs --namespace or $KFP_NAMESPACE" in capsys.readouterr().err
