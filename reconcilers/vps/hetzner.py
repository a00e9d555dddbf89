"""Hetzner Cloud through the official `hcloud` client: the one place the VPS kind talks to the API.

Every list carries the manifest's label selector; a name lookup (`get_by_name`) is the only read
that can return a server Jarvis does not own, and it is used only to tell "free" from "taken".
Each action is polled to success or error, and an error names the action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from hcloud import APIException, Client
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType

from controller.contract import ConnectionInfo

from . import ratelimit
from .connection import DEFAULT_BASE_URL, PRIVATE_KEY, TOKEN_KEY

KEY_NAME = "jarvis"


class HetznerError(Exception):
    pass


def client_for(connection: ConnectionInfo, **_: Any) -> Client:
    token = connection.secrets.get(TOKEN_KEY, "")
    if not token:
        raise HetznerError(f"connection {connection.name} has no {TOKEN_KEY}")
    client = Client(token=token, api_endpoint=str(connection.config.get("base_url") or DEFAULT_BASE_URL),
                    application_name="jarvis", poll_interval=0.2)
    # the client has no hook for its HTTP session: its one `requests.Session` is reached by name
    # (tests/vps/test_ratelimit.py fails if a new hcloud moves it)
    ratelimit.install(client._client._session)
    return client


def public_key(connection: ConnectionInfo) -> str:
    """The OpenSSH public half of the connection's private key."""
    try:
        key = serialization.load_ssh_private_key(connection.secrets.get(PRIVATE_KEY, "").encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise HetznerError(f"connection {connection.name}: {PRIVATE_KEY} is not an OpenSSH private key "
                           f"without a passphrase ({type(exc).__name__})") from None
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def describe(exc: APIException) -> str:
    return f"{exc.code}: {exc.message}"


def wait(action: Any, what: str) -> None:
    """Poll one action to its end; an error names it."""
    try:
        action.wait_until_finished(max_retries=600)
    except Exception as exc:   # hcloud raises ActionFailedException / ActionTimeoutException
        error = getattr(getattr(exc, "action", None), "error", None) or {}
        raise HetznerError(f"action {what} failed: {error.get('message') or exc}") from None


def catalogue(hc: Client) -> dict[str, set[str]]:
    return {"types": {t.name for t in hc.server_types.get_all()},
            "locations": {loc.name for loc in hc.locations.get_all()},
            "images": {i.name for i in hc.images.get_all() if i.name and i.type == "system"}}


def ssh_key_id(hc: Client, public: str) -> Any:
    """Jarvis's key in the project, uploaded on first use (matched by fingerprint, not by name)."""
    body = public.split()[1]
    for key in hc.ssh_keys.get_all():
        if key.public_key.split()[1] == body:
            return key
    return hc.ssh_keys.create(name=KEY_NAME, public_key=public, labels={"jarvis-managed": "true"})


def user_data(name: str) -> str:
    """cloud-init at creation only (never a reason to replace the server): the hostname."""
    return f"#cloud-config\nhostname: {name}\n"


def create(hc: Client, name: str, spec: Mapping[str, Any], public: str) -> Any:
    response = hc.servers.create(name=name, server_type=ServerType(name=spec["type"]),
                                 image=Image(name=spec["image"]), location=Location(name=spec["location"]),
                                 ssh_keys=[ssh_key_id(hc, public)], labels=dict(spec["labels"]),
                                 user_data=user_data(name))
    wait(response.action, f"create_server {name}")
    for action in response.next_actions or []:
        wait(action, f"{action.command} {name}")
    server = hc.servers.get_by_id(response.server.id)
    if spec.get("protected"):
        wait(server.change_protection(delete=True, rebuild=True), f"change_protection {name}")
    return hc.servers.get_by_id(server.id)


def update(hc: Client, server_id: int, name: str, spec: Mapping[str, Any], live_labels: Mapping[str, str]) -> Any:
    """Labels (the pin kept), protection and, for a new type, a resize: power off, change type, power on."""
    server = hc.servers.get_by_id(server_id)
    labels = {**dict(spec["labels"]), **{k: v for k, v in live_labels.items() if k == "jarvis-hostkey"}}
    if labels != server.labels:
        server = hc.servers.update(server, labels=labels)
    if bool(server.protection.get("delete")) != bool(spec.get("protected")):
        wait(server.change_protection(delete=bool(spec.get("protected")), rebuild=bool(spec.get("protected"))),
             f"change_protection {name}")
    if server.server_type.name != spec["type"]:
        if server.status != "off":
            wait(server.power_off(), f"poweroff {name}")
        wait(server.change_type(ServerType(name=spec["type"]), upgrade_disk=False), f"change_type {name}")
        wait(server.power_on(), f"poweron {name}")
    return hc.servers.get_by_id(server_id)


def set_label(hc: Client, server: Any, key: str, value: str) -> Any:
    return hc.servers.update(server, labels={**server.labels, key: value})


def delete(hc: Client, server_id: int, name: str, *, missing_ok: bool = False) -> None:
    try:
        server = hc.servers.get_by_id(server_id)
    except APIException as exc:
        if missing_ok and exc.code == "not_found":
            return
        raise
    if server.protection.get("delete"):
        raise HetznerError(f"server {name} is protected: never deleted")
    wait(hc.servers.delete(server), f"delete_server {name}")
