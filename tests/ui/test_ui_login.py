"""The login screen in a real browser: sign in, a failed sign-in, keyboard access, the TOTP step."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from controller.accounts import mfa
from controller.security.passwords import MIN_LENGTH
from controller.store.models import User
from tests.ui.conftest import PHONE, shoot


def test_login_lands_on_the_dashboard(page, make_user):
    user = make_user("operator")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
    page.locator("#signin-form").get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_have_attribute("data-role", "operator")
    expect(page.locator(".user-name")).to_have_text(user.email)
    assert page.js_errors == []


def test_failed_login_shows_the_message(page, make_user):
    user = make_user("viewer")
    page.goto("/login")
    page.locator("#signin-form").get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(re.compile(r"/login$"))
    shoot(page, "login-failed-1440")


def test_keyboard_reaches_the_fields_and_submits(page, make_user):
    user = make_user("viewer")
    page.goto("/login")
    page.locator(".hero-text h2").click()   # focus navigation now starts before the form
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        if seen[-1] == "signin-btn":
            break
    assert seen.index("email") < seen.index("password") < seen.index("signin-btn"), seen
    page.locator("#email").focus()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(user.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_totp_second_step(page, make_user, runtime):
    user = make_user("admin")
    with runtime.db.session() as db:
        secret, _ = mfa.start_enrolment(db, db.get(User, user.id))
    with runtime.db.session() as db:
        recovery = mfa.confirm_enrolment(db, db.get(User, user.id), pyotp.TOTP(secret).now())
    page.goto("/login")
    page.locator("#signin-form").get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label("Authentication code")
    expect(code).to_be_focused()
    code.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#login-error")).to_contain_text("did not match")
    code.fill(recovery[0])   # the current TOTP code was spent on enrolment (no replay)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_forgot_password_and_reset_link_forms(page):
    page.goto("/login")
    page.get_by_role("button", name="Forgot password?").click()
    page.locator("#forgot-form").get_by_label("Email").fill("nobody@example.test")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#login-info")).to_contain_text("reset link is on its way")
    page.goto("/login?reset=not-a-real-token-123")
    page.get_by_label("New password", exact=True).fill("a-long-new-password-1")
    page.get_by_label("Repeat the new password").fill("a-long-new-password-1")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#login-error")).to_contain_text("invalid or has expired")


def test_login_on_a_phone_puts_the_hero_above_the_form(page):
    page.set_viewport_size(PHONE)
    page.goto("/login")
    hero, form = page.locator(".hero").bounding_box(), page.locator("#signin-form").bounding_box()
    assert hero["y"] + hero["height"] <= form["y"]
    assert form["width"] <= PHONE["width"]


def test_the_reset_form_states_and_checks_the_servers_password_rule(page):
    """The rule is the server's (10 characters): a 9-character password is stopped in the form, which
    says so before anything is sent."""
    page.goto("/login?reset=not-a-real-token-123")
    expect(page.locator("#reset-form .hint")).to_have_text(f"At least {MIN_LENGTH} characters.")
    page.get_by_label("New password", exact=True).fill("abcdefghi")
    page.get_by_label("Repeat the new password").fill("abcdefghi")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator('#reset-form .field[data-field="new_password"] .error')).to_contain_text(str(MIN_LENGTH))
    expect(page.locator("#login-error")).to_be_hidden()
    shoot(page, "login-reset-rule-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "login-reset-rule-390")
