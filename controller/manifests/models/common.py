"""Shared building blocks of the orch.yaml models: the strict base, value types and short-form parsers.

Short forms (``"8080:80"``, ``["K=V"]``, ``"name:/path:ro"``) are turned into the long form by *before*
validators attached to the type, so every consumer reads one shape from ``model_dump(mode="json",
exclude_none=True)`` and error locations stay plain (``services.web.ports[0]``, no union tags).
Validators raise ``ValueError`` with a message written for the person editing the file.
"""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# Unknown keys are errors everywhere; dumps use the YAML spelling (`from`, `with`).
STRICT = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_alias=True, validate_by_name=False)


class Strict(BaseModel):
    model_config = STRICT


def describe(value: Any) -> str:
    """How a value reads in an error message: its YAML type and a short rendering."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def scalar_to_str(value: Any, what: str) -> str:
    """YAML scalars as the strings a container sees: true -> "true", 5 -> "5", null -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"{what} must be a string, number or boolean, got {describe(value)}")


# --- string maps (env, labels) ---------------------------------------------------------------------------

def _to_str_map(value: Any) -> Any:
    if isinstance(value, list):
        out: dict[str, str] = {}
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                raise ValueError(f"expected 'KEY=value' entries, got {describe(item)}")
            key, _, val = item.partition("=")
            out[key] = val
        return out
    if isinstance(value, dict):
        return {str(k): scalar_to_str(v, f"value of {k!r}") for k, v in value.items()}
    return value


StrMap = Annotated[dict[str, str], BeforeValidator(_to_str_map, json_schema_input_type=dict[str, str | int | float | bool | None] | list[str])]


# --- command lines -------------------------------------------------------------------------------------

def _to_argv(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:  # unbalanced quotes
            raise ValueError(f"cannot split command line: {exc}") from None
    if isinstance(value, list):
        return [scalar_to_str(v, "each argument") if not isinstance(v, list | dict) else v for v in value]
    return value


Argv = Annotated[list[str], BeforeValidator(_to_argv, json_schema_input_type=str | list[str])]


# --- durations and sizes -------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:0|(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+)$")
_MEMORY = re.compile(r"^\d+(?:\.\d+)?\s*(?:[bB]|[kKmMgGtT](?:i?[bB])?)?$")


def _check_duration(value: Any) -> Any:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise ValueError(f"expected a duration like '30s', '1m30s' or '500ms', got {describe(value)}")
    return value


def _check_memory(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not _MEMORY.match(value):
        raise ValueError(f"expected a size like '512M' or '1G', got {describe(value)}")
    return value


Duration = Annotated[str, BeforeValidator(_check_duration, json_schema_input_type=str)]
Memory = Annotated[str, BeforeValidator(_check_memory, json_schema_input_type=str | int)]


# --- names and paths -----------------------------------------------------------------------------------

_OBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _check_object_name(value: str) -> str:
    if not _OBJECT_NAME.match(value):
        raise ValueError(f"invalid name {value!r}: use up to 63 letters, digits, '-', '_' or '.'")
    return value


ObjectName = Annotated[str, AfterValidator(_check_object_name)]


def _check_repo_path(value: str) -> str:
    # read from the manifest's folder; `..` and a leading `/` (the repository's root) reach other
    # folders of the same repository, and a path that would leave it is refused when it is read
    # (controller.gitops.repo), where the manifest's folder is known
    if not value.strip("/") or "\0" in value or "\\" in value:
        raise ValueError(f"expected a path to a file in the repository, got {value!r}")
    return value


RepoPath = Annotated[str, AfterValidator(_check_repo_path),
                     Field(description="A file of the repository, from the manifest's folder; `../` reaches "
                                       "another folder of the same repository, a leading `/` starts at its root.")]


def one_or_many(value: Any) -> Any:
    """`x` or `[x, ...]` -> a list."""
    return value if isinstance(value, list) or value is None else [value]
