"""The KServe InferenceService of the served model, and making sure it exists on a cluster.

:func:`inference_service` is the one source of the object: ``make compile`` writes it to
``manifests/overlays/serving/inferenceservice.yaml`` (a test keeps the two equal) and the serve
component applies the same object after a promotion. Its predictor is the serve image
(``lifecycle.images``) with the store settings of the ConfigMap ``lifecycle-store`` and the
stages' MinIO credentials (the Secret ``lifecycle-minio-stage``), as every stage pod gets them; it
follows the ``production`` alias itself, so a promotion needs no change to the object.

``python -m components.serve.inference_service [--out FILE]`` prints (or writes) the manifest.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.serve.defaults import DEFAULT_PORT
from lifecycle.errors import LifecycleError
from lifecycle.images import PROJECT, image_tag

GROUP = "serving.kserve.io"
VERSION = "v1beta1"
PLURAL = "inferenceservices"
NAMESPACE = "kubeflow"
SERVICE_ACCOUNT = "lifecycle-serve"
# What every stage pod gets (pipelines.cluster, which imports KFP's pipeline DSL and so cannot be
# imported in a task; tests/cluster/test_serving_manifests.py keeps the two equal).
STORE_CONFIG_MAP = "lifecycle-store"
MINIO_SECRET_NAME = "lifecycle-minio-stage"
MINIO_SECRET_ENV = {"accesskey": "MINIO_ACCESS_KEY", "secretkey": "MINIO_SECRET_KEY"}
# The manifests name images by their short name; the Component manifests/components/
# lifecycle-images (make manifests-images) maps it to the content tag of lifecycle.images.
MANIFEST_IMAGE = f"{PROJECT}-serve"
# What a pod of a Kubernetes cluster has and a local run has not.
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEPLOYER_ROLE = "lifecycle-serving-deployer"


def service_name(model_name: str) -> str:
    """The InferenceService's name: ``lifecycle-<model>`` (DNS-1123: lower case, '-')."""
    return f"lifecycle-{model_name.lower().replace('_', '-').replace('.', '-')}"


def inference_service(
    model_name: str = "course", namespace: str = NAMESPACE, image: str | None = None
) -> dict[str, Any]:
    """The InferenceService serving ``model_name``'s production version with ``lifecycle serve``.

    One replica in KServe's raw deployment mode (a Deployment and a Service, no Knative): the
    server keeps a prediction log in memory between flushes and follows the alias itself. Its
    store settings and credentials are the stages' own (the ConfigMap and the stage user's
    Secret of :mod:`pipelines.cluster`).

    Args:
        model_name: the served model.
        namespace: where it runs.
        image: the serve image; by default its full tag (:func:`lifecycle.images.image_tag`).
    """
    port = DEFAULT_PORT
    probe = {"httpGet": {"path": "/v2/health/ready", "port": port}}
    env: list[dict[str, Any]] = [
        {
            "name": "STORE",
            "valueFrom": {"configMapKeyRef": {"name": STORE_CONFIG_MAP, "key": "STORE"}},
        },
        *(
            {"name": name, "valueFrom": {"secretKeyRef": {"name": MINIO_SECRET_NAME, "key": key}}}
            for key, name in MINIO_SECRET_ENV.items()
        ),
    ]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "InferenceService",
        "metadata": {
            "name": service_name(model_name),
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "lifecycle", "app.kubernetes.io/name": "serve"},
            "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"},
        },
        "spec": {
            "predictor": {
                "minReplicas": 1,
                "maxReplicas": 1,
                "serviceAccountName": SERVICE_ACCOUNT,
                "automountServiceAccountToken": False,
                # The log's shutdown flush retries the store for up to 20 s.
                "terminationGracePeriodSeconds": 45,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "runAsGroup": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        # KServe's name for a custom predictor's serving container.
                        "name": "kserve-container",
                        "image": image or image_tag("serve"),
                        "imagePullPolicy": "IfNotPresent",
                        "args": [
                            "--host",
                            "0.0.0.0",
                            "--port",
                            str(port),
                            "--model",
                            model_name,
                        ],  # fmt: skip
                        "env": env,
                        "ports": [{"containerPort": port, "name": "http1", "protocol": "TCP"}],
                        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
                        "livenessProbe": {
                            "httpGet": {"path": "/v2/health/live", "port": port},
                            "periodSeconds": 10,
                            "failureThreshold": 3,
                        },
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "384Mi"},
                            "limits": {"memory": "1Gi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
            }
        },
    }


