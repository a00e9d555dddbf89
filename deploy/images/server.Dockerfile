# TESTS ONLY (tests/vps): a Debian bookworm "cloud server" for the Hetzner emulator, because no
# server can be rented here. It carries what a fresh Hetzner Debian image has that Jarvis relies
# on (OpenSSH, Python 3 for Ansible, sudo, apt) plus the packages the hardening installs, so a
# test run does not wait on the mirror: nftables, fail2ban, unattended-upgrades. Nothing is
# configured: the hardening playbook does that, over real SSH, like on a real server.
ARG BASE=jarvis-base/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-server python3 python3-apt sudo nftables \
        fail2ban python3-systemd unattended-upgrades iproute2 procps netbase ca-certificates \
 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*_key* \
 && mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh
COPY server-entrypoint.sh /usr/local/sbin/server-entrypoint
EXPOSE 22
ENTRYPOINT ["/usr/local/sbin/server-entrypoint"]
