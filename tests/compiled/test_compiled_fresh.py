"""The committed component and pipeline YAML equal a fresh compile (run `make compile`).

As in kubeflow/pipelines' own compile-and-compare tests, ``sdkVersion`` and the images are left
out of the comparison: the images depend on the registry of the compiling process
(``$LIFECYCLE_REGISTRY``) and on the content of every source (lifecycle.images), and are
checked on their own. The committed YAML names the default registry and the content tags of
its last ``make compile``; ``make upload`` always compiles afresh, so what reaches a cluster
names the current tags.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lifecycle.images import DEFAULT_REGISTRY, STAGES, TAG_LENGTH, image_name, image_tag
from pipelines.compile import ROOT, compile_all


def _normalised(path: Path) -> list:
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    for document in documents:
        if isinstance(document, dict):
            document.pop("sdkVersion", None)
            for executor in document.get("deploymentSpec", {}).get("executors", {}).values():
                executor["container"].pop("image", None)
    return documents


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("compiled")
    compile_all(output)
    return output


def test_every_compiled_file_is_committed_and_fresh(fresh):
    compiled = sorted(path.relative_to(fresh) for path in fresh.rglob("*.yaml"))
    # Every stage's component, three pipelines, the generated InferenceService manifest.
    assert len(compiled) == len(STAGES) + 4
    for relative in compiled:
        committed = ROOT / relative
        assert committed.exists(), f"{relative} is not committed: run `make compile`"
        assert _normalised(committed) == _normalised(fresh / relative), (
            f"{relative} is stale: run `make compile`"
        )


@pytest.mark.parametrize("stage", STAGES)
def test_each_component_runs_in_its_stage_image_without_installing_anything(stage, fresh):
    spec = yaml.safe_load((ROOT / "components" / stage / "component.yaml").read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    container = executor["container"]
    repository, tag = container["image"].rsplit(":", 1)
    assert repository == image_name(stage, DEFAULT_REGISTRY)
    assert re.fullmatch(rf"[0-9a-f]{{{TAG_LENGTH}}}", tag), "a content tag, never a version"
    command = " ".join(container["command"])
    assert "pip install" not in command
    # A compile names the current content tag.
    fresh_spec = yaml.safe_load((fresh / "components" / stage / "component.yaml").read_text())
    (fresh_executor,) = fresh_spec["deploymentSpec"]["executors"].values()
    assert fresh_executor["container"]["image"] == image_tag(stage)
