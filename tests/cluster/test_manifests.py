"""The Kubernetes manifests, rendered with the project's kustomize and schema-checked offline.

No cluster is needed: every overlay that renders offline is built from a copy of
``manifests/`` (with test credentials in place of the git-ignored ``minio.env``) and each
resource is validated against the Kubernetes OpenAPI schemas shipped by kubernetes-validate.
The remote ``kind-kfp`` overlay is checked through ``kind-kfp-offline``, which applies the same
components to stand-ins of the upstream objects. The shell scripts behind the make targets are
linted with shellcheck and run against fake ``kind``/``docker`` executables.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
SCRIPTS = REPO / "scripts"
CLUSTER_MK = REPO / "mk" / "cluster.mk"
KUSTOMIZE = REPO / ".tools" / "bin" / "kustomize"
VENV_BIN = Path(sys.executable).parent

OFFLINE_OVERLAYS = ("kind", "kind-kfp-offline")
NAMESPACE = "kubeflow"
MINIO_SECRET_NAME = "mlpipeline-minio-artifact"
MINIO_SERVICE = "minio-service"
MINIO_PORT = 9000
KFP_BUCKET = "mlpipeline"
LIFECYCLE_BUCKET = "lifecycle"
# Recognisable test credentials, written only into the temporary copy of manifests/.
TEST_ACCESS_KEY = "testaccess0123"
TEST_SECRET_KEY = "testsecret0123456789abcdef"
# Our scripts (scripts/*.sh of other concerns are linted by their owners' targets).
OWN_SCRIPT_GLOBS = ("kind-*.sh", "kfp-*.sh", "manifests-*.sh")
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

Resource = dict[str, Any]


# --- helpers (no conftest: tests/conftest.py belongs to the shared fixtures) ---------------


def _services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def require_tool(path: Path, how: str) -> Path:
    """Return ``path`` if it is an executable; else skip, or fail when REQUIRE_SERVICES=1."""
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} is not built: {how}"
    if _services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def make_var(name: str) -> str:
    """The default of ``NAME ?= value`` in mk/cluster.mk (the single source of the pins)."""
    match = re.search(rf"^{name} \?= (\S+)$", CLUSTER_MK.read_text(), re.MULTILINE)
    assert match, f"{name} is not set in {CLUSTER_MK}"
    return match.group(1)


def k8s_version() -> str:
    return make_var("K8S_VERSION")


def load_docs(text: str) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def containers(resource: Resource) -> list[Resource]:
    spec = resource["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def env_of(container: Resource) -> dict[str, Resource]:
    return {e["name"]: e for e in container.get("env", [])}


def kustomize_build(overlay: Path) -> str:
    kustomize = require_tool(KUSTOMIZE, "run `make kustomize-install`")
    result = subprocess.run(
        [str(kustomize), "build", str(overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize build {overlay} failed:\n{result.stderr}"
    return result.stdout


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)


def own_scripts() -> list[Path]:
    return sorted(p for pattern in OWN_SCRIPT_GLOBS for p in SCRIPTS.glob(pattern))


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of manifests/ with test credentials as the generator's env file."""
    root = tmp_path_factory.mktemp("manifests") / "manifests"
    shutil.copytree(MANIFESTS, root, ignore=shutil.ignore_patterns("minio.env"))
    env_file = root / "overlays" / "kind" / "minio.env"
    env_file.write_text(f"accesskey={TEST_ACCESS_KEY}\nsecretkey={TEST_SECRET_KEY}\n")
    return root


@pytest.fixture(scope="module")
def rendered(manifests_copy: Path) -> dict[str, list[Resource]]:
    """Every offline overlay, rendered by the project's kustomize."""
    return {
        name: load_docs(kustomize_build(manifests_copy / "overlays" / name))
        for name in OFFLINE_OVERLAYS
    }


