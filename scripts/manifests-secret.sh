#!/usr/bin/env bash
# Write the MinIO credentials that the minio overlay's secretGenerators read (git-ignored env
# files in DIR, default manifests/overlays/minio), one user each:
#   minio-root.env       MinIO's root user        MINIO_ROOT_USER / MINIO_ROOT_PASSWORD
#   minio.env            KFP's user (mlpipeline)  KFP_MINIO_ACCESS_KEY / KFP_MINIO_SECRET_KEY
#   lifecycle-stage.env  the stages' (lifecycle)  MINIO_ACCESS_KEY / MINIO_SECRET_KEY
# Each value comes from its variable when set, else random hex. An existing file is kept
# unless FORCE=1. Values must be letters or digits (they pass through env files unquoted),
# and the three access keys must differ (MinIO refuses a user named like the root).
#
# Usage: scripts/manifests-secret.sh [DIR]
set -euo pipefail

dir="${1:-manifests/overlays/minio}"
files=(minio-root.env minio.env lifecycle-stage.env)
access_vars=(MINIO_ROOT_USER KFP_MINIO_ACCESS_KEY MINIO_ACCESS_KEY)
secret_vars=(MINIO_ROOT_PASSWORD KFP_MINIO_SECRET_KEY MINIO_SECRET_KEY)

random_hex() {
    # $1 bytes of randomness as 2*$1 hex characters.
    od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# First every file's values (kept, given or random) and their checks, then the writes: a
# refusal leaves every file as it was.
access_keys=() secret_keys=() keep=()
for i in "${!files[@]}"; do
    env_file="$dir/${files[$i]}"
    if [[ -f "$env_file" && "${FORCE:-0}" != "1" ]]; then
        keep+=(1)
        access_keys+=("$(sed -n 's/^accesskey=//p' "$env_file")")
        secret_keys+=("")
        continue
    fi
    keep+=(0)
    access_var="${access_vars[$i]}" secret_var="${secret_vars[$i]}"
    access_key="${!access_var:-$(random_hex 8)}"
    secret_key="${!secret_var:-$(random_hex 20)}"
    if [[ ! "$access_key" =~ ^[A-Za-z0-9]{3,}$ ]]; then
        echo "manifests-secret: $access_var must be 3+ letters or digits" >&2
        exit 1
    fi
    if [[ ! "$secret_key" =~ ^[A-Za-z0-9]{8,}$ ]]; then
        echo "manifests-secret: $secret_var must be 8+ letters or digits" >&2
        exit 1
    fi
    access_keys+=("$access_key")
    secret_keys+=("$secret_key")
done

# MinIO refuses a user whose access key is the root's, and each user has one policy: the three
# access keys must differ.
if [[ "$(printf '%s\n' "${access_keys[@]}" | sort -u | wc -l)" -ne "${#files[@]}" ]]; then
    echo "manifests-secret: the access keys of ${files[*]} in $dir must all differ" >&2
    exit 1
fi

mkdir -p "$dir"
umask 077
for i in "${!files[@]}"; do
    env_file="$dir/${files[$i]}"
    if [[ "${keep[$i]}" == 1 ]]; then
        echo "manifests-secret: keeping $env_file (FORCE=1 rewrites it)"
        continue
    fi
    tmp="$(mktemp "${env_file}.XXXXXX")"
    printf 'accesskey=%s\nsecretkey=%s\n' "${access_keys[$i]}" "${secret_keys[$i]}" > "$tmp"
    mv "$tmp" "$env_file"
    echo "manifests-secret: wrote $env_file (git-ignored; keys accesskey, secretkey)"
done
