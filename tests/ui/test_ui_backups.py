"""The Backups page in a real browser, over backups that really ran (restic repository, PostgreSQL, the
worker-backed server): the list shows each backup's schedule, last run, size and snapshot count, a failed
one its incident; a backup's detail lists the repository's snapshots; an admin restores the latest one
into a new database (rows compared), and overwriting an existing one asks for its name first; a viewer
sees no button that changes anything."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import uuid

import psycopg
from playwright.sync_api import expect
from sqlalchemy import select, update

from controller import connections
from controller.backups.service import BackupScheduler
from controller.jobs.service import JobsService
from controller.store.models import BackupSchedule, utcnow
from tests.backups.conftest import PASSWORD, manifest_with_backups
from tests.support import pg
from tests.support.jobs import wait_job
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot


def _repository(rt, tmp_path) -> str:
    location = tmp_path / f"restic-{uuid.uuid4().hex[:6]}"
    env = {"RESTIC_REPOSITORY": str(location), "RESTIC_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    name = f"offsite-{uuid.uuid4().hex[:6]}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=name, type="backup-repository", environment="test",
                           config={"repository": str(location)}, credentials={"password": PASSWORD}, created_by="t")
    return name


def _rows(rt, source_id: int) -> dict[str, BackupSchedule]:
    with rt.db.session() as s:
        rows = s.scalars(select(BackupSchedule).where(BackupSchedule.source_id == source_id)).all()
        s.expunge_all()
        return {r.name: r for r in rows}


def test_the_backups_page_lists_real_runs_and_an_admin_restores_a_snapshot(
        browser, jobs_live, jobs_runtime, make_user, tmp_path):
    rt = jobs_runtime
    db_name = pg.create_database("jarvis_uibk")
    restored = f"{db_name}_restore"
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1/{db_name}", autocommit=True) as c:
            c.execute("CREATE TABLE orders AS SELECT generate_series(1, 250) AS id")
        repo = _repository(rt, tmp_path)
        src = manifest_with_backups(rt, f"""\
  - {{name: shop-db, runbook: backup-postgres, schedule: "0 3 * * *", timezone: Europe/Berlin, with: {{database: {db_name}, repository: {repo}, keep: 7}}}}
  - {{name: crm-db, runbook: backup-postgres, schedule: "15 */6 * * *", with: {{database: jarvis_no_such_db, repository: {repo}}}}}
""")
        sched = BackupScheduler(rt, JobsService.of(rt), lambda: True)
        sched.tick()
        with rt.db.session() as s:                  # both slots were missed while no controller ran
            s.execute(update(BackupSchedule).where(BackupSchedule.source_id == src)
                      .values(next_run_at=utcnow() - dt.timedelta(hours=2)))
        for job_id in sched.tick():
            wait_job(rt, job_id)
        rows = _rows(rt, src)
        shop, crm = rows["shop-db"], rows["crm-db"]
        assert shop.last_status == "success" and crm.last_status == "error"

        admin = make_user("admin")
        ctx = browser.new_context(base_url=jobs_live.url, viewport=DESKTOP)
        login_api(ctx, admin.email, admin.password)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto("/backups")
        expect(page.locator('nav.sidebar a[href="/backups"]')).to_have_attribute("aria-current", "page")
        shop_row = page.locator(f'#bk-list tr[data-backup="{shop.id}"]')
        crm_row = page.locator(f'#bk-list tr[data-backup="{crm.id}"]')
        expect(shop_row.locator("[data-status]")).to_have_text("ok")
        expect(shop_row).to_contain_text("Europe/Berlin")
        expect(shop_row.locator("td").last).to_have_text("1")                       # one snapshot
        expect(crm_row.locator("[data-status]")).to_have_text("failed")
        expect(crm_row.locator("[data-incident]")).to_be_visible()
        for label, size in (("1440", DESKTOP), ("390", PHONE)):
            page.set_viewport_size(size)
            shoot(page, f"backups-list-{label}")
        page.set_viewport_size(DESKTOP)

        crm_row.locator("a").first.click()
        expect(page).to_have_url(re.compile(rf"/backups/{crm.id}$"))
        expect(page.locator("#bk-status")).to_contain_text("failed:")
        expect(page.locator("#bk-status")).to_contain_text("pg_dump")

        shop_row.locator("a").first.click()
        expect(page.locator("#bk-title")).to_have_text("shop-db")
        expect(page.locator("#bk-snapshots tbody tr")).to_have_count(1)
        expect(page.locator("#bk-snapshots")).to_contain_text(shop.last_snapshot_id[:8])
        size = page.locator("#bk-snapshots tbody td").last
        expect(size).to_have_text(re.compile(r"^[\d.]+ (B|KB)$"))             # restic stats of the snapshot
        shoot(page, "backups-detail-1440")
        page.set_viewport_size(PHONE)
        page.locator("#bk-title").scroll_into_view_if_needed()
        shoot(page, "backups-detail-390")
        page.set_viewport_size(DESKTOP)

        # overwriting asks for the name of what is overwritten; the server refuses without it
        page.locator("#bk-restore").click()
        dialog = page.locator("#restore-dialog")
        expect(dialog).to_be_visible()
        page.locator("#rs-overwrite").check()
        expect(page.locator("#rs-confirm-name")).to_have_text(db_name)
        page.fill("#rs-confirm", "not-the-name")
        dialog.get_by_role("button", name="Restore").click()
        expect(dialog.locator('[data-field="confirm"] .error')).to_contain_text(f"type '{db_name}' to confirm")
        shoot(page, "backups-restore-confirm-1440")
        # the default: a new database
        page.locator("#rs-overwrite").uncheck()
        dialog.get_by_role("button", name="Restore").click()
        expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
        job = wait_job(rt, int(page.url.rsplit("/", 1)[1]))
        assert job.status == "success" and job.runbook == "restore-postgres", job.reason
        with psycopg.connect(f"postgresql://postgres@127.0.0.1/{restored}") as c:
            assert c.execute("SELECT count(*), sum(id) FROM orders").fetchone() == (250, 250 * 251 // 2)
        assert errors == []
        ctx.close()

        viewer = make_user("viewer")
        ctx = browser.new_context(base_url=jobs_live.url, viewport=DESKTOP)
        login_api(ctx, viewer.email, viewer.password)
        page = ctx.new_page()
        page.goto(f"/backups/{shop.id}")
        expect(page.locator("#bk-title")).to_have_text("shop-db")
        expect(page.locator("#bk-detail button")).to_have_count(0)
        ctx.close()
    finally:
        pg.drop_database(restored)
        pg.drop_database(db_name)


def test_the_dashboard_shows_each_backups_last_success_and_flags_the_failed_and_the_overdue(
        browser, jobs_live, jobs_runtime, make_user, tmp_path):
    """Three backups that ran (or did not) for real: one succeeded, one failed (its database does not
    exist), one hourly backup has not succeeded in the 2 hours since it was added (no controller ran)."""
    rt = jobs_runtime
    db_name = pg.create_database("jarvis_dashbk")
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1/{db_name}", autocommit=True) as c:
            c.execute("CREATE TABLE t AS SELECT generate_series(1, 10) AS id")
        repo = _repository(rt, tmp_path)
        src = manifest_with_backups(rt, f"""\
  - {{name: shop-db, runbook: backup-postgres, schedule: "@daily", with: {{database: {db_name}, repository: {repo}}}}}
  - {{name: crm-db, runbook: backup-postgres, schedule: "15 */6 * * *", with: {{database: jarvis_no_such_db, repository: {repo}}}}}
  - {{name: hourly-db, runbook: backup-postgres, schedule: "@hourly", with: {{database: {db_name}, repository: {repo}}}}}
