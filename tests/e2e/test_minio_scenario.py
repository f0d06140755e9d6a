"""The course scenario with every artefact in the real MinIO server, driven by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lifecycle import keys
from lifecycle.consistency import verify_store
from lifecycle.registry import ModelRegistry
from lifecycle.store import open_store

pytestmark = pytest.mark.e2e


def lifecycle(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=1200,
    )


def test_course_scenario_in_minio(minio_store_uri, minio_env, tmp_path):
    # Without the served segment: it keeps a folder store of its own whatever the scenario's
    # (tests/e2e/test_serving_loop.py).
    run = lifecycle(
        "scenario",
        "course",
        "--no-serve",
        "--store",
        minio_store_uri,
        "--report",
        str(tmp_path / "report.html"),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert minio_env.secret_key not in output  # credentials never reach the logs
    store = open_store(minio_store_uri)
    assert ModelRegistry(store, "course").versions() == [f"1.{i}" for i in range(7)]
    assert ModelRegistry(store, "course").alias() == "1.6"
    assert verify_store(store) == []

    models = lifecycle("models", "--store", minio_store_uri)
    assert models.returncode == 0 and "* 1.6" in models.stdout

    exported = lifecycle("export-views", "--store", minio_store_uri, "--to", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    history = (tmp_path / keys.EVALUATION_VIEW).read_text().splitlines()
    assert history[0] == "time_stamp,version,batch,metric,score" and len(history) == 1 + 39
    drift = (tmp_path / keys.DRIFT_VIEW).read_text().splitlines()
    assert len(drift) == 1 + 6


def test_wrong_credentials_fail_in_one_line_without_echoing_them(
    minio_store_uri, minio_env, monkeypatch
):
    monkeypatch.setenv("MINIO_SECRET_KEY", "wrong-secret-for-this-test")
    run = lifecycle("models", "--store", minio_store_uri)
    assert run.returncode != 0
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "wrong-secret-for-this-test" not in run.stderr + run.stdout
