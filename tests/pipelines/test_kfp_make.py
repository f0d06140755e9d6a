"""mk/kfp.mk: the targets exist, are documented, and pass what the CLI expects (``make -n``)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.kfp_client import build_parser

REPO = Path(__file__).resolve().parents[2]
TARGETS = ("upload-data", "upload", "submit", "schedule", "unschedule", "e2e-kind")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make absent")


def make_n(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def client_argv(output: str) -> list[str]:
    """The arguments after ``-m pipelines.kfp_client`` in a dry-run's (continued) line."""
    joined = output.replace("\\\n", " ")
    (line,) = [x for x in joined.splitlines() if "-m pipelines.kfp_client" in x]
    return shlex.split(line.split("-m pipelines.kfp_client", 1)[1])


def test_targets_are_in_make_help() -> None:
    out = subprocess.run(["make", "help"], cwd=REPO, capture_output=True, text=True).stdout
    for target in TARGETS:
        assert f" {target} " in out.replace("\x1b[36m", " ").replace("\x1b[0m", " "), target


def test_submit_passes_pipeline_batch_params_and_wait() -> None:
    argv = client_argv(
        make_n("submit", "PIPELINE=monitoring", "BATCH=batch_3", "PARAMS=a=1 b=2", "WAIT=1")
    )
    args = build_parser().parse_args(argv)
    assert (args.command, args.pipeline, args.batch) == ("submit", "monitoring", "batch_3")
    assert args.param == ["a=1", "b=2"] and args.wait
    assert args.config == "pipelines/scenarios/course.yaml"


def test_schedule_passes_the_six_field_cron_as_one_argument() -> None:
    args = build_parser().parse_args(client_argv(make_n("schedule")))
    assert args.cron == "0 0 2 * * *"
    assert (args.source, args.batch_id) == ("incoming/latest.csv", "daily")
    args = build_parser().parse_args(client_argv(make_n("schedule", "CRON=0 30 1 * * 1")))
    assert args.cron == "0 30 1 * * 1"


def test_kfp_host_is_exported_with_the_api_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KFP_HOST"}
    show = ["make", "--no-print-directory", "--eval", "show-host: ; @echo KFP_HOST=$$KFP_HOST"]
    out = subprocess.run([*show, "show-host"], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "KFP_HOST=http://localhost:8888", out.stderr
    env["KFP_HOST"] = "http://127.0.0.1:31888"
    out = subprocess.run([*show, "show-host"], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "KFP_HOST=http://127.0.0.1:31888", out.stderr


def test_e2e_kind_runs_the_steps_in_order() -> None:
    text = (REPO / "mk" / "kfp.mk").read_text()
    recipe = text.split("e2e-kind:", 1)[1]
    steps = [line.split("$(MAKE) ", 1)[1] for line in recipe.splitlines() if "$(MAKE) " in line]
    assert steps == [
        "kind-up",
        "images",
        "kind-load",
        "kfp-deploy",
        "upload-data",
        "upload",
        "submit PIPELINE=training WAIT=1",
        "schedule",
    ]
