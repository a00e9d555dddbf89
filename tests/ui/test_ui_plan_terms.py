"""The plan and drift views speak orch.yaml: a Swarm plan made against the real engine shows
`services.<name>.update.delay` with `10s`, and the engine's own fields (`UpdateConfig.Delay`,
10000000000) only when the operator opens "Engine spec". Screenshots at 1440x900 and 390x844."""

from __future__ import annotations

import textwrap
import uuid

import docker
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from controller import connections
from controller.gitops.loop import sync_source
from controller.store.models import PlanRow, Source
from tests.support.gitserver import commit, make_repo
from tests.ui.conftest import PHONE, shoot


@pytest.fixture
def swarm_plan(jobs_runtime, tmp_path):
    """A pending Swarm plan creating one service (manual policy), observed on this host's engine."""
    rt, suffix = jobs_runtime, uuid.uuid4().hex[:6]
    conn, svc, source = f"swarm-ui-{suffix}", f"web{suffix}", f"ui-terms-{suffix}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=conn, type="docker", environment="test",
                           config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"shop/orch.yaml": textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: shop{suffix}
        policy: {{sync: manual}}
        connections: {{swarm: {conn}}}
        services:
          {svc}:
            image: jarvis-test/sleep:1
            replicas: 2
            env: {{SHOP_MODE: preview}}
            ports: ["18080:80"]
            update: {{delay: 10s, order: start-first, failure_action: rollback}}
            resources: {{limits: {{memory: 256M, cpus: 0.5}}}}
        """)}, "shop")
    with rt.db.session() as db:
        src = Source(name=source, url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id
    assert sync_source(rt, sid, "test").error == ""
    with rt.db.session() as db:
        plan_id = db.scalar(select(PlanRow.id).where(PlanRow.source_id == sid, PlanRow.status == "pending"))
    yield {"id": plan_id, "svc": svc}
    with rt.db.session() as db:
        for s in db.scalars(select(Source).where(Source.name == source)):
            db.delete(s)
        db.delete(connections.by_name(db, conn))
    client = docker.from_env()
    assert not client.api.services(filters={"name": svc})   # never applied: nothing to clean on the engine
    client.close()


def test_the_plan_view_shows_orch_yaml_terms_first_and_the_engine_spec_on_demand(jobs_page, swarm_plan):
    page, svc = jobs_page, swarm_plan["svc"]
    page.goto(f"/gitops#plan-{swarm_plan['id']}")
    box = page.locator(f"#changes-{swarm_plan['id']}")
    expect(box.locator(".change")).to_have_count(1)
    terms = box.locator("table.diff").first
    delay = terms.locator("tr", has_text=f"services.{svc}.update.delay")
    expect(delay.locator("td.after")).to_have_text("10s")
    expect(terms.locator("tr", has_text=f"services.{svc}.replicas").locator("td.after")).to_have_text("2")
    expect(terms.locator("tr", has_text=f"services.{svc}.resources.limits.memory").locator("td.after")).to_have_text("256M")
    expect(terms.locator("tr", has_text=f"services.{svc}.env.SHOP_MODE").locator("td.after")).to_have_text("preview")
    expect(terms).not_to_contain_text("10000000000")
    expect(terms).not_to_contain_text("jarvis.managed")
    engine = box.locator("details.engine-spec")
    expect(engine.get_by_text("UpdateConfig.Delay")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "gitops-plan-terms-1440")
    engine.locator("summary").click()
    expect(engine.locator("tr", has_text="UpdateConfig.Delay").locator("td.after")).to_have_text("10000000000")
    expect(engine.locator("pre.spec")).to_contain_text('"Delay": 10000000000')
    engine.locator("summary").scroll_into_view_if_needed()
    shoot(page, "gitops-plan-engine-1440")
    engine.locator("summary").click()

    page.set_viewport_size(PHONE)
    delay.scroll_into_view_if_needed()
    expect(delay).to_be_in_viewport()
    shoot(page, "gitops-plan-terms-390")

    # the drift view says the same fields the same way
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("tab", name="Drift").click()
    item = page.locator("details.drift", has_text=f"service/{svc}")
    item.locator("> summary").click()
    expect(item.locator("table.diff").first.locator("tr", has_text=f"services.{svc}.update.delay")
           .locator("td.after")).to_have_text("10s")
    shoot(page, "gitops-drift-terms-1440")
