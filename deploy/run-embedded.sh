#!/usr/bin/env bash
# Runs Jarvis in the embedded default on a fresh Debian machine: SQLite, in-process queue and
# worker, watching the examples/ repository. Prints the URL and, on first start, the admin's
# one-time password. Settings come from JARVIS_* variables (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v git >/dev/null || missing+=(git)
command -v ssh >/dev/null || missing+=(openssh-client)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -q && apt-get install -y -q "${missing[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e .
export JARVIS_DATA_DIR="${JARVIS_DATA_DIR:-$PWD/data}"
# the token examples/local's hello-api service holds as a Docker secret; export your own to change it
export HELLO_API_TOKEN="${HELLO_API_TOKEN:-hello-local-token}"
exec .venv/bin/jarvis serve "$@"
