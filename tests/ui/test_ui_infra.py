"""The Infra page in a real browser: servers of hetzner connections grouped by connection and
location, with provider status, address, hardening state and drift, the pinned host key, the
plan that waits and the jobs that ran on each; a server's panel; a declared server in error; the
empty state; the phone layout. The stored observations are the VPS kind's own summary of a live
state (`VpsReconciler.summarise`), so the page reads exactly what a sync stores."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from controller import connections
from controller.contract import LiveState, Scope
from controller.store.models import DriftItem, Job, JobStep, Source, TargetStatus
from reconcilers.vps import VpsReconciler, hostkeys
from reconcilers.vps.servers import live_server, ownership_labels
from tests.ui.conftest import DESKTOP, PHONE, shoot

SCOPE = Scope(source="fleet", manifest="fleet/orch.yaml")
PIN = hostkeys.HostKey("10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPcUbW6ax0kJ7tKkd6VtGzq3O3a4j3YkzBAv2Fh3ZxLH").pin
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _server(sid: int, name: str, location: str, ip: str, *, type_: str = "cx22", status: str = "running", pin=True):
    return live_server({"id": sid, "name": name, "status": status, "server_type": {"name": type_},
                        "image": {"name": "debian-12"}, "location": {"name": location},
                        "labels": {**ownership_labels(SCOPE), **({hostkeys.LABEL: PIN} if pin else {})},
                        "protection": {"delete": name == "db-1"}, "public_net": {"ipv4": {"ip": ip}}}, SCOPE)


def _observed(rt) -> dict[str, int]:
    """Two hetzner connections: `hz-main` with three servers in two locations (one drifted, one with a
    plan waiting and a job), `hz-edge` with one server and a declared one that could not be created."""
    checked = NOW.isoformat()
    fleets = {
        "hz-main": ([_server(11, "web-1", "fsn1", "10.213.0.11"), _server(12, "web-2", "fsn1", "10.213.0.12"),
                     _server(13, "db-1", "nbg1", "10.213.0.13", type_="cx32")],
                    {"web-1": {"state": "compliant", "drift": {}, "checked_at": checked},
                     "web-2": {"state": "drifted", "checked_at": checked,
                               "drift": {"/etc/ssh/sshd_config": "hand edit: PasswordAuthentication yes",
                                         "nftables table inet jarvis": "tcp dport 8080 accept (not in the policy)"}},
                     "db-1": {"state": "compliant", "drift": {}, "checked_at": checked}}, []),
        "hz-edge": ([_server(21, "edge-1", "hel1", "10.213.1.11", pin=False)], {},
                    ["server odd-type: type 'cx999' does not exist (known: ccx13, cx22, cx32, cx42)"]),
    }
    ids = {}
    with rt.db.session() as db:
        src = Source(name="fleet", url="/srv/fleet", branch="main")
        db.add(src)
        db.flush()
        for conn, (servers, checks, errors) in fleets.items():
            connections.create(db, rt.secrets, name=conn, type="hetzner", environment="prod",
                               config={"base_url": "http://127.0.0.1:9/v1"},
                               credentials={"api_token": "t", "private_key": "k"}, created_by="t")
            live = LiveState(resources=tuple(servers), errors=tuple(errors), health={"checks": checks})
            summary = VpsReconciler().summarise(live).to_dict()
            target = f"vps:{conn}"
            db.add(TargetStatus(target=target, kind="vps", connection=conn, health={}, errors=list(errors),
                                summary=summary, observed_at=NOW))
            for s in servers:
                status = "pending" if s.name == "web-2" else "in_sync"
                db.add(DriftItem(source_id=src.id, manifest_path="fleet/orch.yaml", target=target, resource=s.key,
                                 status=status, action="update" if status == "pending" else "", plan_id=None))
        db.add(DriftItem(source_id=src.id, manifest_path="fleet/orch.yaml", target="vps:hz-edge",
                         resource="server/odd-type", status="error", error=fleets["hz-edge"][2][0]))
        job = Job(runbook="apply:vps", title="Apply fleet → vps:hz-main", status="success", connection="hz-main")
        db.add(job)
        db.flush()
        db.add(JobStep(job_id=job.id, position=0, step_name="server web-2: update and harden", resource="server/web-2",
                       status="success"))
        item = db.query(DriftItem).filter_by(target="vps:hz-main", resource="server/web-2").one()
        item.plan_id = 4242
        ids["job"] = job.id
    return ids


def test_the_infra_page_shows_servers_by_connection_and_location_and_a_servers_panel(fresh_site):
    rt, signed_in = fresh_site
    page = signed_in("viewer")
    page.goto("/infra")
    expect(page.locator("#inf-body")).to_contain_text("No server yet")
    shoot(page, "infra-empty-1440")
    ids = _observed(rt)
    page.reload()

    main = page.locator('section.inf-conn[data-connection="hz-main"]')
    expect(main.locator(".inf-loc")).to_have_count(2)
    expect(main.locator('.inf-loc[data-location="fsn1"] tr.inf-row')).to_have_count(2)
    expect(main.locator('.inf-loc[data-location="nbg1"] tr.inf-row')).to_have_count(1)
    web2 = main.locator('tr.inf-row[data-server="web-2"]')
    expect(web2).to_contain_text("10.213.0.12")
    expect(web2).to_contain_text("drifted")
    expect(web2).to_contain_text("/etc/ssh/sshd_config")
    expect(web2).to_contain_text("pending update")
    expect(web2.get_by_role("link", name="plan 4242")).to_have_attribute("href", "/gitops#plan-4242")
    expect(web2.get_by_role("link", name=f"job {ids['job']}")).to_have_attribute("href", f"/jobs/{ids['job']}")
    expect(main.locator('tr.inf-row[data-server="web-1"]')).to_contain_text("compliant")
    edge = page.locator('section.inf-conn[data-connection="hz-edge"]')
    expect(edge.locator('tr.inf-row[data-server="odd-type"]')).to_contain_text("type 'cx999' does not exist")
    expect(edge.locator('.inf-loc[data-location="not created"]')).to_contain_text("odd-type")
    expect(edge.locator('tr.inf-row[data-server="edge-1"]')).to_contain_text("unknown")
    expect(page.locator('#inf-targets [data-target="vps:hz-edge"]')).to_contain_text("1 error")
    expect(page.locator('#inf-summary [data-figure="servers"] .metric')).to_have_text("4")
    expect(page.locator('#inf-summary [data-figure="drifted"] .metric')).to_have_text("1")
    expect(page.locator('#inf-summary [data-figure="errors"] .metric')).to_have_text("1")
    shoot(page, "infra-1440")

    web2.click()
    panel = page.locator("#inf-panel")
    expect(panel.get_by_role("heading", name="web-2")).to_be_visible()
    expect(panel.locator("#inf-facts")).to_contain_text(hostkeys.fingerprint_of(PIN))
    expect(panel.locator("#inf-drift")).to_contain_text("hand edit: PasswordAuthentication yes")
    expect(panel.locator("#inf-drift")).to_contain_text("nftables table inet jarvis")
    expect(panel.locator("#inf-jobs")).to_contain_text("Apply fleet → vps:hz-main")
    shoot(page, "infra-panel-1440")
    panel.get_by_role("button", name="Close").click()

    page.get_by_label("Hardening").select_option("drifted")
    expect(page.locator("tr.inf-row")).to_have_count(1)
    page.get_by_label("Hardening").select_option("")
    page.get_by_label("Search", exact=True).fill("nbg1")
    expect(page.locator("tr.inf-row")).to_have_count(1)
    expect(page.locator('tr.inf-row[data-server="db-1"]')).to_be_visible()
    page.get_by_label("Search", exact=True).fill("")

    page.set_viewport_size(PHONE)
    expect(page.locator("tr.inf-row")).to_have_count(5)
    shoot(page, "infra-390")
    page.locator('tr.inf-row[data-server="edge-1"]').click()
    expect(panel.locator("#inf-facts")).to_contain_text("not pinned yet")
    shoot(page, "infra-panel-390")
    page.set_viewport_size(DESKTOP)
    assert page.js_errors == []
