"""Both sides of a Cloudflare diff in one canonical form, so a zone nobody changed shows no drift.

A manifest record and a record read from the API are each turned into the same `spec` shape:

    {zone, name (FQDN, lower case, no trailing dot), type, content | data, proxied, ttl,
     priority (MX), comment (the user's part, without Jarvis's ownership marker)}

Everything here is pure. Bad manifest input raises `RecordError` with a message naming the
record, which the reconciler turns into a per-record error while the rest of the zone goes on.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS")
PROXIABLE = ("A", "AAAA", "CNAME")
AUTO_TTL = 1
TTL_MIN, TTL_MAX = 60, 86400
TXT_CHUNK = 255  # one DNS character-string holds at most 255 bytes
MARKER_PREFIX = "jarvis:"
_MARKER_RE = re.compile(r"(?:^|\s)jarvis:(\S+)$")


class RecordError(ValueError):
    """A manifest record Jarvis cannot plan; the message says what and where."""


def owner_marker(source: str, manifest: str) -> str:
    """The token appended to a record's comment to say which manifest owns it."""
    return f"{MARKER_PREFIX}{source}/{manifest}"


def split_comment(comment: str | None) -> tuple[str, str | None]:
    """(user comment, owner) from a live comment; owner is `source/manifest` or None."""
    text = (comment or "").strip()
    m = _MARKER_RE.search(text)
    if not m:
        return text, None
    return text[: m.start()].strip(), m.group(1)


def join_comment(user: str, marker: str) -> str:
    return f"{user} {marker}".strip() if user else marker


def zone_name(zone: str) -> str:
    return zone.strip().rstrip(".").lower()


def fqdn(name: str, zone: str) -> str:
    """`@`, relative or fully qualified → FQDN without a trailing dot, lower case.

    A trailing dot or a name ending in the zone is absolute; anything else is relative to the
    zone (so `_sip._tcp` works). An absolute name outside the zone is an error.
    """
    zone = zone_name(zone)
    raw = (name or "").strip()
    if raw in ("", "@"):
        return zone
    absolute = raw.endswith(".")
    low = raw.rstrip(".").lower()
    if low == zone or low.endswith("." + zone):
        return low
    if absolute:
        raise RecordError(f"name {name!r} is outside the zone {zone}")
    return f"{low}.{zone}"


def hostname(value: Any, what: str) -> str:
    text = str(value or "").strip().rstrip(".").lower()
    if not text:
        raise RecordError(f"{what} is empty")
    return text


def txt_value(content: str) -> str:
    """The text a TXT record carries: quoted character-strings are unquoted and joined."""
    text = str(content).strip()
    if not (text.startswith('"') and text.endswith('"') and len(text) >= 2):
        return text
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    if not parts:
        return text
    return "".join(p.replace('\\"', '"').replace("\\\\", "\\") for p in parts)


