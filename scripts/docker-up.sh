#!/usr/bin/env bash
# Start a Docker engine for this project, idempotently.
#
# - Does nothing when `docker info` already answers (whoever started the engine).
# - Installs Debian's docker.io when dockerd is missing (needs root and apt).
# - Starts `dockerd --bridge=none --iptables=false`: no bridge network and no
#   firewall rules; containers run with `--network host` or `--network none`.
# - Tries the storage drivers in $DOCKER_STORAGE_DRIVERS (default "overlay2 vfs"), the
#   one that already holds images first, and keeps the first one that starts.
# - Logs to $TOOLS/dockerd.log, writes $TOOLS/dockerd.pid (docker-down.sh reads it).
#
# Environment: TOOLS (default <repo>/.tools), DOCKER_STORAGE_DRIVERS,
# DOCKER_DATA_ROOT (default: dockerd's own, /var/lib/docker),
# DOCKER_UP_TIMEOUT (seconds to wait for the engine per driver, default 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS:-$ROOT/.tools}"
case "$TOOLS" in /*) ;; *) TOOLS="$ROOT/$TOOLS" ;; esac
LOG="$TOOLS/dockerd.log"
PIDFILE="$TOOLS/dockerd.pid"
DRIVERS="${DOCKER_STORAGE_DRIVERS:-overlay2 vfs}"
TIMEOUT="${DOCKER_UP_TIMEOUT:-60}"

log() { printf 'docker-up: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

# One `apt-get update`, then docker.io (and debootstrap, which base-image-offline.sh needs).
# A temporary policy-rc.d keeps the package from starting its own, bridged, daemon.
install_docker() {
    [ "$(id -u)" -eq 0 ] || die "dockerd is missing and installing docker.io needs root"
    command -v apt-get >/dev/null || die "dockerd is missing and apt-get is not available"
    log "dockerd not found: installing Debian's docker.io and debootstrap"
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
    fi
    local rc=0
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io debootstrap; } || rc=$?
    if [ "$added" -eq 1 ]; then rm -f "$policy"; fi
    [ "$rc" -eq 0 ] || die "installing docker.io failed (apt-get exit code $rc)"
}

# Storage drivers to try: one that already holds images in the data root first.
driver_candidates() {
    local data_root="${DOCKER_DATA_ROOT:-/var/lib/docker}" d first=""
    for d in $DRIVERS; do
        if [ -z "$first" ] && [ -d "$data_root/image/$d" ]; then first="$d"; fi
    done
    printf '%s\n' "$first"
    for d in $DRIVERS; do [ "$d" = "$first" ] || printf '%s\n' "$d"; done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Start dockerd with one storage driver; return 0 once `docker info` answers.
start_with() {
    local driver="$1" pid waited=0
    local -a args=(--bridge=none --iptables=false --ip6tables=false
                   --storage-driver="$driver" --pidfile="$PIDFILE")
    if [ -n "${DOCKER_DATA_ROOT:-}" ]; then
        args+=(--data-root="$DOCKER_DATA_ROOT")
    fi
    log "starting dockerd (storage driver $driver), log: $LOG"
    printf '\n=== %s docker-up: dockerd %s\n' "$(date -u +%FT%TZ)" "${args[*]}" >>"$LOG"
    setsid dockerd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
    pid=$!  # setsid execs in place (a background job is no group leader): this is dockerd
    while [ "$waited" -lt "$TIMEOUT" ]; do
        if engine_answers; then
            [ -s "$PIDFILE" ] || echo "$pid" >"$PIDFILE"  # dockerd writes it; belt and braces
            log "engine up after ${waited}s: $(docker info --format 'server {{.ServerVersion}}, driver {{.Driver}}')"
            return 0
        fi
        pid_alive "$pid" || { log "dockerd exited with driver $driver (see $LOG)"; return 1; }
        sleep 1
        waited=$((waited + 1))
    done
    log "dockerd did not answer within ${TIMEOUT}s with driver $driver; stopping it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do pid_alive "$pid" || break; sleep 0.5; done
    return 1
}

main() {
    if engine_answers; then
        log "engine already running ($(docker info --format '{{.ServerVersion}}, driver {{.Driver}}')); nothing to do"
        return 0
    fi
    command -v dockerd >/dev/null || install_docker
    command -v docker >/dev/null || die "the docker client is missing (install docker.io)"
    [ "$(id -u)" -eq 0 ] || die "starting dockerd needs root"
    mkdir -p "$TOOLS"
    if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then
        die "dockerd (pid $(cat "$PIDFILE")) is running but does not answer; see $LOG or run scripts/docker-down.sh"
    fi
    rm -f "$PIDFILE"
    local driver
    for driver in $(driver_candidates); do
        start_with "$driver" && return 0
    done
    tail -n 30 "$LOG" >&2 || true
    die "could not start dockerd with any of: $DRIVERS (timeout ${TIMEOUT}s each); full log in $LOG"
}

main "$@"
