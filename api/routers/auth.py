"""/api/auth: login, refresh, logout, me, password change and reset, TOTP."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from api.deps import ACCESS_COOKIE, CSRF_COOKIE, DbDep, RuntimeDep, client_ip, principal_of, require
from api.schemas.auth import (
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordChangeIn,
    RecoveryCodesOut,
    RefreshIn,
    ResetConfirmIn,
    ResetRequestIn,
    SecurityPolicy,
    TokenOut,
    TotpCodeIn,
    TotpDisableIn,
    TotpEnrolOut,
)
from controller.accounts import liveness, mfa, reset, sessions, users
from controller.errors import Invalid, Unauthorized
from controller.roles import ROLES
from controller.security.passwords import verify_password
from controller.security.tokens import csrf_token

router = APIRouter(prefix="/api/auth", tags=["auth"])
REFRESH_COOKIE = "jarvis_rt"
Self = principal_of("auth.self")


def _audit(request: Request, **info) -> None:
    request.state.audit = {**getattr(request.state, "audit", {}), **info}


def _set_cookies(request: Request, response: Response, tokens: sessions.Tokens, remember: bool) -> None:
    """Browser sessions: tokens in httpOnly cookies (page scripts never see them) plus a CSRF cookie
    the pages send back as X-CSRF-Token, bound to this session (an HMAC of its id)."""
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    max_age = None
    if remember:
        max_age = request.app.state.runtime.settings.refresh_token_remember_days * 86400
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, httponly=True, secure=secure, samesite="strict",
                        max_age=tokens.expires_in, path="/")
    response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, httponly=True, secure=secure, samesite="strict",
                        max_age=max_age, path="/api/auth")
    csrf = csrf_token(request.app.state.runtime.jwt_key, tokens.session_id)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, secure=secure,
                        samesite="strict", max_age=max_age, path="/")


@router.post("/login", response_model=TokenOut, dependencies=[Depends(require("public"))])
def login(body: LoginIn, request: Request, response: Response, db: DbDep, rt: RuntimeDep, cookie: bool = False):
    """Email and password (and a TOTP or recovery code when enrolled). `?cookie=true` also sets
    httpOnly session cookies for the web UI."""
    _audit(request, action="auth.login", target=users.normalise_email(body.email),
           user_email=users.normalise_email(body.email))
    try:
        tokens = sessions.login(db, rt.settings, rt.jwt_key, rt.limiter, email=body.email, password=body.password,
                                remember=body.remember_me, totp=body.totp, ip=client_ip(request))
    except Unauthorized as exc:
        _audit(request, detail={"reason": exc.details.get("reason", "bad_credentials")})
        raise
    _audit(request, user_id=tokens.user.id, role=tokens.user.role)
    if cookie:
        _set_cookies(request, response, tokens, body.remember_me)
    return TokenOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                    expires_in=tokens.expires_in, scope=tokens.scope)


@router.post("/refresh", response_model=TokenOut, dependencies=[Depends(require("public"))])
def refresh(request: Request, response: Response, db: DbDep, rt: RuntimeDep, body: RefreshIn | None = None):
    """Rotates the refresh token (body, or the session cookie). A reused token revokes its family."""
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        # an anonymous page's silent refresh (every view of /login): no session, nothing to audit
        _audit(request, skip=True)
        raise Unauthorized("no refresh token")
    _audit(request, action="auth.refresh")
    tokens = sessions.refresh(db, rt.settings, rt.jwt_key, token, client_ip(request))
    _audit(request, user_id=tokens.user.id, user_email=tokens.user.email, role=tokens.user.role)
    if request.cookies.get(REFRESH_COOKIE):
        _set_cookies(request, response, tokens, remember=False)
    return TokenOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                    expires_in=tokens.expires_in, scope=tokens.scope)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, db: DbDep, me: Self, body: LogoutIn | None = None):
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    sessions.logout(db, token, me.user, me.claims.sid)
    for name in (ACCESS_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/api/auth")
    response.status_code = 204
    return response


@router.get("/me", response_model=MeOut)
def me(me: Self, db: DbDep):
    u = me.user
    return MeOut(id=u.id, email=u.email, name=u.name, role=u.role, totp_enabled=u.totp_enabled,
                 password_change_required=u.password_change_required,
                 totp_required=u.role in mfa.required_roles(db), scope=me.claims.scope,
                 last_login_at=u.last_login_at)


@router.post("/password", response_model=TokenOut)
def change_password(body: PasswordChangeIn, me: Self, request: Request, response: Response, db: DbDep,
                    rt: RuntimeDep):
    """Change my password. All my sessions end, and this one goes on as a fresh session: the answer
    holds its tokens (a browser session also gets them as cookies)."""
    if not verify_password(me.user.password_hash, body.current_password):
        raise Invalid("current password is wrong", errors=[{"field": "current_password", "message": "wrong"}])
    tokens = sessions.change_password(db, rt.settings, rt.jwt_key, me.user, body.new_password,
                                      sid=me.claims.sid, ip=client_ip(request))
    liveness.for_runtime(rt).mark_ended(me.claims.sid, "password changed")
    if request.cookies.get(ACCESS_COOKIE):
        _set_cookies(request, response, tokens, remember=tokens.remember)
    return TokenOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                    expires_in=tokens.expires_in, scope=tokens.scope)


@router.post("/password-reset/request", status_code=202, dependencies=[Depends(require("public"))])
def reset_request(body: ResetRequestIn, request: Request, db: DbDep, rt: RuntimeDep):
    """Always 202: whether the account exists is not revealed."""
    _audit(request, action="auth.reset.request", target=users.normalise_email(body.email))
    wait = rt.limiter.hit(f"reset:{client_ip(request)}", rt.settings.login_failures_per_minute, 60)
    if not wait:
        reset.request(db, rt.settings, body.email)
    return {"detail": "if the account exists, a reset link has been sent"}


@router.post("/password-reset/confirm", status_code=204, dependencies=[Depends(require("public"))])
def reset_confirm(body: ResetConfirmIn, request: Request, response: Response, db: DbDep):
    _audit(request, action="auth.reset.confirm")
    user = reset.confirm(db, body.token, body.new_password)
    _audit(request, user_id=user.id, user_email=user.email, role=user.role)
    response.status_code = 204
    return response


@router.post("/totp/enroll", response_model=TotpEnrolOut)
def totp_enroll(me: Self, db: DbDep):
    """Starts enrolment: the secret and its otpauth:// URI (for a QR code). Confirm with a code."""
    secret, uri = mfa.start_enrolment(db, me.user)
    return TotpEnrolOut(secret=secret, otpauth_uri=uri)


