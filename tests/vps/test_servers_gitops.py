"""`servers:` end to end through the GitOps path against the Hetzner emulator's real servers:
commit → plan → approve (HTTP) → apply job → a server created, its host key pinned, hardened over
SSH; bad input refused per server while the others converge; a hand edit found by the drift
check as differences naming the file or rule, healed by `auto`; a changed host key refused."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from fastapi.testclient import TestClient
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType

from api.app import create_app
from controller import connections
from controller.accounts import users
from controller.store.models import Source
from reconcilers.vps import hostkeys
from tests.gitops.conftest import git_rt  # noqa: F401  (the runtime with a worker)
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job
from tests.support.tokens import bearer_token
from tests.vps.test_hetzner_emulator import client, ssh

pytestmark = pytest.mark.docker


def _headers(rt, role: str) -> dict[str, str]:
    with rt.db.session() as db:
        uid = users.create(db, f"{role}-{uuid.uuid4().hex[:6]}@example.test", "vps-password-1", role).id
    return {"Authorization": f"Bearer {bearer_token(rt, uid, role)}"}


def _manifest(conn: str, policy: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: fleet
        policy: {{sync: {policy}, prune: false}}
        connections: {{servers: {conn}}}
        servers:
          - {{name: web-1, type: cx22, image: debian-12, location: fsn1, roles: [swarm-worker],
              labels: {{team: web}}, hardening: {{ssh: strict, firewall: [22, 80], fail2ban: true}}}}
          - {{name: odd-type, type: cx999, image: debian-12, location: fsn1}}
          - {{name: nowhere, type: cx22, image: debian-12, location: mars1}}
          - {{name: taken-1, type: cx22, image: debian-12, location: fsn1}}
          - {{name: no-ssh, type: cx22, image: debian-12, hardening: {{firewall: [80, 443]}}}}
        """)


