"""``make run-docker``: the course scenario with ``kfp.local.DockerRunner`` on the stage images
gives the same evaluation history as the subprocess runner (same RMSE and R² per batch and
version), against a local folder and against MinIO, and never pulls an image.

Needs the engine (skips without one, fails when ``REQUIRE_SERVICES=1``); the MinIO case needs
the server binary too (``make minio-install``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lifecycle.history import evaluation_log
from lifecycle.store import open_store
from pipelines.local import (
    DOCKER,
    RUNNER_ENV,
    SUBPROCESS,
    resolve_runner,
    run_monitoring,
    run_training,
)
from pipelines.scenarios import course_scenario

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
_RUN_TIMEOUT = 1800.0
# The course's numbers (README, tests/unit/test_course_numbers.py) of model 1.0.
COURSE_TEST_RMSE = 0.149807
COURSE_BATCH_1 = {"RMSE": 0.467999, "r2": 0.991870}

History = list[tuple[tuple[str, ...], float]]


def history(store_uri: str) -> History:
    """The evaluation records without their time stamps, in a stable order."""
    records: list[dict[str, Any]] = evaluation_log(open_store(store_uri)).records()
    rows = [
        (
            (r["model_name"], r["version"], r["batch"], r["role"], r["metric"], r["dataset_key"]),
            r["score"],
        )
        for r in records
    ]
    return sorted(rows)


def assert_same_history(got: History, expected: History) -> None:
    assert [key for key, _ in got] == [key for key, _ in expected]
    for (key, score), (_, expected_score) in zip(got, expected, strict=True):
        # The images install .venv's pinned versions, so the numbers agree to rounding.
        assert score == pytest.approx(expected_score, rel=1e-9, abs=1e-12), key


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=_RUN_TIMEOUT,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, (
        f"make {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    )
    return result


def test_runner_is_chosen_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUNNER_ENV, raising=False)
    assert resolve_runner() == SUBPROCESS
    monkeypatch.setenv(RUNNER_ENV, DOCKER)
    assert resolve_runner() == DOCKER
    assert resolve_runner(SUBPROCESS) == SUBPROCESS
    with pytest.raises(Exception, match="unknown runner 'kubernetes'"):
        resolve_runner("kubernetes")


def test_run_docker_equals_the_subprocess_run(stage_images: dict[str, str], tmp_path: Path) -> None:
    subprocess_store, docker_store = tmp_path / "subprocess", tmp_path / "docker"
    plain = make("run", f"STORE={subprocess_store}")
    in_docker = make("run-docker", f"STORE={docker_store}")

    assert "Pulling image" not in in_docker.stdout
    for tag in set(stage_images.values()):
        assert f"Found image '{tag}'" in in_docker.stdout, f"{tag} never ran"
    expected = history(str(subprocess_store))
    assert len(expected) == 13 * 3  # (test, 6 × monitor, 6 × challenger) × (RMSE, r2, MAE)
    assert_same_history(history(str(docker_store)), expected)
    # The same summary table (the last lines before the timing).
    table = [line for line in plain.stdout.splitlines() if line.startswith("batch_")]
    assert table and table == [
        line for line in in_docker.stdout.splitlines() if line.startswith("batch_")
    ]


@pytest.mark.minio
def test_docker_runner_on_minio(
    stage_images: dict[str, str], minio_store_uri: str, tmp_path: Path
) -> None:
    # Credentials reach the containers through their environment (host networking reaches
    # 127.0.0.1); the pipeline parameters carry only the store URI.
    plan = course_scenario()
    batch_1 = dict(plan.batches)["batch_1"]
    local_uri = str(tmp_path / "store")
    for store_uri, runner in ((minio_store_uri, DOCKER), (local_uri, SUBPROCESS)):
        run_training(str(plan.training_file), str(plan.test_file), store_uri, plan.config, runner)
        run_monitoring(str(batch_1), "batch_1", store_uri, plan.config, runner)

    got = history(minio_store_uri)
    assert_same_history(got, history(local_uri))
    scores = {(key[1], key[2], key[4]): score for key, score in got if key[3] != "challenger"}
    assert scores[("1.0", "test", "RMSE")] == pytest.approx(COURSE_TEST_RMSE, abs=1e-6)
    for metric, value in COURSE_BATCH_1.items():
        assert scores[("1.0", "batch_1", metric)] == pytest.approx(value, abs=1e-6)
