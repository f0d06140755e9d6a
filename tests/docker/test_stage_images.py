"""The stage images (images/<stage>/Dockerfile): one per stage, built by ``make images`` with the
tags of ``lifecycle.images``, which the compiled components use; each runs its stage's CLI as a
non-root user on a read-only root filesystem, and carries no credentials.

The Dockerfile and compiled-YAML checks need no engine; the others skip without one, or fail
when ``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli.main import build_parser
from lifecycle.images import STAGES
from pipelines.component_docs import image_extras
from tests.credentials import find_credentials, secret_environment
from tests.docker._engine import docker, inspect_image
from tests.docker.test_base_image import NON_ROOT_UID, OCI_LABELS
from tests.stage_imports import absent_modules, import_check_script, present_modules

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "images"
COURSE = ROOT / "pipelines" / "scenarios" / "course"
# Folders under images/ that are not stages: the project base, the registry-free Python base
# and MinIO's image.
NOT_STAGES = {"base", "base-offline", "minio"}
# The CLI subcommand of each stage (`lifecycle train` is the training pipeline; the stage is `fit`).
SUBCOMMANDS = {
    "ingest": "ingest",
    "validate": "validate",
    "train": "fit",
    "evaluate": "evaluate",
    "detect_drift": "detect-drift",
    "select_data": "select-data",
    "promote": "promote",
    "finalize": "finalize",
    "serve": "serve",
    "predict": "predict",
}
# A stage without extras adds metadata only; anything beyond this would be a real layer.
MAX_OWN_BYTES = 1_000_000
KFP_PYTHON = "/opt/venv/bin/python3"
READ_ONLY = ("--network", "none", "--read-only", "--tmpfs", "/tmp")
# The stages the monitoring pipeline runs (serving and batch scoring are not among them).
MONITORING_STAGES = (
    "ingest", "validate", "train", "evaluate", "detect_drift", "select_data", "promote", "finalize",
)  # fmt: skip


def dockerfile(stage: str) -> str:
    return (IMAGES / stage / "Dockerfile").read_text()


def entrypoint_of(text: str) -> list[str]:
    match = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert match, "no exec-form ENTRYPOINT"
    return json.loads(match.group(1))


# No engine needed ---------------------------------------------------------------------


def test_every_stage_has_a_dockerfile_and_every_dockerfile_is_a_stage() -> None:
    folders = {path.parent.name for path in IMAGES.glob("*/Dockerfile")}
    assert set(STAGES) <= folders, f"no Dockerfile for {sorted(set(STAGES) - folders)}"
    assert folders - NOT_STAGES == set(STAGES), (
        f"not a stage: {sorted(folders - NOT_STAGES - set(STAGES))}"
    )
    assert set(SUBCOMMANDS) == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_dockerfile_builds_on_the_base_and_runs_the_stage_cli(stage: str) -> None:
    text = dockerfile(stage)
    assert re.search(r"^ARG BASE_TAG\s*$", text, re.MULTILINE)
    assert re.search(r"^FROM \$\{BASE_TAG\}\s*$", text, re.MULTILINE)
    assert re.search(rf"^USER {NON_ROOT_UID}(:{NON_ROOT_UID})?\s*$", text, re.MULTILINE)
    assert entrypoint_of(text) == ["lifecycle", SUBCOMMANDS[stage]]
    subcommands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert SUBCOMMANDS[stage] in subcommands
    # Nothing is copied in: the stage's code and dependencies are all in the base.
    assert not re.search(r"^(COPY|ADD)\s", text, re.MULTILINE | re.IGNORECASE)


def test_one_registry_names_the_built_tags_and_the_compiled_images(tmp_path: Path) -> None:
    # `make … REGISTRY=r` exports LIFECYCLE_REGISTRY: the tags make images builds and
    # kind-load loads (python -m lifecycle.images) and the images a compile names must agree.
    env = {**os.environ, "LIFECYCLE_REGISTRY": "registry.example:5000"}
    printed = subprocess.run(
        [sys.executable, "-m", "lifecycle.images"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tags = dict(line.split() for line in printed.splitlines())
    subprocess.run(
        [sys.executable, "-m", "pipelines.compile", "--output-root", str(tmp_path)],
        env=env,
        capture_output=True,
        check=True,
    )
    for stage in STAGES:
        spec = yaml.safe_load((tmp_path / "components" / stage / "component.yaml").read_text())
        images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
        assert images == {tags[stage]}
        assert tags[stage].startswith("registry.example:5000/lifecycle-")
    pipeline, _platform = yaml.safe_load_all(
        (tmp_path / "pipelines" / "monitoring_pipeline.yaml").read_text()
    )
    images = {e["container"]["image"] for e in pipeline["deploymentSpec"]["executors"].values()}
    assert images == {tags[stage] for stage in MONITORING_STAGES}


# Engine needed ------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_image_is_the_base_plus_its_extras(
    stage: str, stage_images: dict[str, str], base_image: str
) -> None:
    image, base = inspect_image(stage_images[stage]), inspect_image(base_image)
    layers, base_layers = image["RootFS"]["Layers"], base["RootFS"]["Layers"]
    assert layers[: len(base_layers)] == base_layers, "not built on the base"
    # One layer per extra the Dockerfile installs (image_extras), nothing else of weight.
    assert len(layers) - len(base_layers) == len(image_extras(stage))
    if not image_extras(stage):
        assert image["Size"] - base["Size"] < MAX_OWN_BYTES
    config = image["Config"]
    assert config["Entrypoint"] == entrypoint_of(dockerfile(stage))
    assert config["User"].split(":")[0] == str(NON_ROOT_UID)
    labels = config["Labels"] or {}
    assert labels["org.opencontainers.image.title"] == f"kfp-lifecycle-{stage.replace('_', '-')}"
    assert labels["org.opencontainers.image.base.name"] == base_image
    base_labels = base["Config"]["Labels"]
    for inherited in OCI_LABELS:  # source, version, revision: the base's, never blank
        assert labels[inherited] == base_labels[inherited] != "", inherited


@pytest.mark.parametrize("stage", STAGES)
def test_image_holds_no_credentials(stage: str, stage_images: dict[str, str]) -> None:
    tag = stage_images[stage]
    env = inspect_image(tag)["Config"]["Env"] or []
    assert secret_environment(env) == [], env
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    assert find_credentials(history) == []


@pytest.mark.parametrize("stage", STAGES)
def test_help_runs_read_only_as_non_root(stage: str, stage_images: dict[str, str]) -> None:
    out = docker("run", "--rm", *READ_ONLY, stage_images[stage], "--help").stdout
    assert out.startswith(f"usage: lifecycle {SUBCOMMANDS[stage]}"), out[:200]


@pytest.mark.parametrize("stage", STAGES)
def test_kfp_command_finds_the_venv_python(stage: str, stage_images: dict[str, str]) -> None:
    # KFP replaces the entrypoint with `sh -ec '... python3 -m kfp.dsl.executor_main ...'`.
    script = (
        'command -v python3; python3 -c "import kfp.dsl.executor_main, components; print(1)"; id -u'
    )
    out = docker(
        "run", "--rm", *READ_ONLY, "--entrypoint", "sh", stage_images[stage], "-ec", script
    ).stdout
    assert out.split() == [KFP_PYTHON, "1", str(NON_ROOT_UID)]


@pytest.mark.parametrize("stage", STAGES)
def test_the_entry_point_imports_in_its_image_without_what_it_leaves_out(
    stage: str, stage_images: dict[str, str]
) -> None:
    # The stage's component module and every import its function makes, run by the image's
    # python; then each heavy module of the extras: present when installed, else absent.
    out = docker(
        "run", "--rm", *READ_ONLY, "--entrypoint", "python3", stage_images[stage],
        "-c", import_check_script(stage),
    ).stdout  # fmt: skip
    found = dict(line.split("=") for line in out.split())
    assert found == {
        **{module: "0" for module in absent_modules(stage)},
        **{module: "1" for module in present_modules(stage)},
    }


@pytest.mark.parametrize("stage", [s for s in STAGES if "report" in image_extras(s)])
def test_the_charts_draw_on_a_read_only_root(stage: str, stage_images: dict[str, str]) -> None:
    # matplotlib writes its cache under MPLCONFIGDIR (the base sets it under /tmp).
    script = "import matplotlib.pyplot as p; p.plot([1, 2]); p.savefig('/tmp/c.png'); print('ok')"
    out = docker(
        "run", "--rm", *READ_ONLY, "--entrypoint", "python3", stage_images[stage], "-c", script
    ).stdout  # fmt: skip
    assert out.split() == ["ok"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the course's files, writable by the images' user (mounted at /data)."""
    folder = tmp_path_factory.mktemp("stage-cli") / "data"
    folder.mkdir()
    for name in ("data_init.csv", "data_test.csv", "batch_1.csv"):
        shutil.copy(COURSE / name, folder / name)
    if os.geteuid() == 0:
        for path in (folder, *folder.iterdir()):
            os.chown(path, NON_ROOT_UID, NON_ROOT_UID)
    return folder


