#!/bin/sh
# TESTS ONLY: the first boot of an emulated cloud server (what cloud-init does on Hetzner, reduced
# to what Jarvis uses): fresh host keys, the project's SSH keys for root, the user_data script run
# once. Then sshd in the foreground as the container's main process (no init system here).
set -eu
if [ ! -e /var/lib/jarvis-firstboot ]; then
    ssh-keygen -A >/dev/null
    if [ -n "${SERVER_SSH_KEYS:-}" ]; then
        printf '%s\n' "$SERVER_SSH_KEYS" >/root/.ssh/authorized_keys
        chmod 600 /root/.ssh/authorized_keys
    fi
    if [ -n "${SERVER_USER_DATA:-}" ]; then
        mkdir -p /var/lib/cloud/instance
        printf '%s\n' "$SERVER_USER_DATA" >/var/lib/cloud/instance/user-data.txt
        case "$SERVER_USER_DATA" in
            '#!'*) chmod 700 /var/lib/cloud/instance/user-data.txt
                   /var/lib/cloud/instance/user-data.txt >/var/log/cloud-init-output.log 2>&1 || true ;;
        esac
    fi
    touch /var/lib/jarvis-firstboot
fi
# sshd logs to /var/log/auth.log as rsyslog would, so fail2ban's sshd jail has a log to read
touch /var/log/auth.log
exec /usr/sbin/sshd -D -E /var/log/auth.log
