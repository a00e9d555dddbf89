"""The runbook catalog: folders holding `runbook.yaml` plus a playbook, validated at load.

A runbook folder:

    name: backup-postgres          # [a-z0-9-]+, unique in the catalog
    title / category / description
    role: operator                 # minimum role to run it: viewer | operator | admin
    timeout: 600                   # seconds
    retry: {max_attempts: 1, on: [interrupted]}
    concurrency_key: "pg:{{ input.host }}"   # sandboxed Jinja2 over {input, connection}
    connection_type: ssh           # optional: input carries `connection`, a connection name
    connections: {repository: backup-repository}   # optional: further named connections, by input key
    playbook: playbook.yml         # next to runbook.yaml
    input: {type: object, ...}     # JSON Schema (draft 2020-12)

Secret inputs are properties with `format: password` or `writeOnly: true`. They never go
into extravars: `public_input()` leaves them out and `secret_env()` hands them to the
playbook as environment variables (`x-env: PGPASSWORD` on the property names the variable,
otherwise `JARVIS_INPUT_<NAME>`), which the job runner masks in all output.

An invalid runbook is reported in `Catalog.errors` with its path and left out; the others load.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2.sandbox import SandboxedEnvironment
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RUNBOOK_FILE = "runbook.yaml"
_jinja = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


class Retry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(1, ge=1, le=20, description="Total attempts, the first included.")
    on: list[Literal["interrupted", "error", "timeout"]] = Field(default_factory=lambda: ["interrupted"])

    @model_validator(mode="before")
    @classmethod
    def _yaml_on_key(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare `on:` key as the boolean true
        if isinstance(data, dict) and True in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    category: str = "general"
    description: str = ""
    role: Literal["viewer", "operator", "admin"] = "operator"
    timeout: int = Field(600, gt=0)
    retry: Retry = Field(default_factory=Retry)
    concurrency_key: str = ""
    connection_type: str | None = None
    # further connections a step needs besides `connection` (a backup's repository): input key -> type;
    # each reaches the playbook as `jarvis_connections[<key>]` in the one step shape
    connections: dict[str, str] = Field(default_factory=dict)
    playbook: str
    input: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    folder: Path
    source: str = "builtin"

    @field_validator("input")
    @classmethod
    def _schema_is_valid(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise ValueError(f"input is not a valid JSON Schema at {where}: {exc.message}") from None
        if schema.get("type", "object") != "object":
            raise ValueError("input schema must have type: object")
        return schema

    @field_validator("concurrency_key")
    @classmethod
    def _template_parses(cls, template: str) -> str:
        try:
            _jinja.parse(template)
        except Exception as exc:  # jinja2.TemplateSyntaxError and friends
            raise ValueError(f"concurrency_key is not a valid template: {exc}") from None
        return template

    @property
    def playbook_path(self) -> Path:
        return self.folder / self.playbook

    def _properties(self) -> Mapping[str, Any]:
        return self.input.get("properties") or {}

    def secret_names(self) -> list[str]:
        return [name for name, prop in self._properties().items()
                if isinstance(prop, dict) and (prop.get("format") == "password" or prop.get("writeOnly") is True)]

    def with_defaults(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """The input with top-level `default`s filled in (JSON Schema itself never applies them)."""
        out = dict(input)
        for name, prop in self._properties().items():
            if name not in out and isinstance(prop, dict) and "default" in prop:
                out[name] = copy.deepcopy(prop["default"])
        return out

    def secret_fields(self, input: Mapping[str, Any]) -> dict[str, str]:
        """Values of the secret inputs present in `input` (for masking and the job's env)."""
        return {n: str(input[n]) for n in self.secret_names() if input.get(n) not in (None, "")}

    def public_input(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """The input without secrets, defaults applied: safe for extravars, the jobs table, the UI."""
        secret = set(self.secret_names())
        return {k: v for k, v in self.with_defaults(input).items() if k not in secret}

    def secret_env(self, input: Mapping[str, Any]) -> dict[str, str]:
        """Secret inputs as environment variables for the playbook (RunSpec.envvars)."""
        props = self._properties()
        return {str(props[n].get("x-env") or f"JARVIS_INPUT_{n.upper()}"): v
                for n, v in self.secret_fields(input).items()}

    def concurrency_key_for(self, input: Mapping[str, Any], connection_name: str | None = None) -> str | None:
        """The rendered concurrency key, or None when the runbook has none (or it renders empty)."""
        if not self.concurrency_key.strip():
            return None
        context = {"input": self.public_input(input), "connection": connection_name or ""}
        key = _jinja.from_string(self.concurrency_key).render(**context).strip()
        return key or None


class Catalog:
    """Runbooks by name, plus the problems found while loading."""

    def __init__(self) -> None:
        self.runbooks: dict[str, Runbook] = {}
        self.errors: list[str] = []

    def __contains__(self, name: str) -> bool:
        return name in self.runbooks

    def __iter__(self):
        return iter(sorted(self.runbooks.values(), key=lambda r: (r.category, r.name)))

    def __len__(self) -> int:
        return len(self.runbooks)

    def get(self, name: str) -> Runbook | None:
        return self.runbooks.get(name)

    def add_folder(self, folder: Path, source: str = "builtin") -> list[Runbook]:
        """Load a runbook folder, or every runbook folder directly under `folder`.

        The seam for runbooks declared in repositories: call it with the checked-out folder
        and the source's name.
        """
        folder = Path(folder)
        if (folder / RUNBOOK_FILE).is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(p for p in folder.iterdir() if (p / RUNBOOK_FILE).is_file())
        else:
            self.errors.append(f"{folder}: runbook folder does not exist")
            return []
        added = []
        for candidate in candidates:
            runbook = self._load_one(candidate, source)
            if runbook is not None:
                self.runbooks[runbook.name] = runbook
                added.append(runbook)
        return added

    def _load_one(self, folder: Path, source: str) -> Runbook | None:
        path = folder / RUNBOOK_FILE
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            self.errors.append(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}")
            return None
        except OSError as exc:
            self.errors.append(f"{path}: cannot read: {exc.strerror}")
            return None
        if not isinstance(raw, dict):
            self.errors.append(f"{path}: expected a mapping at the top level")
            return None
        try:
            runbook = Runbook(**{**raw, "folder": folder.resolve(), "source": source})
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(root)"
                msg = err["msg"].removeprefix("Value error, ")
                self.errors.append(f"{path}: {loc}: {msg}")
            return None
        except TypeError as exc:
            self.errors.append(f"{path}: {exc}")
            return None
        if not runbook.playbook_path.is_file():
            self.errors.append(f"{path}: playbook: {runbook.playbook} not found in {folder}")
            return None
        if runbook.name in self.runbooks:
            other = self.runbooks[runbook.name].folder / RUNBOOK_FILE
            self.errors.append(f"{path}: name: duplicate runbook name {runbook.name!r} (already in {other})")
            return None
        return _with_connection_input(runbook)

    def validate_input(self, name: str, input: Any) -> list[dict[str, str]]:
        """Every failing JSON-Schema path of `input`, as [{path: "input.replicas", message}]."""
        runbook = self.runbooks.get(name)
        if runbook is None:
            return [{"path": "runbook", "message": f"no runbook named {name!r}"}]
        return validate_against(runbook, input)


def validate_against(runbook: Runbook, input: Any) -> list[dict[str, str]]:
    validator = Draft202012Validator(runbook.input, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(input), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = _missing_required(err)
            if missing:
                path += f".{missing}"
        # never echo a secret input back in an error message
        message = err.message if not _touches_secret(runbook, err) else f"invalid value ({err.validator})"
        problems.append({"path": "input" + path, "message": message})
    return problems


def _missing_required(err) -> str | None:
    match = re.match(r"^'([^']+)' is a required property$", err.message)
    return match.group(1) if match else None


def _touches_secret(runbook: Runbook, err) -> bool:
    path = list(err.absolute_path)
    return bool(path) and path[0] in runbook.secret_names()


def _with_connection_input(runbook: Runbook) -> Runbook:
    """A runbook with `connection_type` takes `connection` (a connection name) in its input, and one
    input per entry of `connections` (each a connection name of that type)."""
    wanted = {**({"connection": runbook.connection_type} if runbook.connection_type else {}), **runbook.connections}
    missing = {key: type_ for key, type_ in wanted.items() if key not in runbook._properties()}
    if not missing:
        return runbook
    schema = copy.deepcopy(runbook.input)
    for key, type_ in missing.items():
        what = "to run against" if key == "connection" else f"for {key}"
        schema.setdefault("properties", {})[key] = {
            "type": "string", "minLength": 1, "description": f"Name of the {type_} connection {what}."}
        schema["required"] = [*schema.get("required", []), key]
    return runbook.model_copy(update={"input": schema})


def load_catalog(folders: Iterable[Path], source: str = "builtin") -> Catalog:
    """Load every runbook under the given folders (each a runbook folder or a folder of them)."""
    catalog = Catalog()
    for folder in folders:
        catalog.add_folder(Path(folder), source)
    return catalog
