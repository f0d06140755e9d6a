"""The manifests against a real Kubernetes API server (tests/fixtures/kube.py), not only schemas.

What a real server adds to test_manifests.py's schema check: admission and the API's own
validation (a Deployment whose selector misses its pod labels, a field strict field-validation
does not know), Argo Workflows' *full* CRDs at the version KFP 2.17.0 installs (a minimal CRD
accepts anything), and RBAC as the authorizer evaluates it: what ``lifecycle-runner`` may and
may not do, asked with ``kubectl auth can-i --as=system:serviceaccount:kubeflow:lifecycle-runner``.

What it cannot cover: there is no kubelet, scheduler or controller manager, so no pod ever runs,
no Job completes, no image is pulled, no volume is bound, no NetworkPolicy is enforced and no
KFP run happens. Every overlay is sent with ``--dry-run=server`` (admitted and validated, never
stored); the ``minio`` overlay is then applied for real so that its Role and RoleBinding exist
for the authorizer.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pipelines.kfp_client import TOKEN_AUDIENCE, KfpError, kubectl_token
from tests.cluster.kserve_crd import CRD_NAME, inference_service_crd
from tests.cluster.rendering import OFFLINE_OVERLAYS, REPO, make_var
from tests.conftest import skip_or_fail
from tests.fixtures.kube import KubeApi

KUBE_MK = REPO / "mk" / "kube.mk"
NAMESPACE = "kubeflow"
RUNNER = f"system:serviceaccount:{NAMESPACE}:lifecycle-runner"
ARGO_CRDS = {
    "clusterworkflowtemplates", "cronworkflows", "workflowartifactgctasks",
    "workfloweventbindings", "workflows", "workflowtaskresults", "workflowtasksets",
    "workflowtemplates",
}  # fmt: skip

# What KFP 2.17.0's driver and launcher and Argo's executor do in a stage pod running as
# lifecycle-runner (manifests/base/lifecycle-runner-rbac.yaml says where each comes from).
RUNNER_MAY = [
    ("get", "configmaps/kfp-launcher", None),
    ("get", "secrets/mlpipeline-minio-artifact", None),
    ("get", "pods/any-stage-pod", None),
    ("get", "workflows.argoproj.io/any-run", None),
    ("create", "workflowtaskresults.argoproj.io", None),
    ("patch", "workflowtaskresults.argoproj.io/any-node", None),
]
# What we promise it lacks (manifests/README.md, docs/cluster-quickstart.md).
RUNNER_MAY_NOT = [
    ("get", "secrets/minio-root", None),  # MinIO's root user
    ("get", "secrets/lifecycle-minio-stage", None),  # the kubelet maps it to env, not the pod
    ("list", "secrets", None),
    ("watch", "secrets", None),
    ("get", "configmaps/lifecycle-store", None),
    ("list", "configmaps", None),
    ("update", "configmaps/kfp-launcher", None),
    ("list", "pods", None),
    ("create", "pods", None),
    ("delete", "pods/any-stage-pod", None),
    ("get", "pods/any-stage-pod", "log"),
    ("create", "pods/any-stage-pod", "exec"),
    ("create", "persistentvolumeclaims", None),
    ("delete", "persistentvolumeclaims/any", None),
    ("create", "workflows.argoproj.io", None),
    ("update", "workflows.argoproj.io/any-run", None),
    ("delete", "workflows.argoproj.io/any-run", None),
    ("list", "workflows.argoproj.io", None),
    ("get", "workflowtaskresults.argoproj.io/any-node", None),
    ("create", "deployments.apps", None),
    ("create", "jobs.batch", None),
    ("create", "roles.rbac.authorization.k8s.io", None),
    ("create", "rolebindings.rbac.authorization.k8s.io", None),
    ("create", "serviceaccounts/lifecycle-runner", "token"),
    ("impersonate", "serviceaccounts", None),
]
# Outside its namespace, or cluster-wide: nothing.
RUNNER_MAY_NOT_ELSEWHERE = [
    ("get", "configmaps/kfp-launcher", "kube-system"),
    ("get", "pods/any", "default"),
    ("list", "namespaces", None),
    ("get", "nodes/any", None),
    ("list", "customresourcedefinitions.apiextensions.k8s.io", None),
]

BROKEN_MANIFESTS = {
    # The API's own validation, beyond the OpenAPI schema: a selector that misses the pod labels.
    "selector": (
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken-selector, namespace: kubeflow}
spec:
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: c, image: lifecycle-base}]}
""",
        "`selector` does not match template `labels`",
    ),
    # Strict field validation: a misspelt field is refused, not dropped.
    "unknown field": (
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: broken-field, namespace: kubeflow}
data: {a: b}
dataa: {c: d}
""",
        'unknown field "dataa"',
    ),
    # Argo's full CRD schema: templates must be a list (a minimal CRD would take anything).
    "workflow schema": (
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: broken-workflow, namespace: kubeflow}
spec:
  entrypoint: main
  templates: not-a-list
""",
        "spec.templates",
    ),
}
VALID_WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: valid-workflow, namespace: kubeflow}
spec:
  entrypoint: main
  serviceAccountName: lifecycle-runner
  templates:
    - name: main
      container: {image: lifecycle-base, command: [python, --version]}
