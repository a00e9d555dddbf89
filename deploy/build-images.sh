#!/usr/bin/env bash
# Builds the Jarvis image on a machine that reaches no image registry, only Debian's mirror and PyPI:
#
#   bash deploy/build-images.sh                 # the Jarvis image (JARVIS_IMAGE, default jarvis:0.1.0)
#   bash deploy/build-images.sh --test-services # also PostgreSQL and Redis, for the test deployment
#   bash deploy/build-images.sh --test-server   # only the emulated cloud server image (tests/vps)
#
# 1. jarvis-base/debian:bookworm      a Debian root made here with debootstrap, loaded by `docker import`
# 2. jarvis-base/python:3.11-bookworm Debian's python3 (3.11) and venv on it: the Dockerfile's PYTHON_IMAGE
# 3. $JARVIS_IMAGE                    deploy/Dockerfile built on (2); Docker's layer cache keeps the
#                                     dependency layer while only the code changes
# 4. with --test-services: jarvis-test/postgres:15 and jarvis-test/redis:7 from Debian's packages,
#    behaving like the official images the published stack uses (deploy/images/).
# 5. with --test-server: jarvis-test/server:3, a Debian server with sshd for the Hetzner
#    emulator (deploy/images/server.Dockerfile); this builds (1) and (5) only. Its tag is
#    bumped whenever server.Dockerfile or server-entrypoint.sh changes (the cache is by tag).
#
# Base images (1, 2, 4) are cached by tag: present means never rebuilt (remove one to rebuild it,
# or pass --refresh-bases). Idempotent; run as root (debootstrap and apt need it).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=jarvis-base/debian:bookworm
PYTHON=jarvis-base/python:3.11-bookworm
JARVIS_IMAGE=${JARVIS_IMAGE:-jarvis:0.1.0}
test_services=false test_server=false refresh=false
for arg in "$@"; do
    case $arg in
        --test-services) test_services=true ;;
        --test-server) test_server=true ;;
        --refresh-bases) refresh=true ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "build-images.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

log() { printf '== %s\n' "$*" >&2; }
present() { [ "$refresh" = false ] && docker image inspect "$1" >/dev/null 2>&1; }
# No buildx plugin (Debian's docker.io): the classic builder, which reads the same Dockerfiles.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

debian_base() {
    if present "$BASE"; then return; fi
    command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }
    log "debootstrap $SUITE into a fresh root (minbase), then docker import $BASE"
    local root
    root=$(mktemp -d /tmp/jarvis-rootfs.XXXXXX)
    # shellcheck disable=SC2064  # expand now: the trap must remove this root, not a later one
    trap "rm -rf '$root'" RETURN
    debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >&2
    # the apt sources of a Debian image: the release, its updates and the security archive
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # as the official image: no recommends, no docs or caches kept in layers
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$root/etc/apt/apt.conf.d/90jarvis-norecommends"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
           "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
    tar --numeric-owner -C "$root" -c . | docker import \
        --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$BASE" >/dev/null
}

# $1 tag, $2 Dockerfile under deploy/images/: an image made FROM the Debian base, cached by tag.
# The context also holds this machine's own trusted CAs (/usr/local/share/ca-certificates), so
# pip and apt inside the builds trust what the host trusts (a TLS-inspecting proxy, say).
derived() {
    if present "$1"; then return; fi
    log "building $1 from deploy/images/$2"
    local ctx
    ctx=$(mktemp -d /tmp/jarvis-image-ctx.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$ctx'" RETURN
    cp -r deploy/images/. "$ctx/"
    mkdir -p "$ctx/ca"
    find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$ctx/ca/" \; 2>/dev/null || true
    docker build -q --force-rm -f "$ctx/$2" --build-arg "BASE=$BASE" -t "$1" "$ctx" >/dev/null
}

debian_base
if [ "$test_server" = true ]; then
    derived jarvis-test/server:3 server.Dockerfile
    log "image ready: jarvis-test/server:3"
    exit 0
fi
derived "$PYTHON" python.Dockerfile
log "building $JARVIS_IMAGE on $PYTHON"
docker build -q --force-rm -f deploy/Dockerfile --build-arg "PYTHON_IMAGE=$PYTHON" -t "$JARVIS_IMAGE" . >/dev/null
if [ "$test_services" = true ]; then
    derived jarvis-test/postgres:15 postgres.Dockerfile
    derived jarvis-test/redis:7 redis.Dockerfile
fi
log "images ready: $JARVIS_IMAGE$([ "$test_services" = true ] && echo ', jarvis-test/postgres:15, jarvis-test/redis:7')"
