"""The serving overlay (manifests/overlays/serving): the InferenceService, its ServiceAccount and
the Role of the training pipeline's serve step, rendered with the project's kustomize.

`make manifests-check` (tests/cluster/test_manifests.py) validates every Kubernetes object of
the overlay against the 1.37 schemas; those schemas have no InferenceService, so here it is
checked against KServe's own v1beta1 API types, as the KServe 0.21.0 SDK (PyPI) declares them
(read from its wheel's generated models without importing them; ``make kserve-sdk`` downloads
the wheel), with every Kubernetes type inside (containers, volumes, security contexts) checked
strictly against kubernetes-validate's 1.37 definitions.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.serve.inference_service import inference_service, manifest_text, service_name
from lifecycle.images import image_tag
from pipelines.compile import SERVING_MANIFEST
from tests.cluster.rendering import (
    KUSTOMIZE,
    NAMESPACE,
    copy_manifests,
    load_docs,
    require_tool,
)
from tests.conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
KSERVE_SDK_VERSION = "0.21.0"
KSERVE_WHEEL_DIR = REPO / ".tools" / f"kserve-sdk-{KSERVE_SDK_VERSION}"
ISVC = service_name("course")


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    require_tool(KUSTOMIZE, "run `make kustomize-install`")
    root = copy_manifests(tmp_path_factory.mktemp("serving"))
    result = subprocess.run(
        [str(KUSTOMIZE), "build", str(root / "overlays" / "serving")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return load_docs(result.stdout)


def find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def test_the_server_gets_the_store_settings_and_credentials_of_every_stage():
    from components.serve import inference_service as isvc
    from pipelines import cluster

    assert isvc.STORE_CONFIG_MAP == cluster.STORE_CONFIG_MAP
    assert isvc.MINIO_SECRET_NAME == cluster.MINIO_SECRET_NAME
    assert isvc.MINIO_SECRET_ENV == cluster.MINIO_SECRET_ENV


def test_the_committed_manifest_is_generated_from_the_serve_stage():
    assert SERVING_MANIFEST.read_text() == manifest_text(), "stale: run `make compile`"


def test_the_inference_service_runs_the_serve_image_with_the_store_settings(serving):
    isvc = find(serving, "InferenceService", ISVC)
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert isvc["metadata"]["namespace"] == NAMESPACE
    predictor = isvc["spec"]["predictor"]
    (container,) = predictor["containers"]
    assert container["name"] == "kserve-container"
    # The short name of the manifest, mapped to the serve image's content tag.
    assert container["image"] == image_tag("serve")
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["args"][:2] == ["--host", "0.0.0.0"]
    env = {e["name"]: e["valueFrom"] for e in container["env"]}
    config_map = find(serving, "ConfigMap", env["STORE"]["configMapKeyRef"]["name"])
    assert env["STORE"]["configMapKeyRef"]["key"] in config_map["data"]
    secret = find(serving, "Secret", env["MINIO_ACCESS_KEY"]["secretKeyRef"]["name"])
    for name in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        assert env[name]["secretKeyRef"]["key"] in secret["data"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert predictor["securityContext"]["runAsNonRoot"] is True
    assert predictor["serviceAccountName"] == "lifecycle-serve"
    account = find(serving, "ServiceAccount", "lifecycle-serve")
    assert account["automountServiceAccountToken"] is False
    assert predictor["automountServiceAccountToken"] is False


def test_the_serve_step_may_only_get_create_and_patch_inference_services(serving):
    role = find(serving, "Role", "lifecycle-serving-deployer")
    assert role["rules"] == [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "verbs": ["get", "create", "patch"],
        }
    ]
    binding = find(serving, "RoleBinding", "lifecycle-serving-deployer")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "lifecycle-runner", "namespace": NAMESPACE}
    ]
    # The runner's own Role is untouched by the serving overlay.
    runner = find(serving, "Role", "lifecycle-runner")
    assert not any("serving.kserve.io" in rule["apiGroups"] for rule in runner["rules"])


def test_the_rendered_object_is_the_one_the_serve_step_applies(serving):
    rendered = find(serving, "InferenceService", ISVC)
    applied = inference_service("course", NAMESPACE)  # the full tag, as on a cluster
    rendered["metadata"]["labels"].pop("app.kubernetes.io/part-of", None)
    applied["metadata"]["labels"].pop("app.kubernetes.io/part-of", None)
    assert rendered == applied


# --- the InferenceService against KServe's v1beta1 types ------------------------------------


def kserve_types() -> dict[str, dict[str, str]]:
    """Each KServe SDK model class: JSON key -> declared type (``V1Container``, ``list[...]``)."""
    wheels = sorted(KSERVE_WHEEL_DIR.glob(f"kserve-{KSERVE_SDK_VERSION}-*.whl"))
    if not wheels:
        skip_or_fail(f"the KServe {KSERVE_SDK_VERSION} SDK wheel is absent (run `make kserve-sdk`)")
    types: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name in wheel.namelist():
            if not re.match(r"kserve/models/\w+\.py$", name):
                continue
            tree = ast.parse(wheel.read(name))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef):
                    continue
                found = {}
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and isinstance(
                        statement.targets[0], ast.Name
                    ):
                        target = statement.targets[0].id
                        if target in ("openapi_types", "attribute_map"):
                            found[target] = ast.literal_eval(statement.value)
                if len(found) == 2:
                    types[node.name] = {
                        found["attribute_map"][attr]: kind
                        for attr, kind in found["openapi_types"].items()
                    }
    return types


def kubernetes_definitions() -> dict[str, Any]:
    import kubernetes_validate

    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    strict = folder / "v1.37.0-local-strict" / "_definitions.json"
    return json.loads(strict.read_text())["$defs"]


def check(value: Any, kind: str, where: str, types: dict, definitions: dict) -> list[str]:
    """Problems of ``value`` against the declared ``kind`` (KServe or Kubernetes type)."""
    if kind.startswith("list[") and kind.endswith("]"):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [
            p
            for i, v in enumerate(value)
            for p in check(v, kind[5:-1], f"{where}[{i}]", types, definitions)
        ]
    if kind.startswith("dict(str, "):
        inner = kind[len("dict(str, ") : -1]
        if not isinstance(value, dict):
            return [f"{where}: expected a mapping"]
        return [
            p for k, v in value.items() for p in check(v, inner, f"{where}.{k}", types, definitions)
        ]
    simple = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object}
    if kind in simple:
        ok = isinstance(value, simple[kind]) and not (kind == "int" and isinstance(value, bool))
        return [] if ok else [f"{where}: expected {kind}, got {type(value).__name__}"]
    if kind in types:
        if not isinstance(value, dict):
            return [f"{where}: expected an object ({kind})"]
        fields = types[kind]
        problems = [f"{where}.{key}: not a field of {kind}" for key in value if key not in fields]
        return problems + [
            p
            for key, item in value.items()
            if key in fields
            for p in check(item, fields[key], f"{where}.{key}", types, definitions)
        ]
    match = re.match(r"V1(\w+)$", kind)
    if match:
        for prefix in ("io.k8s.api.core.v1.", "io.k8s.apimachinery.pkg.apis.meta.v1."):
            if prefix + match.group(1) in definitions:
                schema = {"$ref": f"#/$defs/{prefix}{match.group(1)}", "$defs": definitions}
                errors = jsonschema.Draft202012Validator(schema).iter_errors(value)
                return [f"{where}.{'.'.join(map(str, e.path))}: {e.message}" for e in errors]
    return [f"{where}: no schema for type {kind}"]


def test_the_inference_service_matches_kserves_v1beta1_types(serving):
    types = kserve_types()
    isvc = find(serving, "InferenceService", ISVC)
    problems = check(
        isvc, "V1beta1InferenceService", "InferenceService", types, kubernetes_definitions()
    )
    assert problems == []


def test_the_type_check_catches_a_misspelt_field():
    types = kserve_types()
    broken = inference_service()
    broken["spec"]["predictor"]["minReplica"] = 1
    broken["spec"]["predictor"]["containers"][0]["imagePullPolicy"] = 3
    problems = check(broken, "V1beta1InferenceService", "isvc", types, kubernetes_definitions())
    assert "isvc.spec.predictor.minReplica: not a field of V1beta1PredictorSpec" in problems
    assert any(p.startswith("isvc.spec.predictor.containers[0].imagePullPolicy") for p in problems)
