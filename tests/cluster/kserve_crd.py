"""A stand-in CRD for KServe's InferenceService, for the API server tests (tests/fixtures/kube.py).

KServe's own CRD is not in any registry this project reaches (its Go module is not served by the
module proxy), so the server learns the kind from this minimal CRD: it admits any spec. The spec
itself is checked field by field against KServe 0.21's v1beta1 types and the Kubernetes schemas
in tests/cluster/test_serving_manifests.py; here the server checks the rest (the kind, names,
namespace) and evaluates the serving Role's RBAC on a resource it knows.
"""

from __future__ import annotations

import yaml

CRD_NAME = "inferenceservices.serving.kserve.io"


def inference_service_crd() -> str:
    """The stand-in CRD as YAML."""
    return yaml.safe_dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": CRD_NAME},
            "spec": {
                "group": "serving.kserve.io",
                "names": {
                    "kind": "InferenceService",
                    "listKind": "InferenceServiceList",
                    "plural": "inferenceservices",
                    "singular": "inferenceservice",
                    "shortNames": ["isvc"],
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1beta1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                    "status": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                },
                            }
                        },
                    }
                ],
            },
        },
        sort_keys=False,
    )
