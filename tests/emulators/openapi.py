"""Checks an emulator's traffic against a vendor's published OpenAPI 3 document.

Every emulator under `tests/emulators/` validates what it receives (so a production client that
sends something the vendor would refuse fails its test) and, where the document describes the
answer, what it sends back (so the emulator cannot drift from the vendor's shapes). The specs
live in `../shared/specs/` next to the repository, or where `$JARVIS_SPECS` points.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema


def spec_path(filename: str) -> Path | None:
    """The shared specification `filename`, or None when this checkout has no specs beside it."""
    candidates = [Path(os.environ["JARVIS_SPECS"]) / filename] if os.environ.get("JARVIS_SPECS") else []
    candidates += [Path(__file__).resolve().parents[3] / "shared" / "specs" / filename,
                   Path("/work/shared/specs") / filename]
    return next((c for c in candidates if c.is_file()), None)


def deref(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by its target (a cycle becomes an empty schema)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                return {}
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            return deref(target, root, (*seen, ref))
        return {k: deref(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(v, root, seen) for v in node]
    return node


def coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query-string value as the type its schema declares (left as text when it is not one)."""
    kind = schema.get("type")
    try:
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "integer":
            return int(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


_VALIDATORS: dict[int, tuple[Any, jsonschema.Draft7Validator]] = {}


def validate(instance: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Violations of `schema` by `instance`, in words prefixed with `where` (empty: valid)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:   # keep the schema alive with its validator
        cached = (schema, jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = cached
    return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
            for e in cached[1].iter_errors(instance)]


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [T, "null"]`, or null admitted)."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items()}
    if out.pop("nullable", False):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class OpenAPIChecker:
    """Validates requests and responses of the operations an OpenAPI document declares."""

    def __init__(self, path: Path | None):
        self.path = path
        self.loaded = path is not None
        self.doc: dict[str, Any] = json.loads(path.read_text()) if path else {"paths": {}}
        self._cache: dict[tuple[str, ...], Any] = {}

    def _operation(self, template: str, method: str) -> dict[str, Any] | None:
        return self.doc.get("paths", {}).get(template, {}).get(method)

    def _schema(self, key: tuple[str, ...], node: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = _nullable(deref(node, self.doc))
        return self._cache[key]

    def check_request(self, template: str, method: str, query: dict[str, list[str]], body: Any) -> list[str]:
        """`template` is the document's path (`/servers/{id}`), `method` lower case."""
        if not self.loaded:
            return []
        where = f"{method.upper()} {template}"
        op = self._operation(template, method)
        if op is None:
            return [f"{where}: not an operation of {self.path.name}"]
        errors: list[str] = []
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        for name, values in query.items():
            if name not in params:
                errors.append(f"{where}: query parameter {name!r} is not in the spec")
                continue
            schema = self._schema((template, method, "q", name), params[name].get("schema", {}))
            for value in values:
                errors += validate(coerce(value, schema), schema, f"{where} ?{name}")
        content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
        if content is not None:
            if body is None:
                if (op.get("requestBody") or {}).get("required"):
                    errors.append(f"{where}: a JSON body is required")
            else:
                errors += validate(body, self._schema((template, method, "body"), content.get("schema", {})),
                                   f"{where} body")
        elif body is not None:
            errors.append(f"{where}: takes no body")
        return errors

    def check_response(self, template: str, method: str, status: int, body: Any) -> list[str]:
        """The answer the emulator is about to send, against the status's declared schema."""
        op = self._operation(template, method) if self.loaded else None
        if op is None:
            return []
        responses = op.get("responses", {})
        declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if declared is None:
            return [f"{method.upper()} {template}: status {status} is not declared"]
        content = declared.get("content", {}).get("application/json")
        if content is None or body is None:
            return []
        schema = self._schema((template, method, "r", str(status)), content.get("schema", {}))
        return validate(body, schema, f"{method.upper()} {template} → {status}")
