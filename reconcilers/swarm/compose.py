"""A compose file → the objects `docker stack deploy` would create for it, in Engine API shape.

Service names are `<stack>_<svc>`, every object carries `com.docker.stack.namespace`, services
carry `com.docker.stack.image`, and services without `networks:` join `<stack>_default`, so
`docker stack ls` and `docker stack ps` show a Jarvis-deployed stack like any other. Secrets and
configs differ on purpose: they are named by content hash (`<stack>_<name>_<hash8>`) so a changed
value rotates instead of failing on an object in use.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconcilers.swarm.convert import NAMESPACE_LABEL, Context, ConversionError, as_map, convert_service
from reconcilers.swarm.refs import ReferenceError_, unset_variable, versioned_name

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class Converted:
    """Objects of one input (a compose file or the orch.yaml sections), before ownership labels."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)      # name -> ServiceSpec
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)      # name -> network spec
    secrets: dict[str, tuple[dict[str, str], bytes]] = field(default_factory=dict)  # name -> labels, value
    configs: dict[str, tuple[dict[str, str], bytes]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)                   # resource key -> message


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Compose variable substitution: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, $$."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = environ.get(name)
        if op == ":-" and not value or op == "-" and value is None:
            return arg
        if op in (":?", "?") and not value:
            raise ConversionError(f"variable {name} is required: {arg}")
        return value or ""
    return _VAR.sub(sub, text)


def load_compose(text: str, path: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        data = yaml.load(interpolate(text, os.environ if environ is None else environ), Loader=_Loader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConversionError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ConversionError(f"{path}: a compose file needs a `services:` mapping")
    return data


def _value(key: str, spec: Mapping[str, Any], base: str, files: Mapping[str, bytes],
           environ: Mapping[str, str]) -> bytes:
    if spec.get("file"):
        path = posixpath.normpath(posixpath.join(base, spec["file"]))
        if path not in files:
            raise ReferenceError_(f"file {spec['file']} (repository path {path}) is not in the repository")
        return bytes(files[path])
    if spec.get("environment"):
        if spec["environment"] not in environ:
            raise ReferenceError_(unset_variable(spec["environment"]))
        return environ[spec["environment"]].encode()
    if spec.get("content") is not None:
        return str(spec["content"]).encode()
    raise ReferenceError_("needs file, environment, content or external")


def convert_compose(stack: str, path: str, files: Mapping[str, bytes],
                    environ: Mapping[str, str] | None = None) -> Converted:
    environ = os.environ if environ is None else environ
    out = Converted()
    try:
        text = bytes(files[path]).decode()
    except KeyError as exc:
        outside = "outside the repository" in str(exc.args[0] if exc.args else "")
        out.errors[f"compose/{path}"] = (f"compose: {path} is outside this source's root: a source reads only the "
                                         "files of its own repository or folder" if outside
                                         else f"compose: {path} is not in the repository")
        return out
    try:
        data = load_compose(text, path, environ)
    except ConversionError as exc:
        out.errors[f"compose/{path}"] = f"compose: {exc}"
        return out
    base = posixpath.dirname(path)
    ns_label = {NAMESPACE_LABEL: stack}
    ctx = Context(namespace=stack, default_networks=("default",), aliases=True)

    declared_nets = dict(data.get("networks") or {})
    declared_nets.setdefault("default", None)
    nets: dict[str, str] = {}
    for key, spec in declared_nets.items():
        spec = spec or {}
        if spec.get("external"):
            nets[key] = spec.get("name") or key
            continue
        nets[key] = spec.get("name") or f"{stack}_{key}"
        if key == "default" and not any(s and s.get("networks") is None for s in data["services"].values()) \
                and not any("default" in (s or {}).get("networks", []) for s in data["services"].values()):
            continue
        out.networks[nets[key]] = {
            "Driver": spec.get("driver") or "overlay", "Attachable": bool(spec.get("attachable")),
            "Internal": bool(spec.get("internal")),
            "Labels": {**as_map(spec.get("labels"), "labels"), **ns_label},
            "Options": dict(spec.get("driver_opts") or {})}
    ctx.networks = nets

    for kind, target in (("secrets", out.secrets), ("configs", out.configs)):
        names: dict[str, str | None] = {}
        for key, spec in (data.get(kind) or {}).items():
            spec = spec or {}
            if spec.get("external"):
                names[key] = spec.get("name") or key
                continue
            try:
                value = _value(key, spec, base, files, environ)
            except ReferenceError_ as exc:
                out.errors[f"{kind[:-1]}/{stack}_{key}"] = f"{kind}.{key}: {exc}"
                names[key] = None
                continue
            names[key] = versioned_name(spec.get("name") or f"{stack}_{key}", value)
            labels = {**as_map(spec.get("labels"), "labels"), **ns_label, "jarvis.object": f"{stack}_{key}"}
            target[names[key]] = (labels, value)
        setattr(ctx, kind, names)
    ctx.volumes = {k: (v or {}).get("name") or k for k, v in (data.get("volumes") or {}).items()
                   if (v or {}).get("external") or (v or {}).get("name")}

    for name, svc in data["services"].items():
        try:
            spec = convert_service(name, svc or {}, ctx)
        except ConversionError as exc:
            out.errors[f"service/{stack}_{name}"] = f"service {stack}_{name}: {exc}"
            continue
        out.services[spec.pop("Name")] = spec
    return out
