from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.schemas.common import Input, Output, PlainText

Role = Literal["admin", "operator", "viewer"]


class UserCreate(Input):
    email: PlainText = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: PlainText = Field("", max_length=200)
    role: Role
    password: str = Field(min_length=1, max_length=1024)


class UserUpdate(Input):
    name: PlainText | None = Field(None, max_length=200)
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, max_length=1024)


class UserPublic(Output):
    id: int
    email: str
    name: str
    role: str
    active: bool
    totp_enabled: bool
    password_change_required: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
