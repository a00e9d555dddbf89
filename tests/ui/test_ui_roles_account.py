"""Roles shape the page (a viewer finds no mutating control) and the TOTP enrolment QR code decodes to
the otpauth URI. (Page sizes and other figures: test_ui_figures.py.)"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pyotp
from playwright.sync_api import expect

from controller.security.passwords import MIN_LENGTH
from tests.support.waiting import wait_for
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot

PAGES = ["dashboard", "gitops", "runbooks", "jobs", "infra", "containers", "logs", "assistant", "settings"]
MUTATING_LABELS = re.compile(r"^(Execute|Sync now|Approve|Reject|New connection|New user|Delete|Test|Rerun|Cancel|Save policy)",
                             re.I)


def _connection(context, admin, name):
    login_api(context, admin.email, admin.password)
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "jarvis_csrf")
    res = context.request.post("/api/connections", headers={"X-CSRF-Token": csrf},
                               data={"name": name, "type": "ssh", "environment": "staging",
                                     "config": {"known_hosts": "10.0.0.5 ssh-ed25519 AAAA"}, "credentials": {"private_key": "k" * 40}})
    assert res.status == 201, res.text()
    context.clear_cookies()


def _mutating(page) -> list[str]:
    names = [b.inner_text().strip() for b in page.locator("button:visible, a.btn:visible").all()]
    return [n for n in names if MUTATING_LABELS.match(n)] + [f".mutating×{page.locator('.mutating').count()}"] * (
        page.locator(".mutating").count() > 0)


def test_viewer_sees_no_mutating_button(page, context, make_user):
    admin, viewer = make_user("admin"), make_user("viewer")
    _connection(context, admin, "ssh-roles-check")
    login_api(context, viewer.email, viewer.password)
    for name in PAGES:
        page.goto(f"/{name}")
        expect(page.locator(".skeleton:visible")).to_have_count(0)
        assert _mutating(page) == [], name
    page.goto("/settings#connections")
    expect(page.get_by_text("ssh-roles-check")).to_be_visible()
    assert _mutating(page) == []
    assert page.get_by_role("tab", name="Users and roles").count() == 0
    shoot(page, "settings-connections-viewer-1440")


def test_admin_sees_the_controls_a_viewer_does_not(page, context, make_user):
    admin = make_user("admin")
    _connection(context, admin, "ssh-admin-check")
    login_api(context, admin.email, admin.password)
    page.goto("/settings#connections")
    expect(page.get_by_role("button", name="New connection")).to_be_visible()
    expect(page.get_by_role("button", name="Test ssh-admin-check")).to_be_visible()
    expect(page.get_by_role("button", name="Delete ssh-admin-check")).to_be_visible()
    shoot(page, "settings-connections-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "settings-connections-390")


def test_create_and_edit_a_connection_with_the_form_its_type_declares(page, context, make_user):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    page.goto("/settings#connections")
    page.get_by_role("button", name="New connection").click()
    dialog = page.locator("#conn-dialog")
    dialog.get_by_label("Name", exact=True).fill("bad name!")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.locator('.field[data-field="name"] .error')).not_to_be_empty()   # browser validation, in place
    dialog.get_by_label("Name", exact=True).fill("docker-ui-made")
    dialog.get_by_label("Type").select_option("docker")
    expect(dialog.locator("#cf-type-desc")).to_contain_text("Swarm manager")
    dialog.get_by_label("Environment").fill("production")
    address = dialog.get_by_label("Engine address")
    expect(address).to_have_attribute("placeholder", "unix:///var/run/docker.sock")
    address.fill("tcp://10.0.0.9:2376")
    key = dialog.get_by_label("Client key", exact=True)
    key.fill("super-secret-key-value")
    assert key.evaluate("e => getComputedStyle(e).webkitTextSecurity") == "disc"      # masked while typed
    shoot(page, "settings-new-connection-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "settings-new-connection-390")
    page.set_viewport_size(DESKTOP)
    dialog.get_by_role("button", name="Create").click()
    # the server's check, next to the field it names: a client key needs its certificate
    expect(dialog.locator('.field[data-field="credentials.tls_cert"] .error')).to_contain_text("tls_key needs tls_cert")
    dialog.get_by_label("Client certificate", exact=True).fill("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
    dialog.get_by_role("button", name="Create").click()
    row = page.locator("tr", has_text="docker-ui-made")
    expect(row).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("super-secret-key-value")

    page.get_by_role("button", name="Edit docker-ui-made").click()
    expect(dialog.get_by_role("heading", name="Edit connection docker-ui-made")).to_be_visible()
    expect(address).to_have_value("tcp://10.0.0.9:2376")
    expect(key).to_have_value("")                                                 # a secret is never echoed
    expect(dialog.locator('.field[data-field="credentials.tls_key"] .hint')).to_contain_text("Stored (••••")
    shoot(page, "settings-edit-connection-1440")
    address.fill("tcp://10.0.0.10:2376")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    saved = next(c for c in context.request.get("/api/connections").json() if c["name"] == "docker-ui-made")
    assert saved["config"] == {"base_url": "tcp://10.0.0.10:2376"}
    assert set(saved["credential_hints"]) == {"tls_cert", "tls_key"}              # kept: left empty in the form
    page.goto("/logs")   # the new connection is an environment to read logs from (unreachable: it waits for it)
    expect(page.locator("#logs-env")).to_contain_text("docker-ui-made", timeout=45_000)


def test_totp_enrolment_qr_code_decodes_to_the_otpauth_uri(page, context, make_user):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    page.goto("/settings#account")
    page.get_by_role("button", name="Set up two-factor").click()
    qr = page.locator("#totp-qr")
    expect(qr.locator("svg")).to_be_visible()
    uri = qr.get_attribute("data-uri")
    assert uri.startswith("otpauth://totp/")
    svg = qr.locator("svg")
    cells = int(svg.get_attribute("viewBox").split()[2])
    assert svg.bounding_box()["width"] % cells == 0          # whole pixels per module: scannable
    def scanned() -> str:   # as a phone scans it: once it is drawn (a shot taken while it appears reads nothing)
        image = cv2.imdecode(np.frombuffer(qr.screenshot(), np.uint8), cv2.IMREAD_COLOR)
        return cv2.QRCodeDetector().detectAndDecode(image)[0]

    decoded = wait_for(scanned, "a readable QR code", timeout=10, every=0.2)
    assert decoded == uri
    shoot(page, "settings-totp-enrol-1440")
    secret = re.search(r"secret=([A-Z2-7]+)", decoded).group(1)
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes code")
    expect(codes.first).to_be_visible()
    assert codes.count() >= 5
    shoot(page, "settings-recovery-codes-1440")


def test_password_change_maps_the_server_error_to_the_field(page, context, make_user):
    user = make_user("operator")
    login_api(context, user.email, user.password)
    page.goto("/settings#account")
    page.get_by_label("Current password").fill("wrong-one")
    page.get_by_label("New password", exact=True).fill("a-brand-new-password-9")
    page.get_by_label("Repeat the new password").fill("a-brand-new-password-9")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('.field[data-field="current_password"] .error')).to_have_text("wrong")


def test_password_change_states_and_checks_the_servers_password_rule(page, context, make_user):
    user = make_user("operator")
    login_api(context, user.email, user.password)
    page.goto("/settings#account")
    expect(page.locator("#pw-new-hint")).to_have_text(f"At least {MIN_LENGTH} characters.")
    page.get_by_label("Current password").fill(user.password)
    page.get_by_label("New password", exact=True).fill("abcdefghi")
    page.get_by_label("Repeat the new password").fill("abcdefghi")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/api/auth/password" in r.url else None)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('#password-form .field[data-field="new_password"] .error')).to_contain_text(str(MIN_LENGTH))
    assert requests == []   # stopped in the form, by the same rule the server holds
    shoot(page, "settings-password-rule-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "settings-password-rule-390")
