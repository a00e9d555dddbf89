"""Checks the Portainer emulator's traffic against Portainer CE's published Swagger 2.0 document.

`../shared/specs/portainer-swagger.yaml` describes the legacy create route (`POST /stacks?type=1&
method=string`); current Portainer serves the same payload at `POST /stacks/create/swarm/string`, so
that route is checked against the legacy operation's `body_swarm_string` schema. Upstream's document
has schema errors of its own (`type: Edge`), so only the operations the emulator serves are read.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.emulators.openapi import deref, spec_path, validate

SPEC_FILE = "portainer-swagger.yaml"
# emulator route → (swagger path, method, body parameter name)
ALIASES = {("/stacks/create/swarm/string", "post"): ("/stacks", "post", "body_swarm_string")}


class SpecChecker:
    def __init__(self) -> None:
        path = spec_path(SPEC_FILE)
        self.loaded = path is not None
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text()) if path else {"paths": {}}
        self._cache: dict[tuple[str, ...], Any] = {}

    def _schema(self, key: tuple[str, ...], node: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = deref(node, self.doc)
        return self._cache[key]

    def _operation(self, template: str, method: str) -> tuple[str, str, dict[str, Any] | None, str | None]:
        path, meth, body_name = ALIASES.get((template, method), (template, method, None))
        return path, meth, self.doc.get("paths", {}).get(path, {}).get(meth), body_name

    def check_request(self, template: str, method: str, query: dict[str, list[str]], body: Any) -> list[str]:
        if not self.loaded:
            return []
        where = f"{method.upper()} {template}"
        path, meth, op, body_name = self._operation(template, method)
        if op is None:
            return [f"{where}: not an operation of {SPEC_FILE}"]
        errors: list[str] = []
        params = op.get("parameters", [])
        query_names = {p["name"] for p in params if p.get("in") == "query"}
        if (template, method) in ALIASES:
            query_names = {"endpointId"}          # type and method are in the current route's path
        for name in query:
            if name not in query_names:
                errors.append(f"{where}: query parameter {name!r} is not in the spec")
        bodies = [p for p in params if p.get("in") == "body" and (body_name is None or p["name"] == body_name)]
        if bodies and body is not None:
            errors += validate(body, self._schema((path, meth, "body", bodies[0]["name"]), bodies[0]["schema"]),
                               f"{where} body")
        elif bodies and body is None and bodies[0].get("required"):
            errors.append(f"{where}: a JSON body is required")
        elif not bodies and body is not None:
            errors.append(f"{where}: takes no body")
        return errors

    def check_response(self, template: str, method: str, status: int, body: Any) -> list[str]:
        path, meth, op, _ = self._operation(template, method)
        if op is None or status >= 400:
            return []
        declared = op.get("responses", {}).get(str(status))
        if declared is None:
            return [f"{method.upper()} {template}: status {status} is not declared"]
        if "schema" not in declared or body is None or path == "/stacks" and meth == "post":
            return []     # the create route's declared answer (a CustomTemplate) is an upstream mistake
        return validate(body, self._schema((path, meth, "r", str(status)), declared["schema"]),
                        f"{method.upper()} {template} → {status}")
