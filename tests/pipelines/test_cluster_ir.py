"""The compiled pipelines carry the cluster settings of pipelines.cluster (IR tests, no cluster).

Each pipeline is compiled afresh into ``tmp_path`` and checked; the committed YAML must equal
that compilation, so what ``make upload`` sends and what is reviewed are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler

from lifecycle.config import ClusterConfig, StageResources, StageResourcesOverride
from lifecycle.images import STAGES, image_tag
from pipelines.cluster import LOCAL, compile_with
from pipelines.monitoring import build_monitoring_pipeline, monitoring_pipeline
from pipelines.training import build_training_pipeline, training_pipeline

REPO = Path(__file__).resolve().parents[2]
PIPELINES = {"training": training_pipeline, "monitoring": monitoring_pipeline}
# Written out here rather than read from pipelines.cluster, so that a change there must be
# made deliberately here too: every stage is retried (each task is idempotent per run), with
# this policy.
RETRY_POLICY = {
    "maxRetryCount": 2,
    "backoffDuration": "15s",
    "backoffFactor": 3.0,
    "backoffMaxDuration": "120s",
}
STAGES_OF = {
    "training": {"validate", "ingest", "train", "evaluate", "promote", "serve", "finalize"},
    "monitoring": {
        "validate",
        "ingest",
        "evaluate",
        "detect_drift",
        "select_data",
        "train",
        "promote",
        "finalize",
    },
}
# The course defaults of the config's cluster: section, written out for the same reason.
RESOURCES = {
    "resourceCpuRequest": "100m",
    "resourceCpuLimit": "1",
    "resourceMemoryRequest": "256Mi",
    "resourceMemoryLimit": "1Gi",
}
LARGER_MEMORY_STAGES = {"detect_drift", "train", "select_data"}
TIMEOUT_SECONDS = "1800"
STAGE_SECRET_NAME = "lifecycle-minio-stage"
# Stages that write to the store: each takes KFP's run id and its task name.
WRITING_STAGES = {"ingest", "evaluate", "detect_drift", "select_data", "train", "promote"}
RUN_IDENTITY = {
    "run_id": {"runtimeValue": {"constant": "{{$.pipeline_job_uuid}}"}},
    "task_name": {"runtimeValue": {"constant": "{{$.pipeline_task_name}}"}},
}
SECRET_ENV = [
    {"secretKey": "accesskey", "envVar": "MINIO_ACCESS_KEY"},
    {"secretKey": "secretkey", "envVar": "MINIO_SECRET_KEY"},
]


def compile_docs(
    name: str, directory: Path, pipeline: Any = None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    path = directory / f"{name}_pipeline.yaml"
    compiler.Compiler().compile(pipeline or PIPELINES[name], str(path))
    text = path.read_text()
    spec, platform = yaml.safe_load_all(text)
    return spec, platform, text


@pytest.fixture(params=sorted(PIPELINES), scope="module")
def compiled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return (request.param, *compile_docs(request.param, tmp_path_factory.mktemp(request.param)))


def stage_of(component_name: str) -> str:
    """``comp-detect-drift`` -> ``detect_drift``; ``comp-evaluate-2`` -> ``evaluate``."""
    return re.sub(r"-\d+$", "", component_name.removeprefix("comp-")).replace("-", "_")


def all_tasks(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(dag owner, task name, task) for the root DAG and every sub-DAG (conditions)."""
    yield from (("root", name, task) for name, task in spec["root"]["dag"]["tasks"].items())
    for owner, component in spec["components"].items():
        for name, task in component.get("dag", {}).get("tasks", {}).items():
            yield owner, name, task


