"""orch.yaml (`services`, `compose`, `networks`, `secrets`, `configs`) → normalised Resources.

Every object carries the ownership labels; a problem with one object (an unresolvable secret,
a field that cannot be converted) becomes an error naming it, and the rest still converge.
Objects that failed are "held": the diff neither updates nor prunes their live counterpart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from controller.contract import DesiredState, Scope
from controller.plans import Resource
from reconcilers.base import MANIFEST_LABEL, OWNER_LABEL, SOURCE_LABEL
from reconcilers.swarm.compose import Converted, convert_compose
from reconcilers.swarm.convert import Context, ConversionError, convert_service
from reconcilers.swarm.manifest_services import to_compose
from reconcilers.swarm.normalize import normalize_network, normalize_service
from reconcilers.swarm.refs import ConnectionResolver, ReferenceError_, resolve, versioned_name

# Short names users write in `ignore:` → paths in the ServiceSpec.
FIELD_ALIASES = {
    "replicas": "Mode.Replicated.Replicas", "image": "TaskTemplate.ContainerSpec.Image",
    "env": "TaskTemplate.ContainerSpec.Env", "labels": "Labels", "ports": "EndpointSpec.Ports",
    "resources": "TaskTemplate.Resources", "placement": "TaskTemplate.Placement",
}
SECRET_REF_LABEL = "jarvis.ref"
OBJECT_LABEL = "jarvis.object"       # logical name of a versioned secret/config


def owner_labels(scope: Scope) -> dict[str, str]:
    return {OWNER_LABEL: "true", SOURCE_LABEL: scope.source, MANIFEST_LABEL: scope.manifest}


def _as_dict(manifest: Any) -> dict[str, Any]:
    if isinstance(manifest, Mapping):
        return dict(manifest)
    return manifest.model_dump(mode="json", exclude_none=True)


def _ref_of(spec: Any, kind: str) -> tuple[str | None, str | None]:
    """(reference, inline content) of a declared secret/config, tolerant of short forms."""
    if isinstance(spec, str):
        return (spec, None) if ":" in spec else (f"file:{spec}", None)
    spec = spec or {}
    if spec.get("from"):
        return spec["from"], None
    if spec.get("file"):
        return f"file:{spec['file']}", None
    if spec.get("env"):
        return f"env:{spec['env']}", None
    if "content" in spec:
        return None, str(spec["content"])
    return None, None


def convert_manifest_sections(m: Mapping[str, Any], files: Mapping[str, bytes],
                              resolver: ConnectionResolver | None,
                              environ: Mapping[str, str]) -> Converted:
    out = Converted()
    ctx = Context(namespace=None, aliases=False)
    nets: dict[str, str] = {}
    for key, spec in (m.get("networks") or {}).items():
        spec = spec or {}
        nets[key] = spec.get("name") or key
        if not spec.get("external"):
            out.networks[nets[key]] = {
                "Driver": spec.get("driver") or "overlay", "Attachable": bool(spec.get("attachable")),
                "Internal": bool(spec.get("internal")), "Labels": dict(spec.get("labels") or {}),
                "Options": dict(spec.get("driver_opts") or spec.get("options") or {})}
    # A network a service names without declaring it is used as an existing (external) one.
    for svc in (m.get("services") or {}).values():
        for n in (svc.get("networks") or []) if isinstance(svc, Mapping) else []:
            nets.setdefault(n if isinstance(n, str) else n.get("name"), n if isinstance(n, str) else n.get("name"))
    ctx.networks = nets
    for kind, target in (("secrets", out.secrets), ("configs", out.configs)):
        names: dict[str, str | None] = {}
        for key, spec in (m.get(kind) or {}).items():
            if isinstance(spec, Mapping) and spec.get("external"):
                names[key] = spec.get("name") or key
                continue
            ref, content = _ref_of(spec, kind)
            try:
                if content is not None:
                    value = content.encode()
                elif ref is None:
                    raise ReferenceError_("needs from, file or content")
                else:
                    value = resolve(ref, files, resolver, environ)
            except ReferenceError_ as exc:
                out.errors[f"{kind[:-1]}/{key}"] = f"{kind}.{key}: {exc}"
                names[key] = None
                continue
            names[key] = versioned_name(key, value)
            labels = {OBJECT_LABEL: key, **({SECRET_REF_LABEL: ref} if ref else {})}
            target[names[key]] = (labels, value)
        setattr(ctx, kind, names)
    for name, svc in (m.get("services") or {}).items():
        try:
            spec = convert_service(name, to_compose(name, svc), ctx)
        except ConversionError as exc:
            out.errors[f"service/{name}"] = f"service {name}: {exc}"
            continue
        out.services[spec.pop("Name")] = spec
    return out


def build_desired(manifest: Any, scope: Scope, files: Mapping[str, bytes],
                  resolver: ConnectionResolver | None = None,
                  environ: Mapping[str, str] | None = None) -> tuple[DesiredState, dict[str, bytes]]:
    """The desired state and the secret/config values by object name (kept out of the specs)."""
    environ = os.environ if environ is None else environ
    m = _as_dict(manifest)
    parts = [convert_manifest_sections(m, files, resolver, environ)]
    compose = m.get("compose") or []
    for path in [compose] if isinstance(compose, str) else compose:
        parts.append(convert_compose(m.get("name") or scope.manifest, path, files, environ))

    ignores: dict[str, tuple[str, ...]] = {}
    for item in m.get("ignore") or []:
        fields = tuple(FIELD_ALIASES.get(f, f) for f in item.get("fields") or [])
        ignores[item["resource"]] = ignores.get(item["resource"], ()) + fields
    protected = set(m.get("protected") or [])
    for name, svc in (m.get("services") or {}).items():
        if isinstance(svc, Mapping) and svc.get("protected"):
            protected.add(f"service/{name}")

    own = owner_labels(scope)
    resources: list[Resource] = []
    values: dict[str, bytes] = {}
    errors: list[str] = []
    held: list[str] = []
    for part in parts:
        errors.extend(part.errors.values())
        held.extend(part.errors)
        for name, net in part.networks.items():
            net = {**net, "Labels": {**net["Labels"], **own}}
            resources.append(Resource("network", name, normalize_network(net),
                                      protected=f"network/{name}" in protected))
        for kind, objs in (("secret", part.secrets), ("config", part.configs)):
            for name, (labels, value) in objs.items():
                values[name] = value
                resources.append(Resource(kind, name, {"Labels": {**labels, **own}}))
        for name, spec in part.services.items():
            spec["Labels"] = {**spec["Labels"], **own}
            key = f"service/{name}"
            resources.append(Resource("service", name, normalize_service(spec),
                                      protected=key in protected, ignore=ignores.get(key, ())))
    seen: set[str] = set()
    unique = []
    for r in resources:
        if r.key in seen:
            errors.append(f"{r.key}: declared twice (in services: and a compose file, or two compose files)")
            continue
        seen.add(r.key)
        unique.append(r)
    state = DesiredState(resources=tuple(unique), errors=tuple(errors),
                         options={"held": sorted(set(held)), "manifest": m.get("name") or scope.manifest})
    return state, values
