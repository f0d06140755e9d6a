#!/usr/bin/env bash
# Create the kind cluster from manifests/kind/cluster.yaml unless it already exists.
#
# Usage: scripts/kind-up.sh KIND CLUSTER_NAME CONFIG
set -euo pipefail

kind="$1" cluster="$2" config="$3"

for tool in "$kind" docker kubectl; do
    if ! command -v "$tool" > /dev/null; then
        echo "kind-up: $tool not found (kind: 'make kind-install'; docker and kubectl: install them)" >&2
        exit 1
    fi
done

if "$kind" get clusters 2> /dev/null | grep -qx "$cluster"; then
    echo "kind-up: cluster '$cluster' already exists"
else
    "$kind" create cluster --name "$cluster" --config "$config" --wait 120s
fi
kubectl cluster-info --context "kind-$cluster"
echo "kind-up: cluster '$cluster' is up; next: make kfp-deploy"