"""


def argo_crds_dir() -> Path:
    """Argo Workflows' full CRDs, from Go's module cache (``make argo-crds`` fills it)."""
    module = make_var("ARGO_WORKFLOWS_MODULE", KUBE_MK)
    version = make_var("ARGO_WORKFLOWS_VERSION", KUBE_MK)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    try:
        result = subprocess.run(
            ["go", "mod", "download", "-json", f"{module}@{version}"],
            capture_output=True, text=True, check=False, env=env, cwd="/", timeout=300,
        )  # fmt: skip
    except FileNotFoundError:
        skip_or_fail("go is absent: the Argo CRDs come from its module cache (make argo-crds)")
    if result.returncode != 0:
        skip_or_fail(f"go mod download {module}@{version} failed: {result.stdout}{result.stderr}")
    crds = Path(json.loads(result.stdout)["Dir"]) / "manifests" / "base" / "crds" / "full"
    if not crds.is_dir():
        pytest.fail(f"{crds} is missing from {module}@{version}")
    return crds


@pytest.fixture(scope="module")
def cluster(kube_api: KubeApi, rendered_files: dict[str, Path]) -> Iterator[KubeApi]:
    """The API server with Argo's full CRDs, the kubeflow namespace, and the minio overlay."""
    crds = sorted(argo_crds_dir().glob("argoproj.io_*.yaml"))
    assert {path.stem.removeprefix("argoproj.io_") for path in crds} == ARGO_CRDS
    # Server-side: the full CRDs exceed the client-side last-applied annotation's limit.
    kube_api.kubectl("apply", "--server-side", *(f"--filename={path}" for path in crds))
    kube_api.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s",
        *(f"crd/{name}.argoproj.io" for name in sorted(ARGO_CRDS)),
    )  # fmt: skip
    # KServe's kind, for the serving overlay (a stand-in: tests/cluster/kserve_crd.py).
    kube_api.kubectl("apply", "--server-side", "--filename=-", input=inference_service_crd())
    kube_api.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{CRD_NAME}")
    # The namespace first: a dry run does not create it for the objects that follow.
    kube_api.kubectl("create", "namespace", NAMESPACE)
    kube_api.kubectl("apply", "--server-side", f"--filename={rendered_files['minio']}")
    yield kube_api


def can_i(
    api: KubeApi, verb: str, resource: str, namespace: str | None, subresource: str | None = None
) -> bool:
    args = ["auth", "can-i", verb, resource, f"--as={RUNNER}"]
    args += [f"--namespace={namespace}"] if namespace else ["--all-namespaces=false"]
    if subresource:
        args.append(f"--subresource={subresource}")
    result = api.kubectl(*args, check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), f"kubectl {' '.join(args)}: {result.stdout}{result.stderr}"
    # Every resource must be known to the server (the CRDs are in): no guessing on a typo.
    assert "doesn't have a resource type" not in result.stderr, result.stderr
    return answer == "yes"


