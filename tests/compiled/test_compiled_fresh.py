"""The committed component and pipeline YAML equal a fresh compile (run `make compile`).

As in kubeflow/pipelines' own compile-and-compare tests, ``sdkVersion`` and the images are left
out of the comparison: the images depend on the registry of the compiling process
(``$LIFECYCLE_REGISTRY``) and are checked on their own, against the committed default.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lifecycle.images import DEFAULT_REGISTRY, STAGES, image_tag
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
def test_each_component_runs_in_its_stage_image_without_installing_anything(stage):
    spec = yaml.safe_load((ROOT / "components" / stage / "component.yaml").read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    container = executor["container"]
    assert container["image"] == image_tag(stage, DEFAULT_REGISTRY)
    command = " ".join(container["command"])
    assert "pip install" not in command
