#!/usr/bin/env bash
# Stop the Docker engine that scripts/docker-up.sh started (and only that one).
#
# Reads the pid from $TOOLS/dockerd.pid; an engine started by anyone else is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS:-$ROOT/.tools}"
case "$TOOLS" in /*) ;; *) TOOLS="$ROOT/$TOOLS" ;; esac
PIDFILE="$TOOLS/dockerd.pid"
TIMEOUT="${DOCKER_DOWN_TIMEOUT:-30}"

log() { printf 'docker-down: %s\n' "$*" >&2; }

if [ ! -f "$PIDFILE" ]; then
    log "no $PIDFILE: the engine was not started by docker-up.sh; nothing to do"
    exit 0
fi
pid="$(cat "$PIDFILE")"
if ! kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) is not running; removing stale pidfile"
    rm -f "$PIDFILE"
    exit 0
fi
comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
if [ "$comm" != "dockerd" ]; then
    log "pid $pid is '$comm', not dockerd; leaving it alone and removing the stale pidfile"
    rm -f "$PIDFILE"
    exit 0
fi
log "stopping dockerd (pid $pid)"
kill -TERM "$pid"
waited=0
while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((TIMEOUT * 2)) ]; then
        log "dockerd (pid $pid) still running after ${TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
    fi
    sleep 0.5
    waited=$((waited + 1))
done
rm -f "$PIDFILE"
log "stopped"