def manifest_text(model_name: str = "course") -> str:
    """The committed manifest: a header, then the object as YAML."""
    header = (
        "# Generated by `make compile` (python -m components.serve.inference_service) from\n"
        "# components/serve/inference_service.py, which the serve component applies too; do not\n"
        "# edit. The serve image follows the production alias of the store itself.\n"
    )
    manifest = inference_service(model_name, image=MANIFEST_IMAGE)
    return header + yaml.safe_dump(manifest, sort_keys=False)


# Making sure it exists ------------------------------------------------------------------


class ServingDeployError(LifecycleError):
    """The InferenceService could not be read or written (the message says what to do)."""


@dataclass(frozen=True)
class Ensured:
    """What :func:`ensure_inference_service` did: ``created``, ``updated``, ``unchanged`` or
    ``skipped``, and why."""

    outcome: str
    name: str
    detail: str


def in_cluster() -> bool:
    """Whether this process runs in a Kubernetes pod with a service account token."""
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and (SERVICE_ACCOUNT_DIR / "token").is_file()
    )


def _pod_namespace() -> str:
    path = SERVICE_ACCOUNT_DIR / "namespace"
    return path.read_text().strip() if path.is_file() else NAMESPACE


def ensure_inference_service(model_name: str, api: Any = None) -> Ensured:
    """Create the InferenceService when absent, or bring its spec back to ours; a no-op with a
    reason outside a cluster (the local runner) or on a cluster without KServe.

    Args:
        model_name: the served model.
        api: a ``kubernetes.client.CustomObjectsApi``; by default one with the pod's in-cluster
            config.

    Raises:
        ServingDeployError: the API refused (e.g. 403: the Role of
            ``manifests/serving/serving-deployer-rbac.yaml`` is not applied).
    """
    name = service_name(model_name)
    if api is None:
        if not in_cluster():
            return Ensured(
                "skipped", name, "not in a Kubernetes pod (local runner): nothing to deploy"
            )
        from kubernetes import client, config

        config.load_incluster_config()
        api = client.CustomObjectsApi()
    from kubernetes.client.exceptions import ApiException

    namespace = _pod_namespace()
    desired = inference_service(model_name, namespace)
    where = (GROUP, VERSION, namespace, PLURAL)
    try:
        try:
            current = api.get_namespaced_custom_object(*where, name)
        except ApiException as exc:
            if exc.status != 404:
                raise
            current = None
        if current is None:
            api.create_namespaced_custom_object(*where, desired)
            return Ensured("created", name, f"InferenceService {namespace}/{name} created")
        if current.get("spec") == desired["spec"]:
            return Ensured("unchanged", name, f"InferenceService {namespace}/{name} exists")
        api.patch_namespaced_custom_object(*where, name, {"spec": desired["spec"]})
        return Ensured("updated", name, f"InferenceService {namespace}/{name}: spec restored")
    except ApiException as exc:
        if exc.status == 404:
            return Ensured(
                "skipped", name, f"KServe is not installed: no {PLURAL}.{GROUP} API in the cluster"
            )
        if exc.status == 403:
            raise ServingDeployError(
                f"the pipeline's service account may not manage {PLURAL}.{GROUP} in {namespace}: "
                f"apply the Role {DEPLOYER_ROLE} (make serve-deploy)"
            ) from None
        raise ServingDeployError(
            f"InferenceService {namespace}/{name}: the API answered {exc.status} {exc.reason}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m components.serve.inference_service", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", default="course")
    parser.add_argument("--out", type=Path, help="write here instead of printing")
    args = parser.parse_args(argv)
    text = manifest_text(args.model)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
