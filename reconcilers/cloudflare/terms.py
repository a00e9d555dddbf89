"""A normalised record said back in orch.yaml terms: `dns.records[www CNAME].content: lb.example.com`.

The record's name is written as the manifest writes it (relative to the zone, `@` for the apex) and
the automatic TTL as `auto`. The `terms` hook of the Cloudflare reconciler; pure.
"""

from __future__ import annotations

from typing import Any

from controller.plans import Resource, Term

from .normalise import AUTO_TTL


def relative(name: str, zone: str) -> str:
    if name == zone:
        return "@"
    return name[: -len(zone) - 1] if name.endswith("." + zone) else name


def record_prefix(spec: dict[str, Any]) -> str:
    return f"dns.records[{relative(str(spec.get('name', '')), str(spec.get('zone', '')))} {spec.get('type', '')}]"


def record_terms(resource: Resource) -> list[Term]:
    spec = dict(resource.spec)
    prefix = record_prefix(spec)
    out: list[Term] = []
    for key, value in spec.items():
        if key == "zone":
            out.append(Term("dns.zone", "zone", value, value))
        elif key == "name":
            out.append(Term(f"{prefix}.name", "name", value, relative(str(value), str(spec.get("zone", "")))))
        elif key == "ttl":
            out.append(Term(f"{prefix}.ttl", "ttl", value, "auto" if value == AUTO_TTL else value))
        elif key == "data" and isinstance(value, dict):
            out += [Term(f"{prefix}.data.{k}", f"data.{k}", v, v) for k, v in value.items()]
        else:
            out.append(Term(f"{prefix}.{key}", key, value, value))
    return out