@pytest.fixture(scope="module")
def ours(rendered: dict[str, list[Resource]]) -> list[Resource]:
    """Our own stack (the kind overlay: MinIO, buckets, store config, RBAC, Secret)."""
    return rendered["kind"]


@pytest.fixture(scope="module")
def kfp(rendered: dict[str, list[Resource]]) -> list[Resource]:
    """KFP stand-ins with our patches applied, plus our stack and the kind NodePorts."""
    return rendered["kind-kfp-offline"]


# --- rendering and schema validation ----------------------------------------------------------


@pytest.mark.parametrize("overlay", OFFLINE_OVERLAYS)
def test_overlay_resources_validate_against_kubernetes_schemas(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    import kubernetes_validate

    version = k8s_version()
    resources = rendered[overlay]
    assert resources, f"overlay {overlay} rendered nothing"
    failures = []
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except (
            kubernetes_validate.ValidationError,
            kubernetes_validate.SchemaNotFoundError,
        ) as error:
            ident = f"{resource['kind']}/{resource['metadata']['name']}"
            failures.append(f"{overlay}: {ident}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("overlay", OFFLINE_OVERLAYS)
def test_every_namespaced_resource_is_in_kubeflow(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    for resource in rendered[overlay]:
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == NAMESPACE, resource["metadata"]


def test_kubernetes_validate_works_offline_and_rejects_bad_fields() -> None:
    import kubernetes_validate

    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError, match="portz"):
        kubernetes_validate.validate(bad, k8s_version(), strict=True)


# --- MinIO ----------------------------------------------------------------------------------


def test_minio_and_mc_images_are_pinned_release_tags(ours: list[Resource]) -> None:
    images = [c["image"] for r in ours if r["kind"] in ("Deployment", "Job") for c in containers(r)]
    assert any(i.startswith("quay.io/minio/minio:") for i in images), images
    assert any(i.startswith("quay.io/minio/mc:") for i in images), images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest", f"{image} is not pinned"
        assert re.fullmatch(r"RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", tag), image


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
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": MINIO_SECRET_NAME, "key": key}


def test_minio_service_selects_the_minio_pods_on_9000(ours: list[Resource]) -> None:
    service = find(ours, "Service", MINIO_SERVICE)
    labels = find(ours, "Deployment", "minio")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert MINIO_PORT in [p["port"] for p in service["spec"]["ports"]]


def test_bucket_job_creates_kfp_and_lifecycle_buckets(ours: list[Resource]) -> None:
    job = find(ours, "Job", "minio-buckets")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["mb", "--ignore-existing"]
    assert {f"local/{KFP_BUCKET}", f"local/{LIFECYCLE_BUCKET}"} <= set(container["args"])
    env = env_of(container)
    assert env["MC_HOST_local"]["value"].endswith(f"@{MINIO_SERVICE}:{MINIO_PORT}")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert job["spec"]["backoffLimit"] >= 3


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


def test_secret_is_generated_from_the_env_file(ours: list[Resource]) -> None:
    secrets = [r for r in ours if r["kind"] == "Secret"]
    assert [s["metadata"]["name"] for s in secrets] == [MINIO_SECRET_NAME]
    data = {k: base64.b64decode(v).decode() for k, v in secrets[0]["data"].items()}
    assert data == {"accesskey": TEST_ACCESS_KEY, "secretkey": TEST_SECRET_KEY}
    kustomization = yaml.safe_load((MANIFESTS / "overlays/kind/kustomization.yaml").read_text())
    (generator,) = kustomization["secretGenerator"]
    assert generator["envs"] == ["minio.env"]
    assert generator["options"]["disableNameSuffixHash"] is True


def test_secret_env_file_is_git_ignored_and_untracked() -> None:
    env_file = "manifests/overlays/kind/minio.env"
    assert git("check-ignore", "-q", env_file).returncode == 0, f"{env_file} is not git-ignored"
    assert git("ls-files", "--error-unmatch", env_file).returncode != 0, f"{env_file} is tracked"
    example = (MANIFESTS / "overlays/kind/minio.env.example").read_text()
    values = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert values.keys() == {"accesskey", "secretkey"}
    assert all(v.startswith("<") for v in values.values()), "the example holds real values"


def _committable_manifest_files() -> list[Path]:
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "manifests")
    assert listed.returncode == 0, listed.stderr
    return [REPO / line for line in listed.stdout.splitlines() if line]


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


def test_seaweedfs_is_gone_and_only_the_generated_secret_remains(kfp: list[Resource]) -> None:
    assert "seaweedfs" not in yaml.safe_dump_all(kfp)
    secrets = [r for r in kfp if r["kind"] == "Secret"]
    assert [s["metadata"]["name"] for s in secrets] == [MINIO_SECRET_NAME]
    assert set(secrets[0]["data"]) == {"accesskey", "secretkey"}
    assert "stringData" not in secrets[0]


def test_kind_kfp_overlay_uses_the_same_components_as_the_offline_one() -> None:
    def load(path: str) -> Resource:
        return yaml.safe_load((MANIFESTS / path / "kustomization.yaml").read_text())

    remote, offline = load("overlays/kind-kfp"), load("overlays/kind-kfp-offline")
    upstream, stand_in = load("overlays/kind-kfp/upstream"), load("testing/kfp-stand-in")
    assert remote["components"] == offline["components"]
    assert "../kind" in remote["resources"] and "../kind" in offline["resources"]
    assert [Path(c).name for c in upstream["components"]] == ["kfp-minio"]
    assert [Path(c).name for c in stand_in["components"]] == ["kfp-minio"]
    (url,) = upstream["resources"]
    kfp_version = make_var("KFP_VERSION")
    assert url.endswith(f"/manifests/kustomize/env/platform-agnostic?ref={kfp_version}")
    assert url.startswith(make_var("KFP_MANIFESTS"))


# --- RBAC -----------------------------------------------------------------------------------


def test_stage_service_account_has_least_privilege(ours: list[Resource]) -> None:
    find(ours, "ServiceAccount", "lifecycle-runner")
    role = find(ours, "Role", "lifecycle-runner")
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
        assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(
            rule["verbs"]
        ), rule
        if "secrets" in rule["resources"] or "configmaps" in rule["resources"]:
            assert rule.get("resourceNames"), f"unrestricted read of {rule['resources']}"
    (secret_rule,) = [r for r in role["rules"] if "secrets" in r["resources"]]
    assert secret_rule["resourceNames"] == [MINIO_SECRET_NAME] and secret_rule["verbs"] == ["get"]
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


def test_kind_host_ports_reach_the_kfp_ui_and_api(kfp: list[Resource]) -> None:
    mappings = {
        m["hostPort"]: m["containerPort"]
        for node in _kind_config()["nodes"]
        for m in node.get("extraPortMappings", [])
    }
    for host_port, service_name, deployment in (
        (8080, "ml-pipeline-ui-nodeport", "ml-pipeline-ui"),
        (8888, "ml-pipeline-nodeport", "ml-pipeline"),
    ):
        service = find(kfp, "Service", service_name)
        assert service["spec"]["type"] == "NodePort"
        (port,) = service["spec"]["ports"]
        assert port["nodePort"] == mappings[host_port]
        pod = find(kfp, "Deployment", deployment)["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        container_ports = [
            p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])
        ] or [port["targetPort"]]  # the stand-ins declare no ports
        assert port["targetPort"] in container_ports


