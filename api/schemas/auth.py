from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.schemas.common import Input, Output, PlainText


class LoginIn(Input):
    email: PlainText = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    remember_me: bool = False
    totp: str | None = Field(None, max_length=32)


class TokenOut(Output):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str = "full"


class RefreshIn(Input):
    refresh_token: str | None = Field(None, max_length=200)


class LogoutIn(Input):
    refresh_token: str | None = Field(None, max_length=200)


class MeOut(Output):
    id: int
    email: str
    name: str
    role: str
    totp_enabled: bool
    password_change_required: bool
    totp_required: bool = False
    scope: str = "full"
    last_login_at: dt.datetime | None = None


class PasswordChangeIn(Input):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetRequestIn(Input):
    email: PlainText = Field(min_length=3, max_length=320)


class ResetConfirmIn(Input):
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class TotpEnrolOut(Output):
    secret: str
    otpauth_uri: str


class TotpCodeIn(Input):
    code: str = Field(min_length=6, max_length=32)


class TotpDisableIn(Input):
    password: str = Field(max_length=1024)


class RecoveryCodesOut(Output):
    recovery_codes: list[str]


class SecurityPolicy(Input):
    totp_required_roles: list[str] = Field(default_factory=list)