def test_the_server_is_the_pinned_release(kube_api: KubeApi) -> None:
    versions = json.loads(kube_api.kubectl("version", "--output=json").stdout)
    expected = make_var("KUBE_VERSION", KUBE_MK)
    assert versions["serverVersion"]["gitVersion"] == expected
    assert versions["clientVersion"]["gitVersion"] == expected


def test_argo_full_crds_are_established_with_their_schemas(cluster: KubeApi) -> None:
    crd = json.loads(cluster.kubectl("get", "crd/workflows.argoproj.io", "--output=json").stdout)
    (version,) = crd["spec"]["versions"]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert "templates" in spec["properties"], "the minimal CRD has no schema for spec"


@pytest.mark.parametrize("overlay", OFFLINE_OVERLAYS)
def test_every_rendered_overlay_passes_a_server_side_dry_run(
    cluster: KubeApi, rendered_files: dict[str, Path], overlay: str
) -> None:
    path = rendered_files[overlay]
    resources = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    result = cluster.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "--server-side",
        "--force-conflicts", f"--filename={path}",
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == len(resources), result.stdout
    assert all(line.endswith("(server dry run)") for line in lines), result.stdout


@pytest.mark.parametrize("case", sorted(BROKEN_MANIFESTS))
def test_a_broken_manifest_is_rejected(cluster: KubeApi, case: str) -> None:
    manifest, message = BROKEN_MANIFESTS[case]
    result = cluster.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "--filename=-",
        input=manifest, check=False,
    )  # fmt: skip
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    assert message in result.stderr, result.stderr


def test_a_valid_workflow_passes_the_full_crd(cluster: KubeApi) -> None:
    result = cluster.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "--filename=-", input=VALID_WORKFLOW
    )
    assert "workflow.argoproj.io/valid-workflow created (server dry run)" in result.stdout


@pytest.mark.parametrize(("verb", "resource", "subresource"), RUNNER_MAY)
def test_the_runner_may_do_what_kfp_stage_pods_do(
    cluster: KubeApi, verb: str, resource: str, subresource: str | None
) -> None:
    assert can_i(cluster, verb, resource, NAMESPACE, subresource)


@pytest.mark.parametrize(("verb", "resource", "subresource"), RUNNER_MAY_NOT)
def test_the_runner_may_not_do_what_we_promise_it_cannot(
    cluster: KubeApi, verb: str, resource: str, subresource: str | None
) -> None:
    assert not can_i(cluster, verb, resource, NAMESPACE, subresource)


@pytest.mark.parametrize(("verb", "resource", "namespace"), RUNNER_MAY_NOT_ELSEWHERE)
def test_the_runner_has_no_rights_outside_its_namespace(
    cluster: KubeApi, verb: str, resource: str, namespace: str | None
) -> None:
    assert not can_i(cluster, verb, resource, namespace)


def test_kubectl_token_is_one_kfp_accepts_for_the_service_account(
    cluster: KubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A profile namespace of multi-user Kubeflow, and its usual ServiceAccount.
    cluster.kubectl("create", "namespace", "team-a")
    cluster.kubectl("create", "serviceaccount", "default-editor", "--namespace=team-a")
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setenv("KUBECACHEDIR", str(cluster.workdir / "kubectl-cache"))
    kubectl = str(cluster.bin_dir / "kubectl")
    token = kubectl_token("default-editor", "team-a", kubectl=kubectl)

    def review(audience: str) -> dict:
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [audience]},
        }
        out = cluster.kubectl("create", "--filename=-", "--output=json", input=json.dumps(request))
        return json.loads(out.stdout)["status"]

    # What KFP's API server does with the bearer token: a TokenReview for its audience.
    status = review(TOKEN_AUDIENCE)
    assert status["authenticated"] is True
    assert status["user"]["username"] == "system:serviceaccount:team-a:default-editor"
    assert status["audiences"] == [TOKEN_AUDIENCE]
    assert review("https://kubernetes.default.svc.cluster.local").get("authenticated") is not True
    with pytest.raises(KfpError, match="kubectl create token nobody -n team-a: "):
        kubectl_token("nobody", "team-a", kubectl=kubectl)
