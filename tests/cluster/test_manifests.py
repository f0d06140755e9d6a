"""The Kubernetes manifests, rendered with the project's kustomize and schema-checked offline.

No cluster is needed (test_apiserver.py then sends the same render to a real API server).
``make manifests-check``'s own command (``$(MANIFESTS_CHECK)`` of mk/cluster.mk:
scripts/manifests-check.sh over every offline overlay) runs on a copy of ``manifests/`` with
test credentials in place of the git-ignored env files (tests/cluster/rendering.py); it renders each
overlay with kustomize and validates every resource against the Kubernetes OpenAPI schemas
shipped by kubernetes-validate. The tests below then assert the rendered objects. The two
overlays that fetch upstream KFP (``kfp``, ``kind``) are checked through their ``-offline``
twins, which differ from them only in ``testing/kfp-stand-in`` replacing ``kfp/upstream``.
The scripts behind the make targets are tested in test_cluster_scripts.py.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle.images import BASE, MINIO, image_tag
from tests.cluster.rendering import (
    MANIFESTS,
    NAMESPACE,
    OFFLINE_OVERLAYS,
    REMOTE_OVERLAYS,
    REPO,
    SECRETS,
    Resource,
    load_docs,
    make_eval,
    make_var,
)

SCRIPTS = REPO / "scripts"
MINIO_SECRET_NAME = "mlpipeline-minio-artifact"  # KFP's user, as KFP names it
ROOT_SECRET_NAME = "minio-root"
STAGE_SECRET_NAME = "lifecycle-minio-stage"
MINIO_SERVICE = "minio-service"
MINIO_PORT = 9000
KFP_BUCKET = "mlpipeline"
LIFECYCLE_BUCKET = "lifecycle"
NODEPORT_SERVICES = {"ml-pipeline-ui-nodeport", "ml-pipeline-nodeport"}
# Fields of kind's v1alpha4 Cluster and Node (sigs.k8s.io/kind pkg/apis/config/v1alpha4).
KIND_CLUSTER_FIELDS = {
    "kind", "apiVersion", "name", "nodes", "networking", "featureGates", "runtimeConfig",
    "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902", "containerdConfigPatches",
    "containerdConfigPatchesJSON6902",
}  # fmt: skip
KIND_NODE_FIELDS = {
    "role", "image", "labels", "extraMounts", "extraPortMappings", "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
}  # fmt: skip
KIND_PORT_MAPPING_FIELDS = {"containerPort", "hostPort", "listenAddress", "protocol"}


pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make absent")


# --- helpers --------------------------------------------------------------------------------


def k8s_version() -> str:
    return make_var("K8S_VERSION")


def kustomization(path: str) -> Resource:
    return yaml.safe_load((MANIFESTS / path / "kustomization.yaml").read_text())


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def containers(resource: Resource) -> list[Resource]:
    spec = resource["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def env_of(container: Resource) -> dict[str, Resource]:
    return {e["name"]: e for e in container.get("env", [])}


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)


# --- fixtures (the render itself is tests/cluster/conftest.py's) -------------------------------


@pytest.fixture(scope="module")
def manifests_check(manifests_checked) -> tuple[subprocess.CompletedProcess[str], Path]:
    return manifests_checked


@pytest.fixture(scope="module")
def ours(rendered: dict[str, list[Resource]]) -> list[Resource]:
    """Our own stack (the minio overlay: MinIO, buckets, store config, RBAC, Secret)."""
    return rendered["minio"]


@pytest.fixture(scope="module")
def kfp(rendered: dict[str, list[Resource]]) -> list[Resource]:
    """KFP stand-ins with our patches applied, plus our stack (kfp-offline, for any cluster)."""
    return rendered["kfp-offline"]


@pytest.fixture(scope="module")
def kind(rendered: dict[str, list[Resource]]) -> list[Resource]:
    """kfp-offline plus the kind NodePorts (kind-offline)."""
    return rendered["kind-offline"]


# --- rendering and schema validation ----------------------------------------------------------


def test_manifests_check_renders_and_validates_every_offline_overlay(manifests_check) -> None:
    result, _ = manifests_check
    assert result.returncode == 0, result.stdout + result.stderr
    for overlay in OFFLINE_OVERLAYS:
        assert re.search(
            rf"^manifests-check: \S+/overlays/{overlay} -> \S+/{overlay}\.yaml: [1-9]\d* "
            rf"resources valid for Kubernetes {re.escape(k8s_version())}$",
            result.stdout,
            re.MULTILINE,
        ), f"{overlay} not validated:\n{result.stdout}"


def test_every_overlay_is_rendered_offline_or_through_its_offline_twin() -> None:
    overlays = {p.parent.name for p in MANIFESTS.glob("overlays/*/kustomization.yaml")}
    assert overlays == set(OFFLINE_OVERLAYS) | set(REMOTE_OVERLAYS)
    assert make_eval("$(OFFLINE_OVERLAYS)").split() == sorted(OFFLINE_OVERLAYS)
    assert make_eval("$(REMOTE_OVERLAYS)").split() == list(REMOTE_OVERLAYS)
    for remote in REMOTE_OVERLAYS:
        assert f"{remote}-offline" in OFFLINE_OVERLAYS


def test_offline_twins_differ_only_in_the_upstream_stand_in() -> None:
    kfp, kfp_offline = kustomization("overlays/kfp"), kustomization("overlays/kfp-offline")
    assert kfp["resources"] == ["upstream", "../minio"]
    assert kfp_offline["resources"] == ["../../testing/kfp-stand-in", "../minio"]
    upstream, stand_in = (
        kustomization("overlays/kfp/upstream"),
        kustomization("testing/kfp-stand-in"),
    )
    assert upstream["components"] == ["../../../components/kfp-minio"]
    assert stand_in["components"] == ["../../components/kfp-minio"]
    (url,) = upstream["resources"]
    assert url == f"{make_var('KFP_MANIFESTS')}/env/platform-agnostic?ref={make_var('KFP_VERSION')}"
    kind, kind_offline = kustomization("overlays/kind"), kustomization("overlays/kind-offline")
    assert kind["resources"] == ["../kfp"] and kind_offline["resources"] == ["../kfp-offline"]
    assert kind["components"] == kind_offline["components"]
    for twin in (kfp, kfp_offline, kind, kind_offline):
        assert set(twin) <= {"apiVersion", "kind", "resources", "components"}, twin


@pytest.mark.parametrize("overlay", OFFLINE_OVERLAYS)
def test_every_namespaced_resource_is_in_kubeflow(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    for resource in rendered[overlay]:
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == NAMESPACE, resource["metadata"]


# --- MinIO ----------------------------------------------------------------------------------


def test_our_images_are_the_content_tags_of_lifecycle_images(ours: list[Resource]) -> None:
    images = {
        r["metadata"]["name"]: [c["image"] for c in containers(r)]
        for r in ours
        if r["kind"] in ("Deployment", "Job")
    }
    # MinIO runs our image of the pinned server; the setup Job runs the project's base image.
    assert images == {"minio": [image_tag(MINIO)], "minio-setup": [image_tag(BASE)]}
    assert "quay.io" not in yaml.safe_dump_all(ours)


def test_the_manifests_name_images_only_through_the_generated_component() -> None:
    short = {"lifecycle-minio", "lifecycle-base"}
    for path in (MANIFESTS / "base").glob("*.yaml"):
        for doc in load_docs(path.read_text()):
            if doc["kind"] in ("Deployment", "Job"):
                assert {c["image"] for c in containers(doc)} <= short, path
    ignored = git("check-ignore", "-q", "manifests/components/lifecycle-images/kustomization.yaml")
    assert ignored.returncode == 0, "the generated images Component must be git-ignored"
    overlay = kustomization("overlays/minio")
    assert overlay["components"] == ["../../components/lifecycle-images"]


def test_minio_deployment_has_probes_requests_and_runs_as_non_root(ours: list[Resource]) -> None:
    minio = find(ours, "Deployment", "minio")
    pod = minio["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
    find(ours, "PersistentVolumeClaim", claim)
    assert minio["spec"]["strategy"]["type"] == "Recreate"


def test_minio_reads_its_root_credentials_from_the_generated_secret(ours: list[Resource]) -> None:
    (container,) = find(ours, "Deployment", "minio")["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    for var, key in (("MINIO_ROOT_USER", "accesskey"), ("MINIO_ROOT_PASSWORD", "secretkey")):
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": ROOT_SECRET_NAME, "key": key}


def test_minio_service_selects_the_minio_pods_on_9000(ours: list[Resource]) -> None:
    service = find(ours, "Service", MINIO_SERVICE)
    labels = find(ours, "Deployment", "minio")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert MINIO_PORT in [p["port"] for p in service["spec"]["ports"]]


def test_setup_job_gives_kfp_and_the_stages_a_user_each(ours: list[Resource]) -> None:
    job = find(ours, "Job", "minio-setup")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "lifecycle.store.provision"]
    assert container["args"] == [
        f"--endpoint={MINIO_SERVICE}:{MINIO_PORT}",
        f"--grant={KFP_BUCKET}=KFP",
        f"--grant={LIFECYCLE_BUCKET}=STAGE",
    ]
    env = {name: e["valueFrom"]["secretKeyRef"] for name, e in env_of(container).items()}
    assert env == {
        "MINIO_ROOT_USER": {"name": ROOT_SECRET_NAME, "key": "accesskey"},
        "MINIO_ROOT_PASSWORD": {"name": ROOT_SECRET_NAME, "key": "secretkey"},
        "KFP_ACCESS_KEY": {"name": MINIO_SECRET_NAME, "key": "accesskey"},
        "KFP_SECRET_KEY": {"name": MINIO_SECRET_NAME, "key": "secretkey"},
        "STAGE_ACCESS_KEY": {"name": STAGE_SECRET_NAME, "key": "accesskey"},
        "STAGE_SECRET_KEY": {"name": STAGE_SECRET_NAME, "key": "secretkey"},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert job["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert job["spec"]["backoffLimit"] >= 3


def test_only_minio_and_the_setup_job_read_the_root_secret(
    rendered: dict[str, list[Resource]],
) -> None:
    for overlay, resources in rendered.items():
        readers = set()
        for resource in resources:
            if ROOT_SECRET_NAME in yaml.safe_dump(resource.get("spec", {})):
                readers.add(f"{resource['kind']}/{resource['metadata']['name']}")
        assert readers == {"Deployment/minio", "Job/minio-setup"}, overlay


def test_every_container_has_requests_and_pull_policy_if_not_present(
    rendered: dict[str, list[Resource]],
) -> None:
    for overlay, resources in rendered.items():
        for resource in resources:
            if resource["kind"] not in ("Deployment", "Job"):
                continue
            if resource["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != (
                "lifecycle"
            ):
                continue  # KFP's stand-ins
            for container in containers(resource):
                ident = f"{overlay}: {resource['metadata']['name']}/{container['name']}"
                assert container.get("imagePullPolicy") == "IfNotPresent", ident
                assert container.get("resources", {}).get("requests"), ident


def test_lifecycle_store_configmap_points_at_the_lifecycle_bucket(ours: list[Resource]) -> None:
    data = find(ours, "ConfigMap", "lifecycle-store")["data"]
    endpoint = f"{MINIO_SERVICE}.{NAMESPACE}:{MINIO_PORT}"
    assert data["STORE"] == f"minio://{endpoint}/{LIFECYCLE_BUCKET}"
    assert data["MINIO_ENDPOINT"] == endpoint


# --- the Secret: generated, never committed -----------------------------------------------


def test_each_secret_is_generated_from_its_env_file(ours: list[Resource]) -> None:
    secrets = {r["metadata"]["name"]: r for r in ours if r["kind"] == "Secret"}
    assert set(secrets) == {name for name, _, _ in SECRETS.values()}
    for name, access, secret in SECRETS.values():
        data = {k: base64.b64decode(v).decode() for k, v in secrets[name]["data"].items()}
        assert data == {"accesskey": access, "secretkey": secret}, name
    kustomization = yaml.safe_load((MANIFESTS / "overlays/minio/kustomization.yaml").read_text())
    generators = {g["name"]: g for g in kustomization["secretGenerator"]}
    for env_file, (name, _, _) in SECRETS.items():
        assert generators[name]["envs"] == [env_file]
        assert generators[name]["options"]["disableNameSuffixHash"] is True


@pytest.mark.parametrize("env_file", sorted(SECRETS))
def test_secret_env_files_are_git_ignored_and_untracked(env_file: str) -> None:
    path = f"manifests/overlays/minio/{env_file}"
    assert git("check-ignore", "-q", path).returncode == 0, f"{path} is not git-ignored"
    assert git("ls-files", "--error-unmatch", path).returncode != 0, f"{path} is tracked"


def test_the_env_example_holds_no_values() -> None:
    example = (MANIFESTS / "overlays/minio/minio.env.example").read_text()
    values = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert values.keys() == {"accesskey", "secretkey"}
    assert all(v.startswith("<") for v in values.values()), "the example holds real values"


def _committable_manifest_files() -> list[Path]:
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "manifests")
    assert listed.returncode == 0, listed.stderr
    # Tracked and untracked-but-not-ignored files (a tracked file deleted here is no longer one).
    return [REPO / line for line in listed.stdout.splitlines() if line and (REPO / line).exists()]


def test_no_literal_credentials_in_any_committable_manifest() -> None:
    files = _committable_manifest_files()
    assert files
    secret_like = re.compile(r"(PASSWORD|SECRET|ACCESS_?KEY|ROOT_USER)", re.IGNORECASE)
    problems = []
    for path in files:
        if path.suffix not in (".yaml", ".yml"):
            continue
        for doc in load_docs(path.read_text()):
            if doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
                problems.append(f"{path}: Secret {doc['metadata']['name']} has literal data")
            for env in _all_env_entries(doc):
                if secret_like.search(env["name"]) and "value" in env:
                    problems.append(f"{path}: env {env['name']} has a literal value")
    assert not problems, "\n".join(problems)


def _all_env_entries(node: Any) -> Iterator[Resource]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from (e for e in value if isinstance(e, dict) and "name" in e)
            else:
                yield from _all_env_entries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_env_entries(item)


# --- KFP uses our MinIO -------------------------------------------------------------------------


def test_kfp_api_server_points_at_our_minio(kfp: list[Resource]) -> None:
    (container,) = find(kfp, "Deployment", "ml-pipeline")["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    assert env["OBJECTSTORECONFIG_HOST"]["value"] == f"{MINIO_SERVICE}.{NAMESPACE}"
    assert env["OBJECTSTORECONFIG_PORT"]["value"] == str(MINIO_PORT)
    assert env["OBJECTSTORECONFIG_SECURE"]["value"] == "false"
    assert (
        env["OBJECTSTORECONFIG_ACCESSKEY"]["valueFrom"]["secretKeyRef"]["name"] == MINIO_SECRET_NAME
    )


def test_kfp_ui_points_at_our_minio(kfp: list[Resource]) -> None:
    (container,) = find(kfp, "Deployment", "ml-pipeline-ui")["spec"]["template"]["spec"][
        "containers"
    ]
    env = env_of(container)
    # The UI joins MINIO_HOST and MINIO_NAMESPACE (the pod's own namespace).
    assert env["MINIO_HOST"]["value"] == MINIO_SERVICE
    assert env["MINIO_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["MINIO_PORT"]["value"] == str(MINIO_PORT)
    assert env["MINIO_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == MINIO_SECRET_NAME


def test_kfp_launcher_uses_our_minio_for_the_default_pipeline_root(kfp: list[Resource]) -> None:
    data = find(kfp, "ConfigMap", "kfp-launcher")["data"]
    assert data["defaultPipelineRoot"] == f"minio://{KFP_BUCKET}/v2/artifacts"
    default = yaml.safe_load(data["providers"])["minio"]["default"]
    assert default["endpoint"] == f"{MINIO_SERVICE}.{NAMESPACE}:{MINIO_PORT}"
    assert default["disableSSL"] is True
    assert default["credentials"]["secretRef"] == {
        "secretName": MINIO_SECRET_NAME,
        "accessKeyKey": "accesskey",
        "secretKeyKey": "secretkey",
    }
    install = find(kfp, "ConfigMap", "pipeline-install-config")["data"]
    assert install["defaultPipelineRoot"] == data["defaultPipelineRoot"]
    assert install["bucketName"] == KFP_BUCKET


def test_argo_archives_logs_to_our_minio(kfp: list[Resource]) -> None:
    data = find(kfp, "ConfigMap", "workflow-controller-configmap")["data"]
    s3 = yaml.safe_load(data["artifactRepository"])["s3"]
    assert s3["endpoint"] == f"{MINIO_SERVICE}.{NAMESPACE}.svc:{MINIO_PORT}"
    assert s3["bucket"] == KFP_BUCKET
    assert s3["accessKeySecret"] == {"name": MINIO_SECRET_NAME, "key": "accesskey"}


def test_seaweedfs_is_gone_and_only_the_generated_secrets_remain(kfp: list[Resource]) -> None:
    assert "seaweedfs" not in yaml.safe_dump_all(kfp)
    secrets = [r for r in kfp if r["kind"] == "Secret"]
    assert {s["metadata"]["name"] for s in secrets} == {n for n, _, _ in SECRETS.values()}
    for secret in secrets:
        assert set(secret["data"]) == {"accesskey", "secretkey"}
        assert "stringData" not in secret


def test_kfp_schedules_in_the_time_zone_the_client_states(kfp: list[Resource]) -> None:
    from pipelines.kfp_client import SCHEDULE_TIME_ZONE

    install = find(kfp, "ConfigMap", "pipeline-install-config")["data"]
    assert install["cronScheduleTimezone"] == SCHEDULE_TIME_ZONE == "UTC"


# --- RBAC -----------------------------------------------------------------------------------


# The Kubernetes API calls made in a stage pod, read in KFP 2.17.0's backend/src/v2 (driver:
# the kfp-launcher ConfigMap, its own pod, the run's Workflow; launcher: its pod, KFP's object
# store Secret) and Argo's executor minimum (workflowtaskresults). Nothing else: the stages'
# own credentials reach their env through the kubelet, which needs no right of the pod's.
# test_apiserver.py asks a real API server what these rules allow.
def _rule(group: str, resource: str, verbs: list[str], names: list[str] | None = None) -> Resource:
    rule: Resource = {"apiGroups": [group], "resources": [resource]}
    if names:
        rule["resourceNames"] = names
    return {**rule, "verbs": verbs}


RUNNER_RULES = [
    _rule("", "configmaps", ["get"], ["kfp-launcher"]),
    _rule("", "secrets", ["get"], [MINIO_SECRET_NAME]),
    _rule("", "pods", ["get"]),
    _rule("argoproj.io", "workflows", ["get"]),
    _rule("argoproj.io", "workflowtaskresults", ["create", "patch"]),
]


def test_stage_service_account_has_exactly_the_rights_of_a_kfp_stage_pod(
    ours: list[Resource],
) -> None:
    find(ours, "ServiceAccount", "lifecycle-runner")
    assert find(ours, "Role", "lifecycle-runner")["rules"] == RUNNER_RULES
    binding = find(ours, "RoleBinding", "lifecycle-runner")
    assert binding["roleRef"]["name"] == "lifecycle-runner"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "lifecycle-runner", "namespace": NAMESPACE}
    ]
    assert not [r for r in ours if r["kind"] in ("ClusterRole", "ClusterRoleBinding")]


# --- kind -------------------------------------------------------------------------------------


def _kind_config() -> Resource:
    return yaml.safe_load((MANIFESTS / "kind" / "cluster.yaml").read_text())


def test_kind_cluster_config_is_v1alpha4_with_a_pinned_node_image() -> None:
    config = _kind_config()
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert set(config) <= KIND_CLUSTER_FIELDS, set(config) - KIND_CLUSTER_FIELDS
    for node in config["nodes"]:
        assert set(node) <= KIND_NODE_FIELDS, set(node) - KIND_NODE_FIELDS
        assert node["role"] in ("control-plane", "worker")
        for mapping in node.get("extraPortMappings", []):
            assert set(mapping) <= KIND_PORT_MAPPING_FIELDS, mapping
            assert isinstance(mapping["containerPort"], int)
            assert isinstance(mapping["hostPort"], int)
    (control_plane,) = [n for n in config["nodes"] if n["role"] == "control-plane"]
    image = control_plane["image"]
    assert re.fullmatch(r"kindest/node:v[\d.]+@sha256:[0-9a-f]{64}", image), image
    assert image.split("@")[0] == f"kindest/node:v{k8s_version()}", "validate what kind runs"


def test_kind_host_ports_reach_the_kfp_ui_and_api(kind: list[Resource]) -> None:
    mappings = {
        m["hostPort"]: m["containerPort"]
        for node in _kind_config()["nodes"]
        for m in node.get("extraPortMappings", [])
    }
    for host_port, service_name, deployment in (
        (8080, "ml-pipeline-ui-nodeport", "ml-pipeline-ui"),
        (8888, "ml-pipeline-nodeport", "ml-pipeline"),
    ):
        service = find(kind, "Service", service_name)
        assert service["spec"]["type"] == "NodePort"
        (port,) = service["spec"]["ports"]
        assert port["nodePort"] == mappings[host_port]
        pod = find(kind, "Deployment", deployment)["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        container_ports = [
            p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])
        ]
        assert port["targetPort"] in container_ports, (service_name, container_ports)


def test_only_the_kind_overlays_carry_the_nodeports(rendered: dict[str, list[Resource]]) -> None:
    for overlay, resources in rendered.items():
        nodeports = {
            r["metadata"]["name"]
            for r in resources
            if r["kind"] == "Service" and r["spec"].get("type") == "NodePort"
        }
        assert nodeports == (NODEPORT_SERVICES if overlay == "kind-offline" else set()), overlay
    including = sorted(
        str(path.parent.relative_to(MANIFESTS))
        for path in MANIFESTS.rglob("kustomization.yaml")
        if any(
            "kfp-kind-nodeports" in c
            for c in yaml.safe_load(path.read_text()).get("components", [])
        )
    )
    assert including == ["overlays/kind", "overlays/kind-offline"]
