"""``make run-docker``: the course scenario with ``kfp.local.DockerRunner`` on the stage images
gives the numbers of the subprocess runner (docs/'s committed run, which a fresh subprocess run
equals: tests/e2e/test_local_runner.py), against a local folder and against MinIO, and never
pulls an image.

Needs the engine (skips without one, fails when ``REQUIRE_SERVICES=1``); the MinIO case needs
the server binary too (``make minio-install``).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lifecycle.store import open_store
from pipelines.local import DOCKER, RUNNER_ENV, SUBPROCESS, resolve_runner
from tests.helpers import assert_docs_quote

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
_RUN_TIMEOUT = 1800.0


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


def summary_table(stdout: str) -> list[str]:
    table = [line for line in stdout.splitlines() if line.startswith("batch_")]
    assert len(table) == 6, stdout[-2000:]
    return table


def run_docker(store: str) -> subprocess.CompletedProcess[str]:
    """``make run-docker`` without the served segment: the segment runs on the host with the
    subprocess runner whatever the runner (tests/e2e/test_serving_loop.py)."""
    return make("run-docker", f"STORE={store}", "SCENARIO_ARGS=--no-serve")


def stages_of_the_scenario() -> set[str]:
    """The stages of the pipelines the course scenario runs (training and monitoring), read
    from their compiled specs: batch scoring's ``predict`` is not one of them."""
    specs = ("training_pipeline.yaml", "monitoring_pipeline.yaml")
    text = "".join((ROOT / "pipelines" / spec).read_text() for spec in specs)
    images = re.findall(r"image: \S*/lifecycle-([\w-]+):", text)
    return {image.replace("-", "_") for image in images}


def assert_run_in_the_images(stdout: str, stage_images: dict[str, str]) -> None:
    assert "Pulling image" not in stdout
    scenario = stages_of_the_scenario()
    assert {"train", "detect_drift", "promote"} <= scenario
    for tag in {stage_images[stage] for stage in scenario}:
        assert f"Found image '{tag}'" in stdout, f"{tag} never ran"


# What the subprocess runner gives is what docs/ quotes (tests/e2e/test_local_runner.py checks
# a fresh run against it): the same facts from the stage images mean the same runs.
def test_run_docker_gives_the_numbers_of_the_subprocess_runner(
    stage_images: dict[str, str], tmp_path: Path
) -> None:
    in_docker = run_docker(str(tmp_path / "docker"))
    assert_run_in_the_images(in_docker.stdout, stage_images)
    summary_table(in_docker.stdout)
    assert_docs_quote(open_store(str(tmp_path / "docker")))


@pytest.mark.minio
def test_run_docker_on_minio_gives_the_numbers_of_the_subprocess_runner(
    stage_images: dict[str, str], minio_store_uri: str
) -> None:
    # STORE and the credentials reach the containers through their environment only (host
    # networking reaches 127.0.0.1), never through pipeline parameters.
    in_docker = run_docker(minio_store_uri)
    assert_run_in_the_images(in_docker.stdout, stage_images)
    summary_table(in_docker.stdout)
    assert_docs_quote(open_store(minio_store_uri))
    assert os.environ["MINIO_SECRET_KEY"] not in in_docker.stdout + in_docker.stderr
