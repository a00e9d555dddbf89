#!/usr/bin/env bash
# The test command. On a fresh Debian machine, as root: installs and starts everything the tests
# need (PostgreSQL, Redis, git, OpenSSH, Docker in swarm mode with local test images, Chromium,
# Prometheus and Alertmanager),
# builds the virtualenv, then runs ruff, the import-layer contracts and the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

log() { printf '\n== %s\n' "$*"; }

# -- system packages ---------------------------------------------------------------------------
missing=()
command -v git >/dev/null || missing+=(git)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pg_dump >/dev/null || missing+=(postgresql-client)
command -v restic >/dev/null || missing+=(restic)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v promtool >/dev/null || missing+=(prometheus)                        # rules checked and fired
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)   # posts alerts to Jarvis
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
fi

# -- services ----------------------------------------------------------------------------------
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    log "starting PostgreSQL"
    cluster=$(ls /etc/postgresql | head -n1)
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    conf=/etc/postgresql/$cluster/main/pg_hba.conf
    if ! grep -q "jarvis-tests" "$conf"; then   # the tests connect as postgres over TCP without a password
        sed -i '1i host all all 127.0.0.1/32 trust # jarvis-tests' "$conf"
        pg_ctlcluster --skip-systemctl-redirect "$cluster" main reload
    fi
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
log "Docker engine in swarm mode, test images"
sh tests/infra/docker.sh

# -- Python ------------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    python3 -m venv .venv
fi
log "installing Jarvis and its test dependencies"
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'

# -- checks ------------------------------------------------------------------------------------
log "ruff"
.venv/bin/ruff check .
log "import contracts"
.venv/bin/lint-imports
log "pytest"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
