#!/usr/bin/env bash
# Load every image the cluster runs into the kind cluster. Reads `image tag` lines on stdin
# (from `python -m lifecycle.images --all`: the stages, the base, MinIO); each image must
# already be built (make images).
#
# Usage: python -m lifecycle.images --all | scripts/kind-load.sh KIND CLUSTER_NAME
set -euo pipefail

kind="$1" cluster="$2"

missing=()
tags=()
while read -r stage tag; do
    [[ -z "${stage:-}" ]] && continue
    if [[ -z "${tag:-}" ]]; then
        echo "kind-load: expected 'stage tag', got '$stage'" >&2
        exit 1
    fi
    if docker image inspect "$tag" > /dev/null 2>&1; then
        tags+=("$tag")
    else
        missing+=("$tag")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "kind-load: not built: ${missing[*]}; run 'make images' first" >&2
    exit 1
fi
if [[ ${#tags[@]} -eq 0 ]]; then
    echo "kind-load: no images listed" >&2
    exit 1
fi
for tag in "${tags[@]}"; do
    echo "kind-load: $tag"
    "$kind" load docker-image --name "$cluster" "$tag"
done
echo "kind-load: ${#tags[@]} images loaded into '$cluster' (pulled with IfNotPresent)"
