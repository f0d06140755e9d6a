#!/usr/bin/env bash
# Install KFP 2.17.0 standalone with our MinIO on the current kubectl context, then wait
# until it is ready.
#   1. KFP's cluster-scoped resources (CRDs, namespace) from upstream, at the pinned tag;
#   2. wait for the applications.app.k8s.io CRD;
#   3. the kind-kfp overlay: upstream env/platform-agnostic patched to use our MinIO,
#      plus MinIO, its buckets Job, the generated Secret and our ServiceAccount;
#   4. wait for MinIO, the buckets Job and every Deployment in the namespace.
#
# Usage: scripts/kfp-deploy.sh KUSTOMIZE CLUSTER_SCOPED_URL OVERLAY_DIR NAMESPACE TIMEOUT
set -euo pipefail

kustomize="$1" cluster_scoped="$2" overlay="$3" namespace="$4" timeout="$5"

fail() {
    echo "kfp-deploy: $1" >&2
    echo "kfp-deploy: pods in $namespace:" >&2
    kubectl -n "$namespace" get pods -o wide >&2 || true
    echo "kfp-deploy: inspect with 'kubectl -n $namespace describe pod POD' and 'kubectl -n $namespace logs POD'" >&2
    exit 1
}

echo "kfp-deploy: context $(kubectl config current-context)"

echo "kfp-deploy: [1/4] KFP cluster-scoped resources ($cluster_scoped)"
"$kustomize" build "$cluster_scoped" | kubectl apply -f -

echo "kfp-deploy: [2/4] waiting for CRD applications.app.k8s.io"
kubectl wait --for=condition=established --timeout=120s crd/applications.app.k8s.io \
    || fail "CRD applications.app.k8s.io not established within 120s"

echo "kfp-deploy: [3/4] KFP + MinIO ($overlay)"
"$kustomize" build "$overlay" | kubectl apply -f -

echo "kfp-deploy: [4/4] waiting up to $timeout for MinIO, the buckets and KFP"
kubectl -n "$namespace" wait --for=condition=Available --timeout="$timeout" deployment/minio \
    || fail "MinIO (deployment/minio) not Available within $timeout"
kubectl -n "$namespace" wait --for=condition=Complete --timeout="$timeout" job/minio-buckets \
    || fail "job/minio-buckets did not create the buckets within $timeout"
kubectl -n "$namespace" wait --for=condition=Available --timeout="$timeout" deployment --all \
    || fail "KFP deployments not Available within $timeout (first install pulls ~2 GB of images)"

echo "kfp-deploy: KFP is ready. UI: make ui (http://localhost:8080); API: make api (http://localhost:8888)"
