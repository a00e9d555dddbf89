"""Base classes for request and response bodies, and the bounded integers every path, query and body uses."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

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


class Input(BaseModel):
    """Request bodies: unknown fields are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
