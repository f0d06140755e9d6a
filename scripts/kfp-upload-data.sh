#!/usr/bin/env bash
# Copy the course data into the cluster's MinIO, under incoming/ keys that the runs take as
# sources. Forwards svc/minio-service to 127.0.0.1:LOCAL_PORT for the copy, reads the
# credentials from the git-ignored env file that `make manifests-secret` wrote (the stages'
# user, allowed the lifecycle bucket only; they never appear on a command line), and stops the
# forward when done.
#
# Usage: scripts/kfp-upload-data.sh PYTHON KUBECTL STAGE_ENV LOCAL_PORT BUCKET
set -euo pipefail

if [[ $# -ne 5 ]]; then
    echo "usage: $0 PYTHON KUBECTL STAGE_ENV LOCAL_PORT BUCKET" >&2
    exit 2
fi
python="$1" kubectl="$2" env_file="$3" local_port="$4" bucket="$5"
# KFP's namespace (manifests/base), where our MinIO runs.
namespace=kubeflow

if [[ ! -r "$env_file" ]]; then
    echo "kfp-upload-data: $env_file not found; 'make kfp-deploy' writes it and deploys MinIO" >&2
    exit 1
fi
access_key="$(sed -n 's/^accesskey=//p' "$env_file")"
secret_key="$(sed -n 's/^secretkey=//p' "$env_file")"
if [[ -z "$access_key" || -z "$secret_key" ]]; then
    echo "kfp-upload-data: $env_file has no accesskey=/secretkey= lines" >&2
    exit 1
fi
if (: < "/dev/tcp/127.0.0.1/$local_port") 2> /dev/null; then
    echo "kfp-upload-data: 127.0.0.1:$local_port is in use; pick another with MINIO_FORWARD_PORT=" >&2
    exit 1
fi

log="$(mktemp)"
"$kubectl" -n "$namespace" port-forward svc/minio-service "$local_port:9000" > "$log" 2>&1 &
forward=$!
cleanup() {
    kill "$forward" 2> /dev/null || true
    wait "$forward" 2> /dev/null || true
    rm -f "$log"
}
trap cleanup EXIT

echo "kfp-upload-data: svc/minio-service -> 127.0.0.1:$local_port"
for _ in $(seq 1 60); do
    if (: < "/dev/tcp/127.0.0.1/$local_port") 2> /dev/null; then
        break
    fi
    if ! kill -0 "$forward" 2> /dev/null; then
        echo "kfp-upload-data: the port-forward stopped:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.5
done
if ! (: < "/dev/tcp/127.0.0.1/$local_port") 2> /dev/null; then
    echo "kfp-upload-data: nothing listens on 127.0.0.1:$local_port after 30 s" >&2
    cat "$log" >&2
    exit 1
fi

MINIO_ACCESS_KEY="$access_key" MINIO_SECRET_KEY="$secret_key" \
    "$python" -m pipelines.kfp_client upload-data --store "minio://127.0.0.1:$local_port/$bucket"
