"""Checks requests the emulator receives against Cloudflare's published OpenAPI schema.

The schema is `/work/shared/specs/cloudflare-dns.json` (a subset of cloudflare/api-schemas),
found through `$JARVIS_CLOUDFLARE_SPEC` or the shared specs folder next to the repository. Two
upstream quirks are corrected, both because the record schema is shared between requests and
responses:

- `dns-records_dns-record` lists `id`, `proxiable`, `created_on`, `modified_on` and `content` as
  required. `id` is the path parameter, the others are `readOnly` (OpenAPI 3.0: required only in
  responses), and each record type's own subschema already requires `content` where it applies
  (SRV and CAA carry `data` and a read-only `content`). The request view drops them.
- DELETE declares a required JSON body with no schema; Cloudflare's own SDKs send none, so a
  missing body is accepted.

Endpoints absent from the subset follow Cloudflare's API reference (developers.cloudflare.com):
`POST /zones/{id}/dns_records/batch` (deletes [{id}], patches [{id,..}], puts [{id,..}], posts
[..], run in that order), `POST /zones/{id}/purge_cache` ({purge_everything: true} or
{files: [url]}) and `GET /user/tokens/verify` (no parameters). Their schemas are written below.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from ..openapi import coerce, deref, validate

_CANDIDATES = [
    os.environ.get("JARVIS_CLOUDFLARE_SPEC", ""),
    str(Path(__file__).resolve().parents[4] / "shared" / "specs" / "cloudflare-dns.json"),
    "/work/shared/specs/cloudflare-dns.json",
]
_RESPONSE_ONLY = {"id", "proxiable", "created_on", "modified_on", "content", "meta", "zone_id", "zone_name"}


def spec_path() -> Path | None:
    for c in _CANDIDATES:
        if c and Path(c).is_file():
            return Path(c)
    return None


def _request_view(schema: Any, top: bool = True) -> Any:
    """Drop read-only properties from `required` lists (and the response-only top-level ones)."""
    if isinstance(schema, list):
        return [_request_view(s, False) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _request_view(v, False) for k, v in schema.items()}
    if isinstance(out.get("required"), list):
        props = out.get("properties") or {}
        out["required"] = [r for r in out["required"]
                           if not (isinstance(props.get(r), dict) and props[r].get("readOnly"))
                           and not (top and r in _RESPONSE_ONLY)]
    return out


class SpecChecker:
    """Validates one request at a time; returns a list of violations in words (empty: valid)."""

    def __init__(self, path: Path | None = None):
        self.path = path or spec_path()
        self.loaded = self.path is not None
        self.doc: dict[str, Any] = json.loads(self.path.read_text()) if self.path else {"paths": {}}
        record = self._schema("dns-records_dns-record")
        self.record = _request_view(record) if record else {}
        patch = copy.deepcopy(self.record)
        _strip_required(patch)
        ids = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "maxLength": 32}}}
        self.batch = {
            "type": "object", "additionalProperties": False,
            "properties": {
                "deletes": {"type": "array", "items": ids},
                "patches": {"type": "array", "items": {"allOf": [ids, patch]}},
                "puts": {"type": "array", "items": {"allOf": [ids, self.record]}},
                "posts": {"type": "array", "items": self.record},
            },
        }
        self.purge = {"oneOf": [
            {"type": "object", "required": ["purge_everything"], "additionalProperties": False,
             "properties": {"purge_everything": {"const": True}}},
            {"type": "object", "required": ["files"], "additionalProperties": False,
             "properties": {"files": {"type": "array", "minItems": 1, "maxItems": 30,
                                      "items": {"type": "string"}}}},
        ]}

    def _schema(self, name: str) -> dict[str, Any] | None:
        schemas = self.doc.get("components", {}).get("schemas", {})
        return deref(schemas[name], self.doc) if name in schemas else None

    def _params(self, path: str, method: str) -> dict[str, dict[str, Any]]:
        op = self.doc.get("paths", {}).get(path, {}).get(method, {})
        return {p["name"]: deref(p.get("schema", {}), self.doc)
                for p in op.get("parameters", []) if p.get("in") == "query"}

    def check(self, template: str, method: str, query: dict[str, list[str]], body: Any) -> list[str]:
        """`template` is the OpenAPI path (`/zones/{zone_id}/dns_records`), `method` lower case."""
        if not self.loaded:
            return []
        where = f"{method.upper()} {template}"
        errors: list[str] = []
        if template in self.doc["paths"]:
            allowed = self._params(template, method)
            for name, values in query.items():
                if name not in allowed:
                    errors.append(f"{where}: query parameter {name!r} is not in the spec")
                    continue
                for value in values:
                    errors += validate(coerce(value, allowed[name]), allowed[name], f"{where} ?{name}")
        elif query:
            errors.append(f"{where}: takes no query parameters, got {sorted(query)}")
        schema = None
        if template in ("/zones/{zone_id}/dns_records", "/zones/{zone_id}/dns_records/{dns_record_id}") \
                and method in ("post", "put", "patch"):
            schema = self.record
        elif template == "/zones/{zone_id}/dns_records/batch":
            schema = self.batch
        elif template == "/zones/{zone_id}/purge_cache":
            schema = self.purge
        if schema is not None:
            if body is None:
                errors.append(f"{where}: a JSON body is required")
            else:
                errors += validate(body, schema, f"{where} body")
        return errors


def _strip_required(schema: Any) -> None:
    if isinstance(schema, dict):
        schema.pop("required", None)
        for v in schema.values():
            _strip_required(v)
    elif isinstance(schema, list):
        for v in schema:
            _strip_required(v)
