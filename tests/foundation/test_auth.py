"""Login, refresh rotation with theft detection, logout, JWT refusal, rate limits."""

from __future__ import annotations

import datetime as dt

import jwt

from controller.security.tokens import ALGORITHM


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


def test_login_rate_limit_per_account_and_per_ip(client, make_user, runtime):
    u = make_user()
    for i in range(5):
        # different client IPs through the trusted proxy: the account limit still applies
        r = client.post("/api/auth/login", json={"email": u.email, "password": "wrong"},
                        headers={"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"email": u.email, "password": u.password},
                    headers={"X-Forwarded-For": "198.51.100.99"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0

    other = make_user()
    for i in range(5):
        client.post("/api/auth/login", json={"email": f"ghost{i}@example.test", "password": "x"})
    # same IP (the TestClient peer), another account: the IP limit applies
    assert login(client, other.email, other.password).status_code == 429


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
    assert r.status_code == 204
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
                       json=with_own).status_code == 204
    assert login(client, "newcomer@example.test", "chosen-by-me-22").json()["scope"] == "full"
    r = client.patch(f"/api/users/{uid}", headers=admin.headers, json={"password": "reset-by-admin-3"})
    assert r.json()["password_change_required"] is True
    assert login(client, "newcomer@example.test", "reset-by-admin-3").json()["scope"] == "self"
