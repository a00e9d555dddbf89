"""Compose files as Portainer stacks hold them: parsed, normalised for the diff, and marked as Jarvis's.

The diff compares parsed compose documents, not text, so key order, quoting and comments never show
as drift; the obsolete top-level `version`, the `KEY=value` list forms of `environment` and `labels`
(folded to mappings) and the labels Jarvis adds are normalised away on both sides. The deployed file
is the repository's document with Jarvis's ownership labels in every service's `deploy.labels`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from controller.contract import Scope

OWNER_ENV = "JARVIS_OWNER"            # in the stack's env: `<source>/<manifest>` that owns it
MANAGED, SOURCE, MANIFEST = "jarvis.managed", "jarvis.source", "jarvis.manifest"
OUR_LABELS = (MANAGED, SOURCE, MANIFEST)


class ComposeError(ValueError):
    pass


def owner(scope: Scope) -> str:
    return f"{scope.source}/{scope.manifest}"


def parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ComposeError(f"{where}{at}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict) or not data["services"]:
        raise ComposeError(f"{where}: a compose file needs a `services:` mapping with at least one service")
    for name, svc in data["services"].items():
        if not isinstance(svc, dict) or not svc.get("image"):
            raise ComposeError(f"{where}: services.{name} needs an `image` (Portainer does not build images)")
    return data


def _as_map(value: Any) -> Any:
    if isinstance(value, list):
        out = {}
        for item in value:
            key, sep, val = str(item).partition("=")
            out[key] = val if sep else None
        return out
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v) if not isinstance(v, str) else v) for k, v in value.items()}
    return value


def normalise(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A compose document as the diff compares it (pure; works on a copy)."""
    out = {k: v for k, v in doc.items() if k != "version"}
    services = {}
    for name, svc in (doc.get("services") or {}).items():
        svc = dict(svc)
        for key in ("environment", "labels"):
            if key in svc:
                svc[key] = _as_map(svc[key])
        deploy = dict(svc.get("deploy") or {})
        if "labels" in deploy:
            labels = {k: v for k, v in _as_map(deploy["labels"]).items() if k not in OUR_LABELS}
            deploy = {k: v for k, v in deploy.items() if k != "labels"} | ({"labels": labels} if labels else {})
        if deploy:
            svc["deploy"] = deploy
        else:
            svc.pop("deploy", None)
        services[str(name)] = svc
    out["services"] = services
    return out


def marked(doc: Mapping[str, Any], scope_source: str, scope_manifest: str) -> str:
    """The file to deploy: `doc` with Jarvis's labels on every service, as YAML."""
    services = {}
    for name, svc in doc["services"].items():
        svc = dict(svc)
        deploy = dict(svc.get("deploy") or {})
        labels = dict(_as_map(deploy.get("labels") or {}))
        labels.update({MANAGED: "true", SOURCE: scope_source, MANIFEST: scope_manifest})
        deploy["labels"] = labels
        svc["deploy"] = deploy
        services[name] = svc
    body = {k: v for k, v in doc.items() if k != "services"}
    body["services"] = services
    return "# deployed by Jarvis: edit it in the repository, not here\n" + yaml.safe_dump(
        body, sort_keys=False, default_flow_style=False)


def images(doc: Mapping[str, Any]) -> list[str]:
    return sorted({str(s["image"]) for s in doc["services"].values() if isinstance(s, dict) and s.get("image")})