def stage_tasks(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for owner, name, task in all_tasks(spec):
        component = spec["components"][task["componentRef"]["name"]]
        if "executorLabel" in component:
            yield owner, name, task


def test_every_executor_reads_store_and_credentials_from_kubernetes(compiled) -> None:
    _, spec, platform, _ = compiled
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == set(spec["deploymentSpec"]["executors"])
    for label, config in executors.items():
        (secret,) = config["secretAsEnv"]
        # The stages' own MinIO user (bucket lifecycle only), never KFP's or the root's.
        assert secret["secretName"] == STAGE_SECRET_NAME, label
        assert secret["keyToEnv"] == SECRET_ENV, label
        assert secret.get("optional", False) is False, label
        (config_map,) = config["configMapAsEnv"]
        assert config_map["configMapName"] == "lifecycle-store", label
        assert config_map["keyToEnv"] == [{"configMapKey": "STORE", "envVar": "STORE"}], label
        assert config["imagePullPolicy"] == "IfNotPresent", label


def test_no_store_or_credentials_in_pipeline_parameters(compiled) -> None:
    _, spec, _, _ = compiled
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert not any(
        re.search(r"store|secret|access|password|minio", name, re.I) for name in parameters
    )
    for container in (e["container"] for e in spec["deploymentSpec"]["executors"].values()):
        assert "env" not in container, "credentials or STORE must not be literal container env"


def test_no_credential_values_anywhere_in_the_yaml(compiled) -> None:
    _, _, _, text = compiled
    for env_file in (REPO / "manifests" / "overlays" / "minio").glob("*.env"):
        # The real generated values, when this checkout has deployed.
        for line in env_file.read_text().splitlines():
            value = line.partition("=")[2].strip()
            if value:
                assert value not in text
    assert "mlpipeline-minio-artifact" not in text and "minio-root" not in text
    assert not re.search(r"\b[0-9a-fA-F]{16,}\b", text), "a hex token (generated keys are hex)"
    for word in ("minioadmin", "minio123", "AWS_SECRET_ACCESS_KEY", "password"):
        assert word not in text
    assert text.count("MINIO_SECRET_KEY") == text.count("secretKey: secretkey")


def test_caching_is_off_for_every_stage_task(compiled) -> None:
    name, spec, _, _ = compiled
    seen = set()
    for owner, task_name, task in stage_tasks(spec):
        seen.add(stage_of(task["componentRef"]["name"]))
        assert task["cachingOptions"].get("enableCache", False) is False, f"{owner}/{task_name}"
    assert seen == STAGES_OF[name]


def test_every_stage_is_retried_on_a_cluster(compiled) -> None:
    name, spec, _, _ = compiled
    retried = set()
    for owner, task_name, task in stage_tasks(spec):
        assert task["retryPolicy"] == RETRY_POLICY, f"{owner}/{task_name}"
        retried.add(stage_of(task["componentRef"]["name"]))
    assert retried == STAGES_OF[name]


@pytest.mark.parametrize("build", [build_training_pipeline, build_monitoring_pipeline])
def test_the_local_runner_gets_no_task_retries(build, tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    compiler.Compiler().compile(build(LOCAL), str(path))
    spec = next(yaml.safe_load_all(path.read_text()))
    assert all("retryPolicy" not in task for _, _, task in stage_tasks(spec))
    assert "pipeline_job_schedule_time_utc" not in path.read_text()


def test_every_writing_task_names_its_run_and_itself(compiled) -> None:
    name, spec, _, _ = compiled
    for owner, task_name, task in stage_tasks(spec):
        stage = stage_of(task["componentRef"]["name"])
        parameters = task["inputs"]["parameters"]
        if stage in WRITING_STAGES | {"finalize"}:
            for parameter, value in RUN_IDENTITY.items():
                assert parameters[parameter] == value, f"{owner}/{task_name}: {parameter}"


def test_the_body_runs_inside_an_exit_handler_that_finalizes_the_run(compiled) -> None:
    name, spec, _, _ = compiled
    root = spec["root"]["dag"]["tasks"]
    assert set(root) == {"exit-handler-1", "finalize"}
    finalize = root["finalize"]
    assert finalize["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert finalize["dependentTasks"] == ["exit-handler-1"]
    parameters = finalize["inputs"]["parameters"]
    assert parameters["status"] == {"taskFinalStatus": {"producerTask": "exit-handler-1"}}
    assert parameters["pipeline_name"] == {"runtimeValue": {"constant": f"lifecycle-{name}"}}


def test_images_are_the_stage_tags(compiled) -> None:
    _, spec, _, _ = compiled
    for _, _, task in stage_tasks(spec):
        component = spec["components"][task["componentRef"]["name"]]
        stage = stage_of(task["componentRef"]["name"])
        assert stage in STAGES
        image = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"][
            "image"
        ]
        assert image == image_tag(stage)


def _condition(tasks: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(n, t) for n, t in tasks.items() if t["taskInfo"]["name"] == name]
    return found


def test_a_batch_already_monitored_skips_everything_after_validate(tmp_path: Path) -> None:
    spec, _, text = compile_docs("monitoring", tmp_path)
    body = spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]
    assert {stage_of(t["componentRef"]["name"]) for t in body.values()} == {
        "validate",
        "condition",
    }
    validate = body["validate"]["inputs"]["parameters"]
    assert validate["identify_batch"] == {"runtimeValue": {"constant": True}}
    assert validate["schedule_time"] == {
        "runtimeValue": {"constant": "{{$.pipeline_job_schedule_time_utc}}"}
    }
    name, condition = _condition(body, "new-batch")
    assert condition["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--validate-Output'] == true"
    )
    inside = spec["components"][condition["componentRef"]["name"]]["dag"]["tasks"]
    assert {stage_of(t["componentRef"]["name"]) for t in inside.values()} == {
        "ingest",
        "evaluate",
        "detect_drift",
        "condition",
    }
    evaluate = inside["evaluate"]["inputs"]["parameters"]["model_version"]
    assert evaluate == {
        "taskOutputParameter": {"producerTask": "ingest", "outputParameterKey": "production"}
    }


def test_drift_branch_reads_the_drift_output_and_holds_the_retraining(tmp_path: Path) -> None:
    spec, _, _ = compile_docs("monitoring", tmp_path)
    body = spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]
    _, new_batch = _condition(body, "new-batch")
    scoring = spec["components"][new_batch["componentRef"]["name"]]["dag"]["tasks"]
    _, condition = _condition(scoring, "drift-detected")
    assert "detect-drift" in condition["dependentTasks"]
    channel = condition["inputs"]["parameters"]["pipelinechannel--detect-drift-Output"]
    assert channel["taskOutputParameter"] == {
        "producerTask": "detect-drift",
        "outputParameterKey": "Output",
    }
    assert condition["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--detect-drift-Output'] == true"
    )
    inside = spec["components"][condition["componentRef"]["name"]]["dag"]["tasks"]
    assert {stage_of(t["componentRef"]["name"]) for t in inside.values()} == {
        "select_data",
        "train",
        "evaluate",
        "promote",
    }


