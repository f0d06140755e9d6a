#!/usr/bin/env bash
# Push every image the cluster runs to its registry. Reads `image tag` lines on stdin (from
# `python -m lifecycle.images --all`); each image must already be built under that tag
# (make images REGISTRY=…). Tags are content digests: a tag the registry already holds is
# the same image, so pushing it again uploads nothing.
#
# Usage: python -m lifecycle.images --all | scripts/images-push.sh
set -euo pipefail

docker="${DOCKER:-docker}"

missing=()
tags=()
while read -r image tag; do
    [[ -z "${image:-}" ]] && continue
    if [[ -z "${tag:-}" ]]; then
        echo "images-push: expected 'image tag', got '$image'" >&2
        exit 1
    fi
    if "$docker" image inspect "$tag" > /dev/null 2>&1; then
        tags+=("$tag")
    else
        missing+=("$tag")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "images-push: not built: ${missing[*]}; run 'make images REGISTRY=…' with the same REGISTRY first" >&2
    exit 1
fi
if [[ ${#tags[@]} -eq 0 ]]; then
    echo "images-push: no images listed" >&2
    exit 1
fi
for tag in "${tags[@]}"; do
    echo "images-push: $tag"
    "$docker" push "$tag" > /dev/null
done
echo "images-push: ${#tags[@]} images pushed; deploy with the same REGISTRY (make kfp-deploy REGISTRY=…)"
