#!/usr/bin/env bash
# Create the kind cluster from manifests/kind/cluster.yaml unless it already exists.
# `docker` is kind's own requirement (kind calls it from PATH).
#
# Usage: scripts/kind-up.sh KIND KUBECTL CLUSTER_NAME CONFIG
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 KIND KUBECTL CLUSTER_NAME CONFIG" >&2
    exit 2
fi
kind="$1" kubectl="$2" cluster="$3" config="$4"

for tool in "$kind" docker "$kubectl"; do
    if ! command -v "$tool" > /dev/null; then
        echo "kind-up: $tool not found (kind: 'make kind-install' or KIND=; kubectl: install it or KUBECTL=; docker: install it)" >&2
        exit 1
    fi
done

if "$kind" get clusters 2> /dev/null | grep -qx "$cluster"; then
    echo "kind-up: cluster '$cluster' already exists"
else
    "$kind" create cluster --name "$cluster" --config "$config" --wait 120s
fi
"$kubectl" cluster-info --context "kind-$cluster"
echo "kind-up: cluster '$cluster' is up (context kind-$cluster); next: make images kind-load kfp-deploy"