@pytest.mark.timeout(900)   # five drift checks and two hardening runs over SSH on a 2-CPU machine
def test_servers_plan_apply_harden_drift_heal_and_a_changed_host_key(git_rt, hetzner, keypair, tmp_path):  # noqa: F811
    rt = git_rt
    hc = client(hetzner)
    foreign = hc.servers.create(name="taken-1", server_type=ServerType(name="cx22"), image=Image(name="debian-12"),
                                location=Location(name="fsn1"))   # someone else's server, no Jarvis labels
    foreign.action.wait_until_finished()
    repo = tmp_path / "repo"
    make_repo(repo)
    conn = f"hz-{uuid.uuid4().hex[:6]}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=conn, type="hetzner", environment="test",
                           config={"base_url": hetzner.base_url},
                           credentials={"api_token": "hetzner-test-token",
                                        "private_key": keypair.private_path.read_text()}, created_by="test")
        src = Source(name=f"fleet-{uuid.uuid4().hex[:6]}", url=str(repo), branch="main", paths=["**/orch.yaml"],
                     poll_interval=60)
        db.add(src)
        db.flush()
        source_id = src.id
    from controller.gitops.loop import sync_source

    commit(repo, {"fleet/orch.yaml": _manifest(conn, "manual")}, "three servers")
    res = sync_source(rt, source_id, "test")
    assert res.error == "" and len(res.plan_ids) == 1 and not res.job_ids, res
    with TestClient(create_app(rt, background=False)) as c:
        viewer, operator = _headers(rt, "viewer"), _headers(rt, "operator")
        plan = c.get(f"/api/plans/{res.plan_ids[0]}", headers=viewer).json()
        assert plan["kind"] == "vps" and [ch["resource"] for ch in plan["changes"]] == ["server/web-1"]
        errors = "\n".join(i["error"] for i in c.get("/api/drift", params={"source_id": source_id},
                                                         headers=viewer).json()["items"] if i["status"] == "error")
        assert "server odd-type: type 'cx999' does not exist" in errors
        assert "server nowhere: location 'mars1' does not exist" in errors
        assert "server taken-1: the name is taken by a server Jarvis does not own" in errors
        assert "server no-ssh: hardening.firewall [80, 443] would close port 22" in errors
        r = c.post(f"/api/plans/{plan['id']}/approve", headers=operator, json={"checksum": plan["checksum"]})
        assert r.status_code == 202, r.text
        job = wait_job(rt, r.json()["job_id"], timeout=280)
        assert job.status == "success", job.reason

        (web,) = hc.servers.get_all(label_selector="jarvis-managed=true")
        ip = web.public_net.ipv4.ip
        assert web.labels["team"] == "web" and web.labels[hostkeys.LABEL] == hostkeys.scan(ip).pin   # pinned
        assert hc.servers.get_by_name("taken-1").labels == {}                                         # untouched
        effective = ssh(ip, keypair, "/usr/sbin/sshd -T").stdout
        assert "passwordauthentication no" in effective
        assert "tcp dport { 22, 80 } accept" in ssh(ip, keypair, "nft list table inet jarvis").stdout

        again = sync_source(rt, source_id, "drift")   # the drift timer's observation: compliant
        assert again.error == "" and not again.plan_ids, again
        items = c.get("/api/drift", params={"source_id": source_id}, headers=viewer).json()["items"]
        assert {i["resource"]: i["status"] for i in items if i["resource"]} == {"server/web-1": "in_sync"}

        # a hand edit on the server: the drift check names each file and rule
        assert ssh(ip, keypair, "echo 'PasswordAuthentication yes' >> /etc/ssh/sshd_config; "
                                "nft add rule inet jarvis input tcp dport 8080 accept; "
                                "fail2ban-client stop").returncode == 0
        drifted = sync_source(rt, source_id, "drift")
        assert drifted.error == "" and len(drifted.plan_ids) == 1, drifted
        (item,) = [i for i in c.get("/api/drift", params={"source_id": source_id}, headers=viewer).json()["items"]
                   if i["resource"] == "server/web-1"]
        assert item["status"] == "pending" and item["action"] == "update"
        fields = {f["path"]: f["before"] for f in item["fields"]}
        assert any("/etc/ssh/sshd_config" in p for p in fields), fields
        assert "hand edit: PasswordAuthentication yes" in str(fields)
        assert any("nftables table inet jarvis" in p for p in fields) and "8080" in str(fields)
        assert any("fail2ban jail sshd" in p for p in fields), fields

        # `auto` heals it
        commit(repo, {"fleet/orch.yaml": _manifest(conn, "auto")}, "auto")
        healing = sync_source(rt, source_id, "test")
        assert len(healing.job_ids) == 1, healing
        assert wait_job(rt, healing.job_ids[0], timeout=280).status == "success"
        assert "passwordauthentication no" in ssh(ip, keypair, "/usr/sbin/sshd -T").stdout
        assert "8080" not in ssh(ip, keypair, "nft list table inet jarvis").stdout
        assert "Currently banned" in ssh(ip, keypair, "fail2ban-client status sshd").stdout
        healed = sync_source(rt, source_id, "drift")
        assert not healed.plan_ids and not healed.job_ids, healed

        # a changed host key (the pin no longer matches what the server offers) is refused, nothing planned
        other = tmp_path / "other"
        import subprocess
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
        fake = hostkeys.HostKey(f"{ip} " + " ".join((tmp_path / "other.pub").read_text().split()[:2]))
        web = hc.servers.get_by_id(web.id)
        hc.servers.update(web, labels={**web.labels, hostkeys.LABEL: fake.pin})
        refused = sync_source(rt, source_id, "drift")
        assert not refused.plan_ids and not refused.job_ids, refused
        errors = [i["error"] for i in c.get("/api/drift", params={"source_id": source_id}, headers=viewer).json()["items"]
                  if i["status"] == "error"]
        assert any(f"{ip}: host key changed" in e and "refused" in e and fake.fingerprint in e for e in errors), errors
