"""What parsing a manifest returns: the model, or errors that say what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Manifest


@dataclass(frozen=True, slots=True)
class ManifestError:
    """One problem in one file, positioned like a compiler diagnostic (1-based line and column)."""

    path: str
    line: int
    column: int
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


@dataclass(slots=True)
class ParseResult:
    manifest: Manifest | None
    errors: list[ManifestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors) if self.errors else "ok"