""")
        sched = BackupScheduler(rt, JobsService.of(rt), lambda: True)
        sched.tick()
        with rt.db.session() as s:
            s.execute(update(BackupSchedule).where(BackupSchedule.source_id == src,
                                                   BackupSchedule.name.in_(("shop-db", "crm-db")))
                      .values(next_run_at=utcnow() - dt.timedelta(minutes=5)))
            s.execute(update(BackupSchedule).where(BackupSchedule.source_id == src, BackupSchedule.name == "hourly-db")
                      .values(created_at=utcnow() - dt.timedelta(hours=2),
                              next_run_at=utcnow() + dt.timedelta(hours=1)))
        for job_id in sched.tick():
            wait_job(rt, job_id)
        rows = _rows(rt, src)
        assert rows["shop-db"].last_status == "success" and rows["crm-db"].last_status == "error"
        assert rows["hourly-db"].last_status == "never"

        viewer = make_user("viewer")
        ctx = browser.new_context(base_url=jobs_live.url, viewport=DESKTOP)
        login_api(ctx, viewer.email, viewer.password)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto("/dashboard")
        expect(page.locator("#dash-updated")).to_contain_text("Updated")
        card = page.locator("#bk-body")
        shop, crm, hourly = (card.locator(f'tr[data-backup="{rows[n].id}"]') for n in ("shop-db", "crm-db", "hourly-db"))
        expect(shop.locator("[data-status]")).to_have_text("ok")
        expect(shop.locator("td").nth(1)).not_to_have_text("never")
        expect(shop).not_to_have_class(re.compile(r"\balerting\b"))
        expect(shop).to_contain_text("@daily")
        expect(crm.locator("[data-status]")).to_have_text("failed")
        expect(crm).to_have_class(re.compile(r"\balerting\b"))
        expect(crm).to_contain_text("jarvis_no_such_db")
        expect(crm.locator('a[href^="/incidents/"]')).to_be_visible()
        expect(hourly.locator("[data-status]")).to_have_text("overdue")
        expect(hourly.locator("td").nth(1)).to_have_text("never")
        expect(hourly.locator(".alert-reason")).to_contain_text("no success since it was added 2 h ago")
        expect(hourly.locator(".alert-reason")).to_contain_text("allows 1.5 h")
        expect(page.locator('#bk-h + a[href="/backups"]')).to_be_visible()
        api = page.request.get("/api/dashboard").json()
        listed = {b["id"]: b for b in api["backups"]}
        assert listed[rows["hourly-db"].id]["overdue"] and not listed[rows["shop-db"].id]["overdue"]
        for label, size in (("1440", DESKTOP), ("390", PHONE)):
            page.set_viewport_size(size)
            # other tests' backups share the database and the card: the row is scrolled to, not the heading
            crm.scroll_into_view_if_needed()
            expect(crm).to_be_in_viewport()
            shoot(page, f"dashboard-backups-{label}")
        shop.locator("a").first.click()
        expect(page).to_have_url(re.compile(rf"/backups/{rows['shop-db'].id}$"))
        expect(page.locator("#bk-title")).to_have_text("shop-db")
        assert errors == []
        ctx.close()
    finally:
        pg.drop_database(db_name)