def stage_cli(stage_images: dict[str, str], data_dir: Path, stage: str, *args: str) -> str:
    """Run ``stage``'s image on ``data_dir`` with no network, read-only, and return stdout."""
    user = () if os.geteuid() == 0 else ("--user", f"{os.getuid()}:{os.getgid()}")
    return docker(
        "run",
        "--rm",
        *READ_ONLY,
        *user,
        "--volume",
        f"{data_dir}:/data",
        stage_images[stage],
        *args,
        "--store",
        "/data/store",
    ).stdout


def test_each_stage_cli_runs_on_a_mounted_folder(
    stage_images: dict[str, str], data_dir: Path
) -> None:
    # One stage after the other, each in its own image, like the training and monitoring runs.
    def run(stage: str, *args: str) -> str:
        return stage_cli(stage_images, data_dir, stage, *args)

    assert run("validate", "--data", "/data/batch_1.csv").startswith(
        "/data/batch_1.csv: valid, 10 rows"
    )
    keys = {
        name: json.loads(run("ingest", "--data", f"/data/{name}.csv", "--name", name))["key"]
        for name in ("data_init", "data_test", "batch_1")
    }
    assert (data_dir / "store" / keys["batch_1"]).is_file(), (
        "ingest wrote nothing to the mounted store"
    )
    fitted = run("train", "--dataset", keys["data_init"], "--test-dataset", keys["data_test"])
    assert "registered course 1.0" in fitted
    evaluation = json.loads(
        run(
            "evaluate", "--model-version", "1.0", "--dataset", keys["batch_1"], "--batch", "batch_1"
        )
    )
    # The course's numbers for model 1.0 on batch_1.
    assert evaluation["metrics"]["RMSE"] == pytest.approx(0.467999, abs=1e-6)
    assert evaluation["metrics"]["r2"] == pytest.approx(0.991870, abs=1e-6)
    decision = json.loads(
        run(
            "detect_drift",
            "--model-version",
            "1.0",
            "--dataset",
            keys["batch_1"],
            "--batch",
            "batch_1",
            "--evaluation-time",
            evaluation["time_stamp"],
        )
    )
    assert decision["batch"] == "batch_1" and isinstance(decision["drift"], bool)
    selected = json.loads(run("select_data", "--model-version", "1.0"))
    assert selected["rows"] == 20  # data_init plus batch_1
    promotion = json.loads(
        run("promote", "--challenger", "1.0", "--dataset", keys["batch_1"], "--batch", "batch_1")
    )
    assert promotion["decision"] == "promoted" and promotion["challenger"] == "1.0"
    # An operator ends a run whose exit handler never ran: nothing of it is left.
    assert "rolled back" in run("finalize", "--run-id", "a-lost-run", "--status", "FAILED")
