#!/usr/bin/env bash
# Install KFP 2.17.0 standalone with our MinIO on the current kubectl context, then wait
# until it is ready.
#   1. KFP's cluster-scoped resources (CRDs, namespace) from upstream, at the pinned tag;
#   2. wait for the applications.app.k8s.io CRD;
#   3. the overlay: upstream env/platform-agnostic patched to use our MinIO, plus MinIO, its
#      buckets Job, the generated Secret and our ServiceAccount. OVERLAY when given; else
#      OVERLAYS_DIR/kind (with the NodePorts behind kind's host ports) when the context is
#      KIND_CONTEXT, the cluster `make kind-up` made, and OVERLAYS_DIR/kfp on any other;
#   4. wait for MinIO, the buckets Job and every Deployment in kubeflow.
# TIMEOUT is one deadline for all the waits together (seconds, or with an s or m suffix).
#
# Usage: scripts/kfp-deploy.sh KUSTOMIZE KUBECTL CLUSTER_SCOPED_URL OVERLAYS_DIR KIND_CONTEXT TIMEOUT [OVERLAY]
set -euo pipefail

if [[ $# -lt 6 ]]; then
    echo "usage: $0 KUSTOMIZE KUBECTL CLUSTER_SCOPED_URL OVERLAYS_DIR KIND_CONTEXT TIMEOUT [OVERLAY]" >&2
    exit 2
fi
kustomize="$1" kubectl="$2" cluster_scoped="$3" overlays="$4" kind_context="$5" timeout="$6"
overlay="${7:-}"
# KFP's namespace, where manifests/base puts everything of ours too.
namespace=kubeflow

if [[ "$timeout" =~ ^([0-9]+)(s|m)?$ ]] && ((BASH_REMATCH[1] > 0)); then
    timeout_s="${BASH_REMATCH[1]}"
    if [[ "${BASH_REMATCH[2]}" == m ]]; then
        timeout_s=$((timeout_s * 60))
    fi
else
    echo "kfp-deploy: KFP_WAIT_TIMEOUT '$timeout' is not a duration such as 900, 900s or 15m" >&2
    exit 2
fi

fail() {
    echo "kfp-deploy: $1" >&2
    echo "kfp-deploy: pods in $namespace:" >&2
    "$kubectl" -n "$namespace" get pods -o wide >&2 || true
    echo "kfp-deploy: inspect with '$kubectl -n $namespace describe pod POD' and '$kubectl -n $namespace logs POD'" >&2
    exit 1
}

# The Deployments whose available replicas are fewer than wanted, as `name (have/want)`.
not_ready_deployments() {
    "$kubectl" -n "$namespace" get deployments \
        -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.availableReplicas}{" "}{.spec.replicas}{"\n"}{end}' \
        2> /dev/null | awk 'NF >= 2 { have = (NF == 3 ? $2 : 0); want = $NF;
            if (have + 0 < want + 0) printf "%s%s (%d/%d available)", sep, $1, have, want; sep = ", " }'
}

deadline=$((SECONDS + timeout_s))
# Wait for WHAT with `kubectl wait ARGS...`, for what is left of the deadline.
wait_for() {
    local what="$1"
    shift
    local left=$((deadline - SECONDS))
    if ((left <= 0)); then
        fail "not ready: $what (the ${timeout_s}s deadline, KFP_WAIT_TIMEOUT, passed before it)"
    fi
    echo "kfp-deploy: waiting up to ${left}s for $what"
    "$kubectl" wait "$@" --timeout="${left}s" > /dev/null \
        || fail "not ready: $what, within the ${timeout_s}s deadline (KFP_WAIT_TIMEOUT)"
}

context="$("$kubectl" config current-context)"
if [[ -z "$overlay" ]]; then
    if [[ "$context" == "$kind_context" ]]; then
        overlay="$overlays/kind"
        why="the kind cluster: KFP, MinIO and the NodePorts behind localhost:8080/8888"
    else
        overlay="$overlays/kfp"
        why="not $kind_context: no NodePorts; reach the UI and API with make ui / make api"
    fi
else
    why="given"
fi
echo "kfp-deploy: context $context; overlay $overlay ($why)"

echo "kfp-deploy: [1/4] KFP cluster-scoped resources ($cluster_scoped)"
"$kustomize" build "$cluster_scoped" | "$kubectl" apply -f -

echo "kfp-deploy: [2/4] CRD applications.app.k8s.io (all waits share one ${timeout_s}s deadline)"
wait_for "CRD applications.app.k8s.io (established)" \
    --for=condition=established crd/applications.app.k8s.io

echo "kfp-deploy: [3/4] KFP + MinIO ($overlay)"
"$kustomize" build "$overlay" | "$kubectl" apply -f -

echo "kfp-deploy: [4/4] MinIO, the buckets and KFP"
wait_for "deployment/minio (our MinIO, Available)" \
    -n "$namespace" --for=condition=Available deployment/minio
wait_for "job/minio-setup (creates the buckets mlpipeline and lifecycle and their users, Complete)" \
    -n "$namespace" --for=condition=Complete job/minio-setup
left=$((deadline - SECONDS))
echo "kfp-deploy: waiting up to $((left > 0 ? left : 0))s for every Deployment in $namespace (Available)"
if ((left <= 0)) || ! "$kubectl" -n "$namespace" wait --for=condition=Available \
    --timeout="${left}s" deployment --all > /dev/null; then
    waiting="$(not_ready_deployments)"
    fail "not ready within the ${timeout_s}s deadline (KFP_WAIT_TIMEOUT; the first install pulls all of KFP's images): ${waiting:-see the pods below}"
fi

echo "kfp-deploy: KFP is ready. UI: make ui (http://localhost:8080); API: make api (http://localhost:8888)"
