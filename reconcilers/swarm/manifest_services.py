"""orch.yaml `services:` entries (with their short forms) → compose-shaped service dicts.

The compose shape is what `convert.convert_service` reads, so both inputs share one converter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconcilers.swarm.convert import ConversionError

_ROUTER_SAFE = re.compile(r"[^a-zA-Z0-9-]")


def traefik_labels(service: str, expose: Mapping[str, Any]) -> dict[str, str]:
    """`expose: {host, port}` → the Traefik router and service labels (Traefik reads service labels)."""
    if not expose.get("host") or not expose.get("port"):
        raise ConversionError("expose: needs host and port")
    r = _ROUTER_SAFE.sub("-", service)
    labels = {
        "traefik.enable": "true",
        f"traefik.http.routers.{r}.rule": f"Host(`{expose['host']}`)",
        f"traefik.http.routers.{r}.entrypoints": str(expose.get("entrypoint") or "websecure"),
        f"traefik.http.services.{r}.loadbalancer.server.port": str(int(expose["port"])),
    }
    if expose.get("tls", True):
        labels[f"traefik.http.routers.{r}.tls"] = "true"
    return labels


def to_compose(name: str, svc: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(svc, str):          # short form: `web: image:tag`
        svc = {"image": svc}
    out: dict[str, Any] = {"image": svc.get("image")}
    if svc.get("command") is not None:
        out["entrypoint"] = svc["command"]
    if svc.get("args") is not None:
        out["command"] = svc["args"]
    for src, dst in (("env", "environment"), ("container_labels", "labels"), ("ports", "ports"),
                     ("networks", "networks"), ("volumes", "volumes"), ("secrets", "secrets"),
                     ("configs", "configs"), ("healthcheck", "healthcheck")):
        if svc.get(src) is not None:
            out[dst] = svc[src]
    deploy: dict[str, Any] = {"mode": svc.get("mode") or "replicated"}
    if svc.get("replicas") is not None:
        deploy["replicas"] = svc["replicas"]
    labels = dict(svc.get("labels") or {})
    if svc.get("expose"):
        labels.update(traefik_labels(name, svc["expose"]))
    deploy["labels"] = labels
    if svc.get("resources"):
        deploy["resources"] = svc["resources"]
    if (p := svc.get("placement")) is not None:
        deploy["placement"] = {"constraints": p.get("constraints"), "preferences": p.get("preferences"),
                               "max_replicas_per_node": p.get("max_replicas")}
    for src, dst in (("update", "update_config"), ("rollback", "rollback_config"),
                     ("restart", "restart_policy")):
        if svc.get(src) is not None:
            deploy[dst] = svc[src]
    out["deploy"] = deploy
    return out
