#!/usr/bin/env bash
# Render each kustomize overlay to OUT_DIR/<overlay>.yaml and validate every resource in it
# against the Kubernetes OpenAPI schemas (kubernetes-validate, offline, strict). Fails with
# the overlay, file and resource at fault.
#
# Usage: scripts/manifests-check.sh KUSTOMIZE VALIDATOR K8S_VERSION OUT_DIR OVERLAY_DIR...
#   VALIDATOR: the kubernetes-validate executable; "" renders without validating.
set -euo pipefail

if [[ $# -lt 5 ]]; then
    echo "usage: $0 KUSTOMIZE VALIDATOR K8S_VERSION OUT_DIR OVERLAY_DIR..." >&2
    exit 2
fi
kustomize="$1" validator="$2" k8s_version="$3" out_dir="$4"
shift 4

if ! command -v "$kustomize" > /dev/null; then
    echo "manifests-check: $kustomize not found; run 'make kustomize-install'" >&2
    exit 1
fi
if [[ -n "$validator" ]] && ! command -v "$validator" > /dev/null; then
    echo "manifests-check: $validator not found; run 'make install'" >&2
    exit 1
fi

mkdir -p "$out_dir"
failed=()
for overlay in "$@"; do
    name="$(basename "$overlay")"
    out="$out_dir/$name.yaml"
    if ! "$kustomize" build "$overlay" > "$out"; then
        echo "manifests-check: FAILED to render $overlay (kustomize error above)" >&2
        failed+=("$overlay (render)")
        continue
    fi
    count="$(grep -c '^kind:' "$out" || true)"
    if [[ -z "$validator" ]]; then
        echo "manifests: $overlay -> $out ($count resources)"
        continue
    fi
    if "$validator" --strict --quiet --kubernetes-version "$k8s_version" "$out"; then
        echo "manifests-check: $overlay -> $out: $count resources valid for Kubernetes $k8s_version"
    else
        echo "manifests-check: FAILED schema validation of $overlay ($out); see the ERROR lines above" >&2
        failed+=("$overlay (schema)")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "manifests-check: ${#failed[@]} overlay(s) failed: ${failed[*]}" >&2
    exit 1
fi
