"""The first password change does not trap the user (issue 12): after changing a one-time password on
the settings page they land on the dashboard in a fresh session, and the old session's access token
neither acts nor keeps saying that the password must be changed."""

from __future__ import annotations

import secrets

import httpx
from playwright.sync_api import expect

from controller.accounts import users
from tests.ui.conftest import PHONE, login_api, shoot


def _one_time_admin(runtime) -> tuple[str, str]:
    email, password = f"first-{secrets.token_hex(4)}@example.test", "one-time-pass-" + secrets.token_hex(4)
    with runtime.db.session() as db:
        users.create(db, email, password, "admin", must_change=True)
    return email, password


def test_after_the_first_password_change_the_user_lands_on_the_dashboard(page, context, runtime, live):
    email, password = _one_time_admin(runtime)
    login_api(context, email, password)
    old_access = next(c["value"] for c in context.cookies() if c["name"] == "jarvis_at")
    page.goto("/dashboard")
    expect(page).to_have_url(f"{live.url}/settings#account")
    expect(page.locator(".notice.info")).to_contain_text("Finish setting up your account first")
    shoot(page, "first-password-change-required-1440")
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill("my-own-password-42")
    page.get_by_label("Repeat the new password").fill("my-own-password-42")
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    expect(page.locator("h1")).to_contain_text("Dashboard")
    expect(page.get_by_text("refreshes every")).to_be_visible()     # the tiles loaded
    shoot(page, "first-password-changed-dashboard-1440")
    for link in ("/gitops", "/settings"):           # every link works: no more "finish setting up"
        page.goto(link)
        expect(page).to_have_url(f"{live.url}{link}")
        expect(page.locator(".notice.info", has_text="Finish setting up")).to_have_count(0)
    page.set_viewport_size(PHONE)
    page.goto("/dashboard")
    expect(page.get_by_text("refreshes every")).to_be_visible()
    shoot(page, "first-password-changed-dashboard-390")
    me = context.request.get("/api/auth/me").json()      # the fresh session in the cookies
    assert me["password_change_required"] is False and me["scope"] == "full"
    # the old session ended: its access token is refused, not answered with "change the password"
    old = httpx.get(f"{live.url}/api/auth/me", headers={"Authorization": f"Bearer {old_access}"})
    assert old.status_code == 401 and old.json().get("reason") == "session_ended", old.text
    assert page.js_errors == []


def test_the_api_answers_a_password_change_with_a_fresh_full_session(runtime, live):
    email, password = _one_time_admin(runtime)
    base = live.url
    t = httpx.post(f"{base}/api/auth/login", json={"email": email, "password": password}).json()
    assert t["scope"] == "self"
    r = httpx.post(f"{base}/api/auth/password", headers={"Authorization": f"Bearer {t['access_token']}"},
                   json={"current_password": password, "new_password": "my-own-password-43"})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["scope"] == "full"
    assert httpx.get(f"{base}/api/users", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200
    assert httpx.get(f"{base}/api/auth/me",
                     headers={"Authorization": f"Bearer {t['access_token']}"}).status_code == 401
    # the old refresh token died with its session; the fresh one rotates
    assert httpx.post(f"{base}/api/auth/refresh", json={"refresh_token": t["refresh_token"]}).status_code == 401
    assert httpx.post(f"{base}/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]}).status_code == 200
