"""Login, refresh rotation with theft detection, logout, JWT refusal, rate limits."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from controller.ratelimit import MemoryLimiter, RedisLimiter
from controller.security.tokens import ALGORITHM
from tests.support.redis_server import RedisServer


def login(client, email, password, **extra):
    return client.post("/api/auth/login", json={"email": email, "password": password, **extra})


def test_login_returns_tokens_and_me_answers_role(client, make_user):
    u = make_user("operator")
    r = login(client, u.email, u.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == u.email and me.json()["role"] == "operator"


def test_wrong_email_and_wrong_password_answer_the_same(client, make_user):
    u = make_user()
    a = login(client, u.email, "not-the-password")
    b = login(client, "nobody@example.test", "not-the-password")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json() == {"detail": "invalid email or password", "code": "unauthorized"}


def test_email_is_case_insensitive(client, make_user):
    u = make_user()
    assert login(client, u.email.upper(), u.password).status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(client, make_user):
    u = make_user()
    first = login(client, u.email, u.password).json()
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    # the old token presented again: someone holds a copy -> the whole family dies
    reuse = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    after = client.post("/api/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401


def test_remember_me_lengthens_only_the_refresh_token(client, make_user, runtime):
    from sqlalchemy import select

    from controller.security.tokens import hash_opaque
    from controller.store.models import RefreshToken

    u = make_user()
    short = login(client, u.email, u.password).json()
    long = login(client, u.email, u.password, remember_me=True).json()
    assert short["expires_in"] == long["expires_in"]
    with runtime.db.session() as db:
        rows = {t.token_hash: t for t in db.scalars(select(RefreshToken).where(RefreshToken.user_id == u.id))}
    s, lg = rows[hash_opaque(short["refresh_token"])], rows[hash_opaque(long["refresh_token"])]
    assert (lg.expires_at - s.expires_at) > dt.timedelta(days=20)


def test_logout_revokes_the_refresh_token(client, make_user):
    u = make_user()
    t = login(client, u.email, u.password).json()
    r = client.post("/api/auth/logout", json={"refresh_token": t["refresh_token"]},
                    headers={"Authorization": f"Bearer {t['access_token']}"})
    assert r.status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": t["refresh_token"]}).status_code == 401


def _claims(runtime, **over):
    now = dt.datetime.now(dt.UTC)
    c = {"sub": "1", "role": "admin", "scope": "full", "iss": runtime.settings.jwt_issuer, "iat": now, "nbf": now,
         "exp": now + dt.timedelta(minutes=5), "jti": "x", "typ": "access"}
    c.update(over)
    return c


def test_forged_tokens_are_refused(client, runtime, admin):
    now = dt.datetime.now(dt.UTC)
    sid = jwt.decode(admin.token, options={"verify_signature": False})["sid"]   # the admin's open session
    claims = _claims(runtime, sub=str(admin.id), sid=sid)
    no_session = {k: v for k, v in claims.items() if k != "sid"}
    forged = {
        "no session": jwt.encode(no_session, runtime.jwt_key, algorithm=ALGORITHM),
        "unknown session": jwt.encode({**claims, "sid": "0" * 32}, runtime.jwt_key, algorithm=ALGORITHM),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "wrong key": jwt.encode(claims, "x" * 48, algorithm=ALGORITHM),
        "wrong algorithm": jwt.encode(claims, runtime.jwt_key, algorithm="HS512"),
        "expired": jwt.encode({**claims, "exp": now - dt.timedelta(minutes=1),
                               "iat": now - dt.timedelta(minutes=20)}, runtime.jwt_key, algorithm=ALGORITHM),
        "not yet valid": jwt.encode({**claims, "nbf": now + dt.timedelta(minutes=10)}, runtime.jwt_key,
                                    algorithm=ALGORITHM),
        "wrong issuer": jwt.encode({**claims, "iss": "someone-else"}, runtime.jwt_key, algorithm=ALGORITHM),
        "garbage": "not.a.jwt",
    }
    ok = jwt.encode(claims, runtime.jwt_key, algorithm=ALGORITHM)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {ok}"}).status_code == 200
    for name, token in forged.items():
        r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name


@pytest.fixture(scope="module")
def _redis_url():
    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def proxied(request, app, runtime, _redis_url):
    """A client behind the trusted proxy (so X-Forwarded-For names the address), with the login
    limits in memory (embedded) or in Redis (shared by every process)."""
    if request.param == "redis":
        client = redis_lib.Redis.from_url(_redis_url)
        client.flushdb()
        runtime.limiter = RedisLimiter(client)
    with TestClient(app, client=("10.255.0.1", 50000)) as c:
        yield c
    runtime.limiter = MemoryLimiter()    # this module's Redis stops with it


def _login_from(client, ip, email, password):
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       headers={"X-Forwarded-For": ip})


def test_failures_from_other_addresses_never_lock_the_owner_out(proxied, make_user):
    u = make_user()
    for i in range(5):           # someone who knows the email fails from five addresses
        assert _login_from(proxied, f"198.51.100.{i}", u.email, "wrong").status_code == 401
    # the account is under attack: the addresses that failed on it are held back, right password or not
    r = _login_from(proxied, "198.51.100.0", u.email, u.password)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # the owner, from an address with no recent failures, signs in
    assert _login_from(proxied, "203.0.113.7", u.email, u.password).status_code == 200
    # a new address that fails on the attacked account is held back from then on
    assert _login_from(proxied, "203.0.113.8", u.email, "wrong").status_code == 401
    assert _login_from(proxied, "203.0.113.8", u.email, u.password).status_code == 429


def test_an_address_with_too_many_failures_is_refused_for_every_account(proxied, make_user):
    other = make_user()
    for i in range(5):
        assert _login_from(proxied, "192.0.2.50", f"ghost{i}@example.test", "x").status_code == 401
    r = _login_from(proxied, "192.0.2.50", other.email, other.password)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert _login_from(proxied, "192.0.2.51", other.email, other.password).status_code == 200


def test_one_time_password_confines_until_changed(client, runtime):
    from controller.accounts import users

    with runtime.db.session() as db:
        users.create(db, "first@example.test", "temporary-pass-1", "admin", must_change=True)
    t = login(client, "first@example.test", "temporary-pass-1").json()
    h = {"Authorization": f"Bearer {t['access_token']}"}
    assert t["scope"] == "self"
    assert client.get("/api/users", headers=h).status_code == 403
    assert client.get("/api/auth/me", headers=h).json()["password_change_required"] is True
    r = client.post("/api/auth/password", headers=h,
                    json={"current_password": "temporary-pass-1", "new_password": "a-much-better-one-2"})
    assert r.status_code == 200 and r.json()["scope"] == "full"     # a fresh session goes on
    t2 = login(client, "first@example.test", "a-much-better-one-2").json()
    assert t2["scope"] == "full"
    assert client.get("/api/users", headers={"Authorization": f"Bearer {t2['access_token']}"}).status_code == 200


def test_an_admin_set_password_is_one_time_whether_created_or_reset(client, admin):
    """POST /api/users and PATCH with a password follow one rule: the user changes it at first sign-in."""
    r = client.post("/api/users", headers=admin.headers,
                    json={"email": "newcomer@example.test", "password": "given-by-admin-1", "role": "operator"})
    assert r.status_code == 201, r.text
    assert r.json()["password_change_required"] is True
    assert login(client, "newcomer@example.test", "given-by-admin-1").json()["scope"] == "self"
    uid = r.json()["id"]
    with_own = {"current_password": "given-by-admin-1", "new_password": "chosen-by-me-22"}
    t = login(client, "newcomer@example.test", "given-by-admin-1").json()
    assert client.post("/api/auth/password", headers={"Authorization": f"Bearer {t['access_token']}"},
                       json=with_own).status_code == 200
    assert login(client, "newcomer@example.test", "chosen-by-me-22").json()["scope"] == "full"
    r = client.patch(f"/api/users/{uid}", headers=admin.headers, json={"password": "reset-by-admin-3"})
    assert r.json()["password_change_required"] is True
    assert login(client, "newcomer@example.test", "reset-by-admin-3").json()["scope"] == "self"


def test_the_csrf_token_is_bound_to_its_session(app, make_user):
    u = make_user()
    with TestClient(app) as mine, TestClient(app) as theirs:
        for c in (mine, theirs):
            assert c.post("/api/auth/login?cookie=true", json={"email": u.email, "password": u.password}).status_code == 200
        own, other = mine.cookies["jarvis_csrf"], theirs.cookies["jarvis_csrf"]
        assert own != other
        # a double-submit token that is consistent (cookie == header) but from another session
        _csrf_cookie(mine, other)
        r = mine.post("/api/auth/totp/enroll", headers={"X-CSRF-Token": other})
        assert r.status_code == 403 and r.json()["detail"] == "missing or wrong CSRF token"
        made_up = "x" * len(own)
        _csrf_cookie(mine, made_up)
        assert mine.post("/api/auth/totp/enroll", headers={"X-CSRF-Token": made_up}).status_code == 403
        assert mine.post("/api/auth/totp/enroll").status_code == 403
        _csrf_cookie(mine, own)
        assert mine.post("/api/auth/totp/enroll", headers={"X-CSRF-Token": own}).status_code == 200


def _csrf_cookie(client, value: str) -> None:
    client.cookies.delete("jarvis_csrf")    # one cookie of that name, whatever domain it was set for
    client.cookies.set("jarvis_csrf", value)
