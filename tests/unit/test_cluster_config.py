"""The config's cluster: section (per-stage requests, limits and deadlines), validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import (
    ClusterConfig,
    LifecycleConfig,
    cpu_cores,
    load_config,
    memory_bytes,
)
from lifecycle.errors import InvalidInputError
from lifecycle.images import STAGES


@pytest.mark.parametrize(
    ("quantity", "cores"), [("500m", 0.5), ("2", 2.0), ("0.25", 0.25), ("1500m", 1.5)]
)
def test_cpu_quantities(quantity: str, cores: float) -> None:
    assert cpu_cores(quantity) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("quantity", "size"),
    [("1Gi", 2**30), ("256Mi", 256 * 2**20), ("500M", 5e8), ("1024", 1024.0)],
)
def test_memory_quantities(quantity: str, size: float) -> None:
    assert memory_bytes(quantity) == pytest.approx(size)


def test_defaults_and_per_stage_overrides() -> None:
    cluster = ClusterConfig()
    for stage in STAGES:
        resources = cluster.for_stage(stage)
        assert (resources.cpu_request, resources.cpu_limit) == ("100m", "1")
        assert resources.memory_request == "256Mi" and resources.timeout_seconds == 1800
        larger = stage in {"detect_drift", "train", "select_data"}
        assert resources.memory_limit == ("2Gi" if larger else "1Gi")


def test_a_partial_override_keeps_the_other_defaults() -> None:
    cluster = ClusterConfig.model_validate(
        {"defaults": {"timeout_seconds": 60}, "stages": {"train": {"cpu_limit": "4"}}}
    )
    train = cluster.for_stage("train")
    assert (train.cpu_limit, train.timeout_seconds, train.memory_limit) == ("4", 60, "1Gi")
    assert cluster.for_stage("evaluate").cpu_limit == "1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cluster:\n  stages:\n    trian: {}\n", "cluster.stages: unknown stages"),
        ("cluster:\n  defaults: {cpu_limit: lots}\n", "cluster.defaults.cpu_limit"),
        ("cluster:\n  defaults: {memory_limit: 2GB}\n", "cluster.defaults.memory_limit"),
        ("cluster:\n  defaults: {timeout_seconds: 0}\n", "cluster.defaults.timeout_seconds"),
        (
            "cluster:\n  stages:\n    train: {memory_request: 4Gi}\n",
            "stage train: memory_request 4Gi exceeds memory_limit 1Gi",
        ),
        ("cluster:\n  defaults: {cpu_request: '2'}\n", "cpu_request 2 exceeds cpu_limit 1"),
        ("cluster:\n  nodes: 3\n", "cluster.nodes"),
    ],
)
def test_bad_cluster_sections_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"invalid config file {path}: ")
    assert message in str(caught.value)


def test_the_course_file_spells_out_the_defaults() -> None:
    course = Path(__file__).resolve().parents[2] / "pipelines" / "scenarios" / "course.yaml"
    assert load_config(course).cluster == LifecycleConfig().cluster
