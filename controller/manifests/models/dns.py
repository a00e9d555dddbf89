"""`dns:` — Cloudflare zones and their records (one zone, or a list of zones)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .common import Strict, describe

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9_*](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                       r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")
RecordType = Literal["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"]
_PROXIABLE = {"A", "AAAA", "CNAME"}


def _parse_ttl(value: Any) -> Any:
    if value == "auto" or value == 1 and not isinstance(value, bool):
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= 86400:
        return value
    raise ValueError(f"ttl must be 'auto' or seconds between 60 and 86400, got {describe(value)}")


Ttl = Annotated[Literal["auto"] | int, BeforeValidator(_parse_ttl, json_schema_input_type=Literal["auto"] | int)]


class RecordData(Strict):
    """Structured data: SRV uses priority/weight/port/target, CAA uses flags/tag/value."""

    priority: int | None = Field(None, ge=0, le=65535)
    weight: int | None = Field(None, ge=0, le=65535)
    port: int | None = Field(None, ge=0, le=65535)
    target: str | None = None
    flags: int | None = Field(None, ge=0, le=255)
    tag: Literal["issue", "issuewild", "iodef"] | None = None
    value: str | None = None


class Record(Strict):
    name: str = Field(min_length=1, description='"@", relative to the zone, or fully qualified inside it.')
    type: RecordType
    content: str | None = None
    proxied: bool = False
    ttl: Ttl = "auto"
    priority: int | None = Field(None, ge=0, le=65535)
    data: RecordData | None = None
    comment: str | None = None
    adopt: bool = False
    protected: bool = False

    @model_validator(mode="after")
    def _check(self) -> Record:
        if self.content is None and not (self.type in ("SRV", "CAA") and self.data is not None):
            raise ValueError(f"a {self.type} record needs `content`")
        if self.proxied and self.type not in _PROXIABLE:
            raise ValueError(f"only A, AAAA and CNAME records can be proxied, not {self.type}")
        if self.proxied and self.ttl != "auto":
            raise ValueError("a proxied record's ttl is always 'auto' (Cloudflare sets it)")
        if self.type == "MX" and self.priority is None:
            raise ValueError("an MX record needs a `priority`")
        if self.type == "A" and not _is_ip(self.content, 4):
            raise ValueError(f"an A record's content must be an IPv4 address, got {self.content!r}")
        if self.type == "AAAA" and not _is_ip(self.content, 6):
            raise ValueError(f"an AAAA record's content must be an IPv6 address, got {self.content!r}")
        if self.type in ("CNAME", "MX", "NS") and not _HOSTNAME.match(self.content or ""):
            raise ValueError(f"a {self.type} record's content must be a host name, got {self.content!r}")
        return self


def _is_ip(value: str | None, version: int) -> bool:
    try:
        return ipaddress.ip_address(value or "").version == version
    except ValueError:
        return False


def fqdn(name: str, zone: str) -> str:
    """A record name as a fully qualified name without the trailing dot ("@" is the apex)."""
    zone = zone.rstrip(".").lower()
    name = name.lower()
    if name == "@":
        return zone
    if name.endswith("."):
        return name[:-1]
    if name == zone or name.endswith("." + zone):
        return name
    return f"{name}.{zone}"


class Zone(Strict):
    zone: str = Field(min_length=1)
    records: list[Record] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Zone:
        if not _HOSTNAME.match(self.zone) or "." not in self.zone.rstrip("."):
            raise ValueError(f"zone must be a domain name like 'example.com', got {self.zone!r}")
        return self  # records outside the zone are reported by checks.py, at the record


def _zone_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


ZoneList = Annotated[list[Zone], BeforeValidator(_zone_list, json_schema_input_type=Zone | list[Zone])]
