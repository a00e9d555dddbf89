"""Secret and config values: resolving references and naming versions by content hash.

A value never enters a Resource spec (plans are shown and stored): the spec carries the
reference and the hash, and the value travels only to the step that creates the object.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from controller.contract import ConnectionResolver, InvalidDesiredState


class ReferenceError_(InvalidDesiredState, ValueError):
    """A reference that cannot be resolved; the message says which and why (never the value)."""


def resolve(ref: str, files: Mapping[str, bytes], connection_resolver: ConnectionResolver | None,
            environ: Mapping[str, str] | None = None) -> bytes:
    environ = os.environ if environ is None else environ
    scheme, sep, rest = ref.partition(":")
    if not sep or not rest:
        raise ReferenceError_(f"{ref!r} is not a reference (env:VAR, file:path, connection:NAME/KEY)")
    if scheme == "env":
        if rest not in environ:
            raise ReferenceError_(unset_variable(rest))
        return environ[rest].encode()
    if scheme == "file":
        path = rest.lstrip("./") if rest.startswith("./") else rest
        if path not in files:
            raise ReferenceError_(f"file {rest} is not in the repository")
        return bytes(files[path])
    if scheme == "connection":
        name, _, key = rest.partition("/")
        if not key:
            raise ReferenceError_(f"{ref!r}: expected connection:NAME/KEY")
        if connection_resolver is None:
            raise ReferenceError_(f"connection secrets are not available here (needed {name}/{key})")
        try:
            return connection_resolver(name, key).encode()
        except LookupError as exc:   # the resolver's words: which name or key is unknown, never a value
            raise ReferenceError_(str(exc.args[0] if exc.args else exc)) from None
    raise ReferenceError_(f"unknown reference scheme {scheme!r} in {ref!r} (env, file, connection)")


def unset_variable(name: str) -> str:
    """The words for an `env:` reference (or a compose `environment:` value) whose variable is missing."""
    return f"environment variable {name} is not set in Jarvis's environment: export {name} before starting Jarvis"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versioned_name(name: str, data: bytes) -> str:
    """`<name>_<hash8>`: a changed value is a new object, so running tasks keep the old one."""
    return f"{name}_{content_hash(data)[:8]}"
