#!/usr/bin/env bash
# Reach a KFP Service on localhost:LOCAL_PORT. On a cluster made from
# manifests/kind/cluster.yaml the port is already mapped to a NodePort, so there is nothing to
# forward; elsewhere this runs `kubectl port-forward` until interrupted.
#
# Usage: scripts/kfp-port-forward.sh NAMESPACE SERVICE LOCAL_PORT REMOTE_PORT
set -euo pipefail

namespace="$1" service="$2" local_port="$3" remote_port="$4"

if (: < "/dev/tcp/127.0.0.1/$local_port") 2> /dev/null; then
    echo "kfp-port-forward: localhost:$local_port is already served (kind's port mapping of"
    echo "  manifests/kind/cluster.yaml, or another forward): open http://localhost:$local_port"
    exit 0
fi
echo "kfp-port-forward: svc/$service -> http://localhost:$local_port (Ctrl-C stops)"
exec kubectl -n "$namespace" port-forward "svc/$service" "$local_port:$remote_port"