# --- scripts ----------------------------------------------------------------------------------


def _run(script: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""):
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def test_manifests_secret_writes_random_hex_once(tmp_path: Path) -> None:
    env_file = tmp_path / "minio.env"
    clean = {"MINIO_ACCESS_KEY": "", "MINIO_SECRET_KEY": "", "FORCE": "0"}
    env = {k: v for k, v in os.environ.items() if k not in clean}
    result = subprocess.run(
        ["bash", str(SCRIPTS / "manifests-secret.sh"), str(env_file)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = env_file.read_text()
    values = dict(line.split("=", 1) for line in first.splitlines())
    assert re.fullmatch(r"[0-9a-f]{16}", values["accesskey"])
    assert re.fullmatch(r"[0-9a-f]{40}", values["secretkey"])
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    again = _run("manifests-secret.sh", str(env_file), env={"FORCE": "0"})
    assert again.returncode == 0 and "keeping" in again.stdout
    assert env_file.read_text() == first


def test_manifests_secret_takes_given_keys_and_rejects_unsafe_ones(tmp_path: Path) -> None:
    env_file = tmp_path / "minio.env"
    given = {"MINIO_ACCESS_KEY": "alice01", "MINIO_SECRET_KEY": "s3cretvalue1", "FORCE": "1"}
    assert _run("manifests-secret.sh", str(env_file), env=given).returncode == 0
    assert env_file.read_text() == "accesskey=alice01\nsecretkey=s3cretvalue1\n"
    unsafe = {**given, "MINIO_SECRET_KEY": "has:colon@and/slash"}
    result = _run("manifests-secret.sh", str(env_file), env=unsafe)
    assert result.returncode == 1 and "MINIO_SECRET_KEY" in result.stderr
    assert env_file.read_text() == "accesskey=alice01\nsecretkey=s3cretvalue1\n"


def test_manifests_check_names_the_overlay_and_resource_that_fail(tmp_path: Path) -> None:
    kustomize = require_tool(KUSTOMIZE, "run `make kustomize-install`")
    validator = require_tool(VENV_BIN / "kubernetes-validate", "pip install kubernetes-validate")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources:\n  - svc.yaml\n")
    (broken / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: wrong\nspec:\n  portz: []\n"
    )
    args = (str(kustomize), str(validator), k8s_version(), str(tmp_path / "out"))
    result = _run("manifests-check.sh", *args, str(broken))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "service/wrong" in output and "portz" in output
    assert f"FAILED schema validation of {broken}" in output


def _fake_tools(tmp_path: Path, built: set[str]) -> tuple[dict[str, str], Path]:
    """``kind`` that records its arguments and ``docker`` that knows the ``built`` images."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "kind.log"
    (bin_dir / "kind").write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    known = " ".join(sorted(built))
    (bin_dir / "docker").write_text(
        f'#!/usr/bin/env bash\nfor t in {known}; do [[ "$3" == "$t" ]] && exit 0; done\nexit 1\n'
    )
    for tool in ("kind", "docker"):
        (bin_dir / tool).chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def _stage_tags() -> list[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "lifecycle.images"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout  # fmt: skip
    return [line.split()[1] for line in listing.splitlines()]


def test_kind_load_loads_every_stage_image(tmp_path: Path) -> None:
    tags = _stage_tags()
    env, log = _fake_tools(tmp_path, set(tags))
    stdin = "".join(f"stage{i} {tag}\n" for i, tag in enumerate(tags))
    result = _run("kind-load.sh", "kind", "lifecycle", env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        f"load docker-image --name lifecycle {tag}" for tag in tags
    ]


def test_kind_load_refuses_when_an_image_is_not_built(tmp_path: Path) -> None:
    tags = _stage_tags()
    env, log = _fake_tools(tmp_path, set(tags[1:]))
    stdin = "".join(f"stage {tag}\n" for tag in tags)
    result = _run("kind-load.sh", "kind", "lifecycle", env=env, stdin=stdin)
    assert result.returncode == 1
    assert tags[0] in result.stderr and "make images" in result.stderr
    assert not log.exists(), "nothing is loaded when an image is missing"


def test_port_forward_reports_a_port_that_is_already_served() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = str(server.getsockname()[1])
        result = _run("kfp-port-forward.sh", NAMESPACE, "ml-pipeline-ui", port, "80")
    assert result.returncode == 0, result.stderr
    assert f"http://localhost:{port}" in result.stdout
