"""mk/kfp.mk: the targets exist, are documented, and pass what the CLI expects (``make -n``)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.kfp_client import build_parser

REPO = Path(__file__).resolve().parents[2]
# Every step a user takes on a cluster (mk/cluster.mk and mk/kfp.mk).
CLUSTER_TARGETS = {
    "kustomize-install", "kind-install", "manifests-secret", "manifests", "manifests-check",
    "manifests-remote", "manifests-images", "kind-up", "kind-down", "kfp-deploy", "kind-load",
    "ui", "api", "upload-data", "upload", "submit", "schedule", "unschedule", "e2e-kind",
    "images-push", "image-minio", "kube-install",
}  # fmt: skip
# What `make e2e-kind` runs, in order: each sub-make, and the command that does its work.
E2E_STEPS = [
    ("kind-up", "scripts/kind-up.sh"),
    ("images", "docker build"),
    ("kind-load", "scripts/kind-load.sh"),
    ("kfp-deploy", "scripts/kfp-deploy.sh"),
    ("upload-data", "scripts/kfp-upload-data.sh"),
    ("upload", "-m pipelines.kfp_client --kubectl kubectl upload"),
    (
        "submit PIPELINE=training WAIT=1",
        "-m pipelines.kfp_client --kubectl kubectl submit training",
    ),
    ("schedule", "-m pipelines.kfp_client --kubectl kubectl schedule"),
]

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


def test_every_cluster_target_is_in_make_help() -> None:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True
    ).stdout
    listed = {
        line.split()[0] for line in re.sub(r"\x1b\[[0-9;]*m", "", out).splitlines() if line.strip()
    }
    missing = CLUSTER_TARGETS - listed
    assert not missing, sorted(missing)


def test_submit_passes_pipeline_batch_params_and_wait() -> None:
    argv = client_argv(
        make_n("submit", "PIPELINE=monitoring", "BATCH=batch_3", "PARAMS=a=1 b=2", "WAIT=1")
    )
    args = build_parser().parse_args(argv)
    assert (args.command, args.pipeline, args.batch) == ("submit", "monitoring", "batch_3")
    assert args.param == ["a=1", "b=2"] and args.wait
    assert args.config == "pipelines/scenarios/course.yaml"


def test_upload_compiles_with_the_config() -> None:
    args = build_parser().parse_args(client_argv(make_n("upload", "CONFIG=my.yaml")))
    assert (args.command, args.config) == ("upload", "my.yaml")


def test_schedule_passes_the_six_field_cron_as_one_argument() -> None:
    args = build_parser().parse_args(client_argv(make_n("schedule")))
    assert args.cron == "0 0 2 * * *"
    assert (args.source, args.batch_id) == ("incoming/latest.csv", "")
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
    # `make -n` still runs the $(MAKE) lines, each as a dry run: this is what would run.
    lines = make_n("e2e-kind").replace("\\\n", " ").splitlines()
    steps = [i for i, line in enumerate(lines) if re.match(r"make (?!--)", line)]
    assert [lines[i].removeprefix("make ") for i in steps] == [step for step, _ in E2E_STEPS]
    for (step, command), start, end in zip(E2E_STEPS, steps, [*steps[1:], len(lines)], strict=True):
        section = lines[start + 1 : end]
        assert any(command in line for line in section), f"{step}: no {command!r} in {section}"
        if step.startswith("submit"):
            (submit,) = [line for line in section if command in line]
            assert "--wait" in submit.split(), "the training run is waited for"
    assert lines[-1].startswith('echo "e2e-kind: done')
