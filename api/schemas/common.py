"""Base classes for request and response bodies, and the bounded integers every path, query and body uses."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")

# Integers from a caller are bounded by what the database column can hold, so an id, a cursor or an
# offset too large for it is a 422 naming the parameter, never an overflow (a 500) in the driver.
MAX_ID = 2**31 - 1        # the INTEGER primary keys (PostgreSQL's int4)
MAX_BIGINT = 2**63 - 1    # BIGINT columns (event counters), and the largest OFFSET PostgreSQL or SQLite take

Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id.")]
Counter = Annotated[int, Field(ge=0, le=MAX_BIGINT, description="An event counter (0: from the start).")]
Offset = Annotated[int, Field(ge=0, le=MAX_BIGINT, description="Rows to skip.")]


def limit_upto(maximum: int):
    """The `limit` of a list: at least 1, at most `maximum` rows per answer."""
    return Annotated[int, Field(ge=1, le=maximum, description=f"Rows per answer, at most {maximum}.")]


# Characters that make a text show something other than what it holds (Trojan Source, CVE-2021-42574):
# the bidirectional embeddings, overrides and isolates, and the implicit direction marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _no_nul(value: Any) -> Any:
    """NUL in any string of a body: no text column can hold it (PostgreSQL refuses it), so it is a 422."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k), _no_nul(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            _no_nul(v)
    return value


def _plain_text(value: str) -> str:
    for ch in value:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            raise ValueError(f"must not contain control or bidirectional-formatting characters (U+{ord(ch):04X})")
    return value


# What names a person or a thing (an email, a user's name, a connection's environment): shown to
# others, so it cannot hold control characters or reorder itself on screen.
PlainText = Annotated[str, AfterValidator(_plain_text)]


class Input(BaseModel):
    """Request bodies: unknown fields are refused (422 naming the field), and so is NUL in any string."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class FieldError(Output):
    field: str = Field(description="The dotted path of what is wrong (`config.base_url`, `limit`); "
                                   "empty for the input as a whole.")
    message: str


class ValidationProblem(Output):
    """Every 422: from the schema of a body or parameter, or from a rule our own code checks."""

    detail: str = Field(description="What is wrong, in a sentence.")
    code: str = Field(description="`validation_error` (the schema) or `invalid` (a rule).")
    errors: list[FieldError]
