#!/bin/sh
# Test infrastructure for the Swarm reconciler: a real Docker engine in swarm mode with local
# test images. Idempotent; run as root on a fresh Debian machine. No registry is reachable, so
# every image is built from a busybox-static root filesystem with `docker import`.
set -eu

LOG=${JARVIS_DOCKERD_LOG:-/var/log/jarvis-dockerd.log}

need_pkgs=""
command -v dockerd >/dev/null 2>&1 || need_pkgs="$need_pkgs docker.io"
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need_pkgs="$need_pkgs busybox-static"
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs="$need_pkgs busybox-static"
if [ -n "$need_pkgs" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $need_pkgs
fi

# Start dockerd without systemd when nothing answers on the socket.
if ! docker info >/dev/null 2>&1; then
    nohup dockerd >"$LOG" 2>&1 &
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 60 ]; then
            echo "dockerd did not answer within 60s; last log lines:" >&2
            tail -n 30 "$LOG" >&2
            exit 1
        fi
        sleep 1
    done
fi

if [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != "true" ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

# Build an image from a busybox root filesystem: $1 tag, $2 CMD (JSON), $3 marker text.
build_image() {
    tag=$1 cmd=$2 marker=$3
    if docker image inspect "$tag" >/dev/null 2>&1; then
        return 0
    fi
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
    echo "root:x:0:" >"$root/etc/group"
    echo "<html><body>jarvis test page</body></html>" >"$root/www/index.html"
    echo "$marker" >"$root/etc/jarvis-image"
    tar -C "$root" -c . | docker import \
        --change "CMD $cmd" \
        --change 'ENV PATH=/bin' \
        - "$tag" >/dev/null
    rm -rf "$root"
}

build_image jarvis-test/sleep:1 '["/bin/sleep", "infinity"]' "sleep v1"
build_image jarvis-test/sleep:2 '["/bin/sleep", "infinity"]' "sleep v2"
build_image jarvis-test/httpd:1 '["/bin/httpd", "-f", "-p", "80", "-h", "/www"]' "httpd v1"
build_image jarvis-test/fail:1 '["/bin/sh", "-c", "echo jarvis-test failing on purpose >&2; exit 3"]' "fail v1"

echo "docker ready: swarm manager, test images jarvis-test/{sleep:1,sleep:2,httpd:1,fail:1}"
