#!/usr/bin/env bash
# Reach the KFP Service SERVICE (in kubeflow) on localhost:LOCAL_PORT.
#   - If the port already answers, it must be ours: a port-forward this script started (its
#     pid file in FORWARD_DIR names a live `port-forward svc/SERVICE LOCAL:REMOTE`), or the
#     host port that kind maps for the cluster KIND_CLUSTER (manifests/kind/cluster.yaml, to
#     a NodePort of overlays/kind). Then there is nothing to do. Anything else listening
#     there is refused: it is not KFP, and kfp.Client or the browser would talk to it.
#   - Otherwise this runs `KUBECTL port-forward` until interrupted, with a pid file.
#
# Usage: scripts/kfp-port-forward.sh KUBECTL KIND_CLUSTER FORWARD_DIR SERVICE LOCAL_PORT REMOTE_PORT
set -euo pipefail

if [[ $# -ne 6 ]]; then
    echo "usage: $0 KUBECTL KIND_CLUSTER FORWARD_DIR SERVICE LOCAL_PORT REMOTE_PORT" >&2
    exit 2
fi
kubectl="$1" cluster="$2" forward_dir="$3" service="$4" local_port="$5" remote_port="$6"
# KFP's namespace (manifests/base).
namespace=kubeflow
pid_file="$forward_dir/$service-$local_port.pid"
url="http://localhost:$local_port"

port_open() {
    (: < "/dev/tcp/127.0.0.1/$local_port") 2> /dev/null
}

# The pid in the pid file, when that process is our port-forward of this service and port.
our_forward() {
    local pid args
    [[ -r "$pid_file" ]] || return 1
    pid="$(< "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    args="$(ps -ww -p "$pid" -o args= 2> /dev/null)" || return 1
    [[ "$args" == *" port-forward svc/$service $local_port:$remote_port"* ]] || return 1
    echo "$pid"
}

# True when kind's node container of the cluster publishes LOCAL_PORT on the host (kind runs
# its nodes in docker, so docker is the one to ask).
kind_maps_port() {
    command -v docker > /dev/null || return 1
    docker port "$cluster-control-plane" 2> /dev/null \
        | grep -Eq -- "-> (127\.0\.0\.1|0\.0\.0\.0|\[::\]|\[::1\]):$local_port\$"
}

if port_open; then
    if pid="$(our_forward)"; then
        echo "kfp-port-forward: $url is already forwarded to svc/$service by pid $pid ($pid_file): open $url"
        exit 0
    fi
    if kind_maps_port; then
        echo "kfp-port-forward: $url is served by kind's port mapping of cluster '$cluster' (manifests/kind/cluster.yaml): open $url"
        exit 0
    fi
    echo "kfp-port-forward: localhost:$local_port is in use by another process: not a port-forward" \
        "started here ($pid_file) and not kind's port mapping of cluster '$cluster'." >&2
    echo "kfp-port-forward: find it with 'ss -ltnp' or 'lsof -i :$local_port', stop it, and run this again" \
        "(or pick another port: make ui UI_PORT=... / make api API_PORT=... with KFP_HOST to match)" >&2
    exit 1
fi

rm -f "$pid_file"
mkdir -p "$forward_dir"
echo "kfp-port-forward: svc/$service -> $url (Ctrl-C stops)"
"$kubectl" -n "$namespace" port-forward "svc/$service" "$local_port:$remote_port" &
forward=$!
echo "$forward" > "$pid_file"
cleanup() {
    kill "$forward" 2> /dev/null || true
    rm -f "$pid_file"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$forward"