@router.post("/totp/verify", response_model=RecoveryCodesOut)
def totp_verify(body: TotpCodeIn, me: Self, db: DbDep):
    """Confirms enrolment with a current code; answers the recovery codes, shown only this once."""
    return RecoveryCodesOut(recovery_codes=mfa.confirm_enrolment(db, me.user, body.code))


@router.post("/totp/recovery-codes", response_model=RecoveryCodesOut)
def totp_new_codes(body: TotpCodeIn, me: Self, db: DbDep):
    if not me.user.totp_enabled or not mfa.check_code(db, me.user, body.code):
        raise Invalid("a current code is needed", errors=[{"field": "code", "message": "does not match"}])
    return RecoveryCodesOut(recovery_codes=mfa.new_recovery_codes(db, me.user))


@router.post("/totp/disable", status_code=204)
def totp_disable(body: TotpDisableIn, me: Self, db: DbDep, response: Response):
    if not verify_password(me.user.password_hash, body.password):
        raise Invalid("password is wrong", errors=[{"field": "password", "message": "wrong"}])
    mfa.disable(db, me.user)
    response.status_code = 204
    return response


@router.get("/policy", response_model=SecurityPolicy, dependencies=[Depends(require("auth.self"))])
def get_policy(db: DbDep):
    return SecurityPolicy(totp_required_roles=mfa.required_roles(db))


@router.put("/policy", response_model=SecurityPolicy, dependencies=[Depends(require("security.write"))])
def put_policy(body: SecurityPolicy, db: DbDep):
    """Roles that must use TOTP. Their members without it are confined to enrolment until they enrol."""
    bad = [r for r in body.totp_required_roles if r not in ROLES]
    if bad:
        raise Invalid(f"unknown roles {bad}", errors=[{"field": "totp_required_roles", "message": f"unknown {bad}"}])
    mfa.set_required_roles(db, sorted(set(body.totp_required_roles)))
    return SecurityPolicy(totp_required_roles=mfa.required_roles(db))
