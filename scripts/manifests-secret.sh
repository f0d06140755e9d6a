#!/usr/bin/env bash
# Write the MinIO credentials that the minio overlay's secretGenerator reads
# (manifests/overlays/minio/minio.env, git-ignored). Keeps an existing file unless FORCE=1.
# Values come from MINIO_ACCESS_KEY / MINIO_SECRET_KEY, else random hex. They must be
# alphanumeric: the bucket Job puts them in a URL (MC_HOST_local).
#
# Usage: scripts/manifests-secret.sh [ENV_FILE]
set -euo pipefail

env_file="${1:-manifests/overlays/minio/minio.env}"

if [[ -f "$env_file" && "${FORCE:-0}" != "1" ]]; then
    echo "manifests-secret: keeping $env_file (FORCE=1 rewrites it)"
    exit 0
fi

random_hex() {
    # $1 bytes of randomness as 2*$1 hex characters.
    od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}

access_key="${MINIO_ACCESS_KEY:-$(random_hex 8)}"
secret_key="${MINIO_SECRET_KEY:-$(random_hex 20)}"

if [[ ! "$access_key" =~ ^[A-Za-z0-9]{3,}$ ]]; then
    echo "manifests-secret: MINIO_ACCESS_KEY must be 3+ letters or digits" >&2
    exit 1
fi
if [[ ! "$secret_key" =~ ^[A-Za-z0-9]{8,}$ ]]; then
    echo "manifests-secret: MINIO_SECRET_KEY must be 8+ letters or digits" >&2
    exit 1
fi

mkdir -p "$(dirname "$env_file")"
umask 077
tmp="$(mktemp "${env_file}.XXXXXX")"
printf 'accesskey=%s\nsecretkey=%s\n' "$access_key" "$secret_key" > "$tmp"
mv "$tmp" "$env_file"
echo "manifests-secret: wrote $env_file (git-ignored; keys accesskey, secretkey)"