def txt_wire(value: str) -> str:
    """What Jarvis sends: plain text when it fits one string, quoted 255-char chunks when not."""
    if len(value.encode()) <= TXT_CHUNK:
        return value
    chunks = [value[i:i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _ttl(value: Any, proxied: bool) -> int:
    if proxied:
        return AUTO_TTL  # Cloudflare always serves proxied records with automatic TTL
    if value is None or value == "auto" or value == AUTO_TTL:
        return AUTO_TTL
    try:
        ttl = int(value)
    except (TypeError, ValueError):
        raise RecordError(f"ttl {value!r} is not 'auto' or a number of seconds") from None
    if not TTL_MIN <= ttl <= TTL_MAX:
        raise RecordError(f"ttl {ttl} is out of range ({TTL_MIN}..{TTL_MAX}, or 'auto')")
    return ttl


def _int(value: Any, what: str, lo: int = 0, hi: int = 65535) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise RecordError(f"{what} {value!r} is not a number") from None
    if not lo <= n <= hi:
        raise RecordError(f"{what} {n} is out of range ({lo}..{hi})")
    return n


def _content(rtype: str, rec: Mapping[str, Any], zone: str) -> dict[str, Any]:
    """The type-specific part of a spec: content, or data for SRV/CAA, plus MX priority."""
    content = rec.get("content")
    data = dict(rec.get("data") or {})
    if rtype in ("A", "AAAA"):
        try:
            ip = ipaddress.ip_address(str(content or "").strip())
        except ValueError:
            raise RecordError(f"content {content!r} is not a valid IP address") from None
        if (rtype == "A") != (ip.version == 4):
            raise RecordError(f"content {content!r} is not an IPv{4 if rtype == 'A' else 6} address")
        return {"content": ip.compressed}
    if rtype in ("CNAME", "NS"):
        return {"content": hostname(content, "content")}
    if rtype == "TXT":
        if content is None:
            raise RecordError("content is empty")
        return {"content": txt_value(str(content))}
    if rtype == "MX":
        priority = rec.get("priority", data.get("priority"))
        if priority is None:
            raise RecordError("MX needs a priority")
        return {"content": hostname(content or data.get("target"), "content"),
                "priority": _int(priority, "priority")}
    if rtype == "SRV":
        priority = rec.get("priority", data.get("priority"))
        target = data.get("target") or content
        if priority is None or data.get("weight") is None or data.get("port") is None:
            raise RecordError("SRV needs priority, data.weight and data.port")
        return {"data": {"priority": _int(priority, "priority"), "weight": _int(data["weight"], "weight"),
                         "port": _int(data["port"], "port"), "target": hostname(target, "target")}}
    if rtype == "CAA":
        value = data.get("value", content)
        tag = data.get("tag")
        if value is None or not tag:
            raise RecordError("CAA needs data.tag and a value (content or data.value)")
        return {"data": {"flags": _int(data.get("flags", 0), "flags", 0, 255), "tag": str(tag).lower(),
                         "value": txt_value(str(value))}}
    raise RecordError(f"type {rtype!r} is not supported (one of {', '.join(SUPPORTED_TYPES)})")


def desired_spec(rec: Mapping[str, Any], zone: str) -> dict[str, Any]:
    """A manifest record (the dumped `dns[].records[]` item) → canonical spec."""
    zone = zone_name(zone)
    rtype = str(rec.get("type") or "").upper()
    if rtype not in SUPPORTED_TYPES:
        raise RecordError(f"type {rec.get('type')!r} is not supported (one of {', '.join(SUPPORTED_TYPES)})")
    name = fqdn(str(rec.get("name", "@")), zone)
    if rtype == "NS" and name == zone:
        raise RecordError("NS records at the zone apex are Cloudflare's and are never managed")
    proxied = bool(rec.get("proxied", False))
    if proxied and rtype not in PROXIABLE:
        raise RecordError(f"{rtype} records cannot be proxied")
    spec: dict[str, Any] = {"zone": zone, "name": name, "type": rtype}
    spec.update(_content(rtype, rec, zone))
    spec["proxied"] = proxied
    spec["ttl"] = _ttl(rec.get("ttl", "auto"), proxied)
    spec["comment"] = str(rec.get("comment") or "").strip()
    return spec


def live_spec(rec: Mapping[str, Any], zone: str) -> dict[str, Any]:
    """A record as the API returns it → canonical spec (same shape as `desired_spec`)."""
    zone = zone_name(zone)
    rtype = str(rec["type"]).upper()
    spec: dict[str, Any] = {"zone": zone, "name": str(rec["name"]).rstrip(".").lower(), "type": rtype}
    try:
        spec.update(_content(rtype, rec, zone))
    except RecordError:
        # a live record we cannot parse is still compared, verbatim, so it shows as drift
        spec["content"] = rec.get("content")
    proxied = bool(rec.get("proxied", False))
    spec["proxied"] = proxied
    spec["ttl"] = AUTO_TTL if proxied else int(rec.get("ttl") or AUTO_TTL)
    spec["comment"] = split_comment(rec.get("comment"))[0]
    return spec


def api_body(spec: Mapping[str, Any], marker: str) -> dict[str, Any]:
    """Canonical spec → the JSON body Cloudflare expects for create/overwrite."""
    rtype = spec["type"]
    body: dict[str, Any] = {"type": rtype, "name": spec["name"], "ttl": spec["ttl"]}
    if rtype in PROXIABLE:
        body["proxied"] = spec["proxied"]
    if rtype == "TXT":
        body["content"] = txt_wire(spec["content"])
    elif "content" in spec:
        body["content"] = spec["content"]
    if rtype == "MX":
        body["priority"] = spec["priority"]
    if rtype == "SRV":
        body["data"] = dict(spec["data"])
    if rtype == "CAA":
        body["data"] = dict(spec["data"])
    body["comment"] = join_comment(spec.get("comment", ""), marker)
    return body


def identity(spec: Mapping[str, Any]) -> str:
    """What tells two records of one name and type apart (their value)."""
    if "data" in spec:
        d = spec["data"]
        return " ".join(str(d[k]) for k in sorted(d))
    if spec["type"] == "MX":
        return f"{spec['priority']} {spec['content']}"
    return str(spec.get("content"))
