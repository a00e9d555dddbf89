"""The manifest model with the sections of installed kinds that the built-in model lacks.

A kind packaged on its own (tests/kinds/filestore) cannot edit `models/`: it declares
`manifest_sections = {"name": <type>}` and, when its `connection_key` is new, that key joins
`connections:`. Both are validated with the built-in sections (unknown keys are still errors), so a
mistake in them is reported at its file:line:column. Without such kinds this is `Manifest` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, create_model

from .models import Connections, Manifest


@dataclass(frozen=True)
class KindSection:
    section: str
    type: Any
    connection_key: str
    connection_type: str


def kind_sections() -> tuple[KindSection, ...]:
    """The sections installed kinds bring, in kind order (found through the registry each call, so a
    kind installed or removed at run time is seen)."""
    from controller.registry import reconciler_classes  # lazy: the registry imports connections

    out = []
    for _, cls in sorted(reconciler_classes().items()):
        for section, typ in (getattr(cls, "manifest_sections", None) or {}).items():
            out.append(KindSection(section, typ, cls.connection_key, getattr(cls, "connection_type", "")))
    return tuple(out)


_models: dict[tuple[tuple[str, int, str], ...], type[Manifest]] = {}


def manifest_model(extra: tuple[KindSection, ...] | None = None) -> type[Manifest]:
    extra = kind_sections() if extra is None else extra
    new = [k for k in extra if k.section not in Manifest.model_fields]
    if not new:
        return Manifest
    key = tuple((k.section, id(k.type), k.connection_key) for k in new)
    if key not in _models:
        keys = {k.connection_key for k in new if k.connection_key not in Connections.model_fields}
        conns = create_model("Connections", __base__=Connections,
                             **{c: (str | None, Field(None, description="Connection for an installed kind."))
                                for c in sorted(keys)})
        _models[key] = create_model(
            "Manifest", __base__=Manifest,
            connections=(conns, Field(default_factory=conns)),
            **{k.section: (k.type | None, None) for k in new})
    return _models[key]
