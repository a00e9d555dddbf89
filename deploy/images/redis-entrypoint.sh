#!/bin/sh
# The official image's start-up: `redis-server` flags only (no config file) → protected mode off,
# so clients on the stack's network may connect; then run as the redis user.
set -eu
if [ "${1#-}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "${2:-}" = "${2#*.conf}" ]; then
    case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
fi
if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
