"""The real machines behind the emulated servers: one container per server on the local engine.

A server is a container of `jarvis-test/server:3` (built by `deploy/build-images.sh
--test-server`) running sshd as its main process; its public IPv4 is a fixed address on a bridge
network of the emulator's own, which this host reaches directly, and it keeps that address
across power cycles as a Hetzner server keeps its primary IP. Power actions stop and start the
container, so what runs on the server (sshd, nftables, fail2ban) stops and starts with it. It
gets NET_ADMIN and NET_RAW (never --privileged, which this machine refuses) so nftables and
fail2ban work for real.
"""

from __future__ import annotations

import ipaddress
import itertools
import uuid

import docker
from docker.errors import NotFound

IMAGE = "jarvis-test/server:3"
LABEL = "jarvis-test.hetzner-emulator"


class Machines:
    def __init__(self, image: str = IMAGE):
        self.image = image
        self.run = uuid.uuid4().hex[:8]          # this emulator's containers, for cleanup
        self.docker = docker.from_env()
        self._network = None
        self._hosts = None

    def _allocate(self) -> tuple[str, str]:
        """(network name, a free address on it): the network is made on the first server."""
        if self._network is None:
            subnet = self._free_subnet()
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(subnet))])
            self._network = self.docker.networks.create(f"hetzner-{self.run}", driver="bridge", ipam=ipam,
                                                        labels={LABEL: self.run})
            self._hosts = itertools.islice(subnet.hosts(), 10, None)     # past the gateway
        return self._network.name, str(next(self._hosts))

    def available(self) -> bool:
        try:
            self.docker.images.get(self.image)
            return True
        except NotFound:
            return False

    def _free_subnet(self) -> ipaddress.IPv4Network:
        """A /24 in 10.213.0.0/16 that no network on this engine uses (a fixed IP needs a subnet)."""
        used = []
        for net in self.docker.networks.list():
            for cfg in (net.attrs.get("IPAM") or {}).get("Config") or []:
                if cfg.get("Subnet") and ":" not in cfg["Subnet"]:
                    used.append(ipaddress.ip_network(cfg["Subnet"]))
        for candidate in ipaddress.ip_network("10.213.0.0/16").subnets(new_prefix=24):
            if not any(candidate.overlaps(u) for u in used):
                return candidate
        raise RuntimeError("no free /24 left in 10.213.0.0/16 for the emulator's servers")

    def create(self, server_id: int, name: str, ssh_keys: list[str], user_data: str | None) -> str:
        network, ip = self._allocate()
        api = self.docker.api
        created = api.create_container(
            self.image, name=f"hetzner-{self.run}-{server_id}-{name}"[:63], hostname=name,
            environment={"SERVER_SSH_KEYS": "\n".join(ssh_keys), "SERVER_USER_DATA": user_data or ""},
            labels={LABEL: self.run}, host_config=api.create_host_config(cap_add=["NET_ADMIN", "NET_RAW"]),
            networking_config=api.create_networking_config({network: api.create_endpoint_config(ipv4_address=ip)}),
        )
        api.start(created["Id"])
        return created["Id"]

    def address(self, container_id: str) -> str:
        container = self.docker.containers.get(container_id)
        networks = container.attrs["NetworkSettings"]["Networks"]
        return next((n["IPAddress"] for n in networks.values() if n.get("IPAddress")), "")

    def running(self, container_id: str) -> bool:
        try:
            return self.docker.containers.get(container_id).status == "running"
        except NotFound:
            return False

    def stop(self, container_id: str, timeout: int = 5) -> None:
        self.docker.containers.get(container_id).stop(timeout=timeout)

    def start(self, container_id: str) -> None:
        self.docker.containers.get(container_id).start()

    def restart(self, container_id: str) -> None:
        self.docker.containers.get(container_id).restart(timeout=5)

    def remove(self, container_id: str) -> None:
        try:
            self.docker.containers.get(container_id).remove(force=True)
        except NotFound:
            pass

    def cleanup(self) -> None:
        for container in self.docker.containers.list(all=True, filters={"label": f"{LABEL}={self.run}"}):
            container.remove(force=True)
        if self._network is not None:
            self._network.remove()
            self._network = None
