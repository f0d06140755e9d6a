"""MLflow tracking of train and evaluate, against a real local ``mlflow server``.

The server runs on 127.0.0.1 with a SQLite backend in ``tmp_path``. Without mlflow (the
``tracking`` extra and the server's dev dependencies) the server tests skip, or fail when
``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.evaluate.logic import evaluate
from components.ingest.logic import ingest
from components.train.logic import train
from lifecycle.config import LifecycleConfig
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore
from lifecycle.tracking import (
    TRACKING_URI_ENV,
    TrackingSettings,
    TrackingWarning,
    log_evaluation,
)
from tests.conftest import skip_or_fail

COURSE = Path(__file__).resolve().parents[2] / "pipelines" / "scenarios" / "course"
EXPERIMENT = "lifecycle-test"
_READY_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mlflow_command() -> list[str] | None:
    if importlib.util.find_spec("mlflow") is None:
        return None
    executable = Path(sys.executable).with_name("mlflow")
    return [str(executable)] if executable.exists() else [shutil.which("mlflow") or "mlflow"]


@pytest.fixture()
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on a free loopback port; yields its URI."""
    command = _mlflow_command()
    if command is None:
        skip_or_fail("mlflow is not installed (pip install -e '.[dev]')")
    port = _free_port()
    log = (tmp_path / "mlflow.log").open("wb")
    process = subprocess.Popen(
        [
            *command,
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
            "--default-artifact-root",
            str(tmp_path / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _READY_TIMEOUT
        while True:
            if process.poll() is not None:
                log.flush()
                output = (tmp_path / "mlflow.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server exited with {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not ready on {uri} after {_READY_TIMEOUT} s")
            time.sleep(0.5)
        yield uri
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_train_and_evaluate_log_params_metrics_and_version(
    mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv(TRACKING_URI_ENV, mlflow_server)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
    store = LocalStore(tmp_path / "store")
    config = LifecycleConfig()
    run = RunContext("tracked", "stage")
    training = ingest(store, str(COURSE / "data_init.csv"), "train", config.schema, run)
    test = ingest(store, str(COURSE / "data_test.csv"), "test", config.schema, run)

    model, _ = train(store, config, [training.key], test.key, None, run)
    evaluation = evaluate(store, config, model.version, test.key, "test", "test", run)

    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    runs = {
        run.data.tags["lifecycle.stage"]: run
        for run in client.search_runs([experiment.experiment_id])
    }
    assert set(runs) == {"train", "evaluate"}

    trained = runs["train"]
    assert trained.info.status == "FINISHED"
    assert trained.data.tags["model_version"] == model.version == "1.0"
    assert trained.data.params["model_version"] == "1.0"
    assert trained.data.params["estimator"] == "sklearn.linear_model.LinearRegression"
    assert trained.data.params["param.fit_intercept"] == "True"
    assert trained.data.params["training_datasets"] == training.key
    assert trained.data.metrics["test_RMSE"] == pytest.approx(model.test_metrics["RMSE"])
    assert trained.data.metrics["test_r2"] == pytest.approx(model.test_metrics["r2"])

    evaluated = runs["evaluate"]
    assert evaluated.data.tags["model_version"] == "1.0"
    assert evaluated.data.params == {
        "model_version": "1.0",
        "batch": "test",
        "dataset_key": test.key,
        "role": "test",
    }
    assert evaluated.data.metrics == pytest.approx(evaluation.metrics)
    assert set(evaluated.data.metrics) == {"RMSE", "r2", "MAE"}


def test_unset_uri_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRACKING_URI_ENV, raising=False)
    assert TrackingSettings.from_env().enabled is False
    key = "datasets/test/x/data.parquet"
    assert log_evaluation("course", "1.0", "test", key, "test", {"RMSE": 1.0}) is None


def test_dead_server_warns_and_does_not_fail(tmp_path: Path) -> None:
    if importlib.util.find_spec("mlflow") is None:
        skip_or_fail("mlflow is not installed (pip install -e '.[dev]')")
    settings = TrackingSettings(uri=f"http://127.0.0.1:{_free_port()}", experiment=EXPERIMENT)
    started = time.monotonic()
    with pytest.warns(TrackingWarning, match="could not log to MLflow"):
        run_id = log_evaluation(
            "course",
            "1.0",
            "test",
            "datasets/test/x/data.parquet",
            "test",
            {"RMSE": 1.0},
            settings=settings,
        )
    assert run_id is None
    assert time.monotonic() - started < 60


def test_stage_survives_a_dead_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """train and evaluate still register and record when the tracking server is down."""
    monkeypatch.setenv(TRACKING_URI_ENV, f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    store = LocalStore(tmp_path / "store")
    config = LifecycleConfig()
    run = RunContext("tracked", "stage")
    training = ingest(store, str(COURSE / "data_init.csv"), "train", config.schema, run)
    with pytest.warns(TrackingWarning):
        model, _ = train(store, config, [training.key], None, None, run)
    assert model.version == "1.0"
