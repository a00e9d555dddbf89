"""Turn pydantic validation errors into positioned, human messages ("expected integer, got string 'two'")."""

from __future__ import annotations

import difflib
import functools
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from yaml.nodes import Node

from .errors import ManifestError
from .models import Manifest
from .models.common import describe
from .yamltree import locate, render

_UNION_TAG = re.compile(r"^[a-z][a-z-]*\[.*\]$")  # pydantic's internal steps: "function-after[...]"
_EXPECTED = {
    "int_parsing": "integer", "int_type": "integer", "int_from_float": "integer",
    "float_parsing": "number", "float_type": "number",
    "bool_parsing": "boolean (true or false)", "bool_type": "boolean (true or false)",
    "string_type": "string", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping",
}
_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
           "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def did_you_mean(word: str, choices: Any) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional down to the model, dict or list a path step goes through."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            inner = [a for a in get_args(tp) if a is not type(None)]
            shaped = [a for a in inner if _is_container(a)]
            tp = shaped[0] if shaped else inner[0]
        else:
            return tp


def _is_container(tp: Any) -> bool:
    tp = get_args(tp)[0] if get_origin(tp) is Annotated else tp
    return get_origin(tp) in (list, dict) or (isinstance(tp, type) and issubclass(tp, BaseModel))


@functools.lru_cache(maxsize=512)
def keys_at(loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The keys allowed in the mapping at `loc` (for did-you-mean on unknown keys)."""
    tp: Any = Manifest
    for step in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == step), None)
            if field is None:
                return ()
            tp = field.annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return ()
    tp = _unwrap(tp)
    if get_origin(tp) is list:
        tp = _unwrap(get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tuple(f.alias or n for n, f in tp.model_fields.items())
    return ()


def _got(value: Any, secret: bool) -> str:
    if secret:  # never print what sits under `secrets:` — it may be the secret itself
        return describe(value).split(" ")[0] if not isinstance(value, list | dict) else describe(value)
    return describe(value)


def _message(err: dict[str, Any], where: str, secret: bool) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    prefix = f"{where}: " if where else ""
    if kind in _EXPECTED:
        return f"{prefix}expected {_EXPECTED[kind]}, got {_got(value, secret)}"
    if kind == "value_error":
        return prefix + str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        return f"{prefix}expected {ctx.get('expected')}, got {_got(value, secret)}"
    if kind in _BOUNDS:
        op, key = _BOUNDS[kind]
        return f"{prefix}must be {op} {ctx.get(key)}, got {_got(value, secret)}"
    if kind == "string_too_short":
        return f"{prefix}must not be empty"
    if kind == "too_short":
        return f"{prefix}needs at least {ctx.get('min_length')} item(s)"
    return f"{prefix}{err['msg'][0].lower()}{err['msg'][1:]}"


def translate(exc: ValidationError, root: Node | None, path: str) -> list[ManifestError]:
    out: list[ManifestError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(s for s in err["loc"] if not (isinstance(s, str) and _UNION_TAG.match(s)))
        secret = bool(loc) and loc[0] == "secrets"
        kind = err["type"]
        if loc and loc[-1] == "[key]":  # a dict key failed validation: point at the key
            pos = locate(root, loc[:-1], at_key=True)
            where = _user_path(root, loc[:-2]) if loc[:-2] else ""
            out.append(ManifestError(path, pos.line, pos.column, _message(err, where, secret)))
            continue
        if kind in ("extra_forbidden", "invalid_key"):
            pos = locate(root, loc, at_key=True)
            parent = render(list(loc[:-1])) if loc[:-1] else ""
            where = f"in {_user_path(root, loc[:-1])}" if parent else "at the top level"
            hint = did_you_mean(str(loc[-1]), keys_at(loc[:-1]))
            out.append(ManifestError(path, pos.line, pos.column, f"unknown key {loc[-1]!r} {where}", hint))
        elif kind == "missing":
            pos = locate(root, loc)
            where = f" in {_user_path(root, loc[:-1])}" if loc[:-1] else ""
            out.append(ManifestError(path, pos.line, pos.column, f"missing required field {loc[-1]!r}{where}"))
        else:
            pos = locate(root, loc)
            out.append(ManifestError(path, pos.line, pos.column, _message(err, pos.where, secret)))
    return out


def _user_path(root: Node | None, loc: tuple[str | int, ...]) -> str:
    return locate(root, loc).where