def test_training_has_no_branch_and_every_stage_but_drift(tmp_path: Path) -> None:
    spec, _, _ = compile_docs("training", tmp_path)
    stages = {stage_of(t["componentRef"]["name"]) for _, _, t in all_tasks(spec)}
    assert stages == {
        "validate",
        "ingest",
        "train",
        "evaluate",
        "promote",
        "serve",
        "exit_handler",
        "finalize",
    }
    # The serve step (the InferenceService exists) comes after the promotion.
    (serve,) = [t for _, _, t in all_tasks(spec) if stage_of(t["componentRef"]["name"]) == "serve"]
    assert serve["dependentTasks"] == ["promote"]


def executor_of(spec: dict[str, Any], task: dict[str, Any]) -> str:
    return spec["components"][task["componentRef"]["name"]]["executorLabel"]


def test_every_stage_has_its_requests_limits_and_deadline(compiled) -> None:
    name, spec, platform, _ = compiled
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    seen = set()
    for owner, task_name, task in stage_tasks(spec):
        stage = stage_of(task["componentRef"]["name"])
        label = executor_of(spec, task)
        resources = spec["deploymentSpec"]["executors"][label]["container"]["resources"]
        expected = dict(RESOURCES)
        if stage in LARGER_MEMORY_STAGES:
            expected["resourceMemoryLimit"] = "2Gi"
        assert {k: resources[k] for k in expected} == expected, f"{owner}/{task_name}"
        assert executors[label]["activeDeadlineSeconds"] == TIMEOUT_SECONDS, label
        seen.add(stage)
    # Every executor is a stage's, and each got its settings above.
    assert len(seen) >= 3 and seen <= set(STAGES), (name, seen)
    assert {executor_of(spec, t) for _, _, t in stage_tasks(spec)} == set(executors)


def test_another_cluster_config_compiles_its_own_resources(tmp_path: Path) -> None:
    cluster = ClusterConfig(
        defaults=StageResources(cpu_limit="2", memory_limit="3Gi", timeout_seconds=600),
        stages={"train": StageResourcesOverride(cpu_request="1500m", timeout_seconds=7200)},
    )
    rebuilt = compile_with(monitoring_pipeline, cluster)
    assert rebuilt.name == monitoring_pipeline.name
    assert rebuilt.description == monitoring_pipeline.description
    spec, platform, _ = compile_docs("monitoring", tmp_path, rebuilt)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for _, _, task in stage_tasks(spec):
        stage = stage_of(task["componentRef"]["name"])
        label = executor_of(spec, task)
        resources = spec["deploymentSpec"]["executors"][label]["container"]["resources"]
        train = stage == "train"
        assert resources["resourceCpuRequest"] == ("1500m" if train else "100m")
        assert resources["resourceCpuLimit"] == "2"
        assert resources["resourceMemoryLimit"] == "3Gi"
        assert executors[label]["activeDeadlineSeconds"] == ("7200" if train else "600")
    # The pipeline built at import keeps the course defaults.
    (tmp_path / "default").mkdir()
    default_spec, _, _ = compile_docs("monitoring", tmp_path / "default")
    limits = {
        e["container"]["resources"]["resourceCpuLimit"]
        for e in default_spec["deploymentSpec"]["executors"].values()
    }
    assert limits == {"1"}
