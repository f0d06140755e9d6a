#!/usr/bin/env bash
# Build the Python 3.11 base image from Debian packages, with no container registry.
#
#   debootstrap --variant=minbase bookworm  ->  rootfs  ->  docker import  ->  $OFFLINE_BASE_IMAGE
#
# Debian bookworm's python3 is 3.11, like the project's. The image carries the host's CA
# bundle and pip configuration (scrubbed of credentials) so that pip works behind a
# TLS-intercepting proxy; it is meant for this kind of machine only. Users with a registry
# build images/base FROM the public python image instead and never need this.
#
# Environment:
#   OFFLINE_BASE_IMAGE  tag to build (default lifecycle-python-base:3.11-bookworm)
#   FORCE=1             rebuild even when the tag exists
#   MIRROR              Debian mirror (default: the one apt uses, from /etc/apt)
#   SECURITY_MIRROR     Debian security mirror (default: from /etc/apt, else deb.debian.org)
#   SUITE               default bookworm
#   TOOLS               work folder (default <repo>/.tools); the rootfs is deleted after import
#   KEEP_ROOTFS=1       keep $TOOLS/base-offline/rootfs after the import
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS:-$ROOT/.tools}"
case "$TOOLS" in /*) ;; *) TOOLS="$ROOT/$TOOLS" ;; esac
IMAGE="${OFFLINE_BASE_IMAGE:-lifecycle-python-base:3.11-bookworm}"
SUITE="${SUITE:-bookworm}"
WORK="$TOOLS/base-offline"
ROOTFS="$WORK/rootfs"
HOST_CA=/etc/ssl/certs/ca-certificates.crt
PACKAGES="python3,python3-venv,python-is-python3,ca-certificates"
# Names that must never reach an image's environment (tests/credentials.py SECRET_NAME).
SECRET_NAMES='KEY|SECRET|PASSWORD|PASSWD|TOKEN|AUTH|CREDENTIAL'

log() { printf 'base-image-offline: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

image_size() { docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'; }

# Print the first URI of an enabled deb source for suite $1 (deb822 .sources, then one-line .list).
apt_mirror_for() {
    local suite="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$suite" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") \
                    && enabled != "no" && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit }
                types = suites = uris = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
              if (key == "types") types = $0; else if (key == "suites") suites = $0
              else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0) }
            END { if (!found) flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI suite components...
        sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }'
    done
}

# Drop any line that carries credentials (user:password@ in URLs, or a secret-looking key).
scrub_credentials() {
    grep -v -i -E "://[^/[:space:]]*@|^[[:space:]]*[a-z_-]*(password|token|secret|auth)[a-z_-]*[[:space:]]*=" || true
}

cleanup() {
    # Never leave anything mounted under the rootfs, and never follow a mount when deleting.
    if [ -d "$ROOTFS" ]; then
        local m
        while read -r m; do
            umount -l "$m" || true
        done < <(awk -v r="$ROOTFS" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r)
        if [ "${KEEP_ROOTFS:-0}" != 1 ]; then rm -rf --one-file-system "$ROOTFS"; fi
    fi
}

main() {
    docker info >/dev/null 2>&1 || die "the Docker engine does not answer; run 'make docker-up' (scripts/docker-up.sh) first"
    if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
        log "$IMAGE already exists ($(image_size "$IMAGE")); FORCE=1 rebuilds it"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    if ! command -v debootstrap >/dev/null; then
        log "debootstrap not found: installing it"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap
    fi
    local mirror security start
    mirror="${MIRROR:-$(apt_mirror_for "$SUITE" | head -n 1)}"
    [ -n "$mirror" ] || die "no apt source for suite $SUITE in /etc/apt; set MIRROR=http://.../debian"
    security="${SECURITY_MIRROR:-$(apt_mirror_for "$SUITE-security" | head -n 1)}"
    security="${security:-http://deb.debian.org/debian-security}"
    log "building $IMAGE from $mirror ($SUITE, minbase + $PACKAGES)"
    start=$(date +%s)

    trap cleanup EXIT
    cleanup
    mkdir -p "$WORK"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$mirror" \
        >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (full log: $WORK/debootstrap.log)"; }
    log "debootstrap done in $(( $(date +%s) - start ))s"

    # Apt sources of the image: the same mirror, plus updates and security.
    rm -f "$ROOTFS/etc/apt/sources.list"
    cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

    # Security and point-release updates, in a chroot with the host's DNS (removed afterwards).
    # Snapshot mirrors serve expired Release files: accept them for this one run.
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' \
        >"$ROOTFS/etc/apt/apt.conf.d/99build-only"
    chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get update -qq && apt-get -y -qq upgrade' >>"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 30 "$WORK/debootstrap.log" >&2; die "apt-get upgrade in the rootfs failed"; }
    chroot "$ROOTFS" apt-get clean
    rm -f "$ROOTFS/etc/apt/apt.conf.d/99build-only" "$ROOTFS/etc/resolv.conf"
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/log/*.log \
        "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* \
        "$ROOTFS"/usr/share/info/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
    find "$ROOTFS/usr/lib/python3" "$ROOTFS/usr/lib/python3.11" -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true

    # `python` and `python3` both resolve (python-is-python3 provides the first).
    [ -e "$ROOTFS/usr/bin/python" ] || ln -s python3 "$ROOTFS/usr/bin/python"
    chroot "$ROOTFS" python --version >/dev/null || die "python does not run in the rootfs"

    # The host's CA bundle (it trusts the TLS-intercepting proxy) and its pip configuration.
    local -a changes=(
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        "ENV LANG=C.UTF-8"
        "CMD [\"python3\"]"
        "LABEL org.opencontainers.image.title=lifecycle-python-base"
        "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase with Python 3 (debootstrap, for machines without a registry)\""
        "LABEL org.opencontainers.image.base.name=debian:$SUITE"
    )
    if [ -f "$HOST_CA" ]; then
        cp "$HOST_CA" "$ROOTFS$HOST_CA"
        changes+=("ENV SSL_CERT_FILE=$HOST_CA" "ENV REQUESTS_CA_BUNDLE=$HOST_CA")
    fi
    local conf
    for conf in /etc/pip.conf /etc/xdg/pip/pip.conf; do
        if [ -f "$conf" ]; then
            mkdir -p "$ROOTFS$(dirname "$conf")"
            scrub_credentials <"$conf" >"$ROOTFS$conf"
            log "copied $conf (credential lines removed)"
        fi
    done
    local name value path
    while IFS='=' read -r name value; do
        if [[ "$name" =~ $SECRET_NAMES ]] || [[ "$value" =~ ://[^/[:space:]]*@ ]]; then
            log "not carrying $name (looks like a credential)"
            continue
        fi
        case "$name" in
            PIP_CERT | PIP_CLIENT_CERT | PIP_FIND_LINKS | PIP_CONFIG_FILE | PIP_CONSTRAINT | PIP_REQUIREMENT)
                path="${value#file://}"
                if [ ! -e "$ROOTFS$path" ]; then
                    log "not carrying $name=$value (no such path in the image)"
                    continue
                fi ;;
        esac
        changes+=("ENV $name=$value")
    done < <(env | grep -E '^PIP_[A-Z_]+=' | sort)

    local -a change_args=()
    local c
    for c in "${changes[@]}"; do change_args+=(--change "$c"); done
    log "importing into $IMAGE"
    tar --numeric-owner --xattrs -C "$ROOTFS" -c . | docker import "${change_args[@]}" - "$IMAGE" >/dev/null
    docker run --rm --network none "$IMAGE" python -c 'import ssl, sys, venv; assert sys.version_info[:2] == (3, 11), sys.version' \
        || die "$IMAGE does not run python 3.11"
    log "built $IMAGE in $(( $(date +%s) - start ))s, $(image_size "$IMAGE")"
}

main "$@"
