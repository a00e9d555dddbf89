"""Manifests are checked again, at once, when a connection they name is created, renamed, deleted or
changed (issue 11 item 15, issue 10 §2): `GET /api/sources/{id}/manifests` tells the truth right after
the connection call, and the version in force after a later invalid edit is the last valid one.

The connections are written through the API; the syncs run on the same runtime (PostgreSQL) against
real git repositories, with no controller running: nothing but the connection call re-checks."""

from __future__ import annotations

from sqlalchemy import select

from controller.store.models import DriftItem, Manifest, PlanRow, Source
from tests.gitops.conftest import World

BROKEN = "apiVersion: jarvis/v1\nname: [unclosed\n"


def manifests(client, who, w: World) -> dict:
    r = client.get(f"/api/sources/{w.source_id}/manifests", headers=who.headers)
    assert r.status_code == 200, r.text
    (m,) = r.json()
    return m


def naming(w: World, conn: str, stacks: dict) -> str:
    return w.manifest(stacks).replace(f"filestore: {w.conn_name}}}", f"filestore: {conn}}}")


def sync_requested(w: World) -> str | None:
    with w.rt.db.session() as s:
        src = s.get(Source, w.source_id)
        return src.sync_reason if src.sync_requested_at is not None else None


def clear_request(w: World) -> None:
    with w.rt.db.session() as s:
        s.get(Source, w.source_id).sync_requested_at = None


def create(client, admin, w: World, name: str) -> int:
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": name, "type": "filestore", "environment": "test", "config": {"root": str(w.live)}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_adding_the_missing_connection_makes_the_manifest_valid_at_once(client, admin, viewer, runtime, tmp_path, filestore_registered):
    w = World(runtime, tmp_path)
    missing = f"later-{w.conn_name}"
    first = w.push(text=naming(w, missing, {"web": {}}), message="names a connection not made yet")
    assert w.sync().error == ""
    second = w.push(text=naming(w, missing, {"web": {}, "api": {}}), message="still the same connection")
    assert w.sync().error == ""
    m = manifests(client, viewer, w)
    assert not m["valid"] and f"unknown connection {missing!r}" in " ".join(m["errors"])
    assert m["in_force_revision"] is None
    clear_request(w)

    create(client, admin, w, missing)
    m = manifests(client, viewer, w)       # no sync in between: the re-check was stored with the connection
    assert m["valid"] and m["errors"] == [] and m["in_force_revision"] == second and m["name"] == "app"
    assert sync_requested(w) == "connection"          # and the source syncs now, not at the drift timer
    with runtime.db.session() as s:                    # the earlier revision is valid too
        assert s.scalar(select(Manifest.valid).where(Manifest.source_id == w.source_id,
                                                     Manifest.revision == first)) is True

    bad = w.push(text=BROKEN, message="invalid edit")
    assert w.sync().error == ""
    m = manifests(client, viewer, w)
    assert m["revision"] == bad and not m["valid"] and m["in_force_revision"] == second
    with runtime.db.session() as s:
        errors = [d.error for d in s.scalars(select(DriftItem).where(DriftItem.source_id == w.source_id))]
        plan = s.scalar(select(PlanRow).where(PlanRow.source_id == w.source_id, PlanRow.status == "pending"))
    assert not any("no earlier valid version" in e for e in errors), errors
    assert plan is not None and plan.revision == second and {c["resource"] for c in plan.changes} == {"stack/api", "stack/web"}


def test_delete_and_rename_recheck_every_revision_without_a_sync(client, admin, viewer, runtime, tmp_path, filestore_registered):
    """A names the fixture's connection P, B names Q. Deleting Q makes B invalid with A in force;
    renaming P away leaves nothing valid; renaming it back and creating Q again restores B."""
    w = World(runtime, tmp_path)
    q = f"q{w.source_id}-{tmp_path.name[-12:]}"     # a name that does not contain P's
    q_id = create(client, admin, w, q)
    a = w.push({"web": {}}, message="A on P")
    assert w.sync().error == ""
    b = w.push(text=naming(w, q, {"web": {}, "api": {}}), message="B on Q")
    assert w.sync().error == ""
    m = manifests(client, viewer, w)
    assert m["valid"] and m["in_force_revision"] == b
    clear_request(w)

    assert client.delete(f"/api/connections/{q_id}", headers=admin.headers).status_code == 204
    m = manifests(client, viewer, w)
    assert not m["valid"] and f"unknown connection {q!r}" in " ".join(m["errors"])
    assert m["in_force_revision"] == a                # the last valid version in commit order
    assert sync_requested(w) == "connection"

    p = client.get("/api/connections", headers=admin.headers, params={"type": "filestore"}).json()
    (p_conn,) = [c for c in p if c["name"] == w.conn_name]
    moved = f"moved-{w.conn_name}"
    r = client.patch(f"/api/connections/{p_conn['id']}", headers=admin.headers, json={"name": moved})
    assert r.status_code == 200, r.text
    m = manifests(client, viewer, w)
    assert not m["valid"] and m["in_force_revision"] is None      # A is no longer valid either
    with runtime.db.session() as s:
        row_a = s.scalar(select(Manifest).where(Manifest.source_id == w.source_id, Manifest.revision == a))
        assert not row_a.valid and f"unknown connection {w.conn_name!r}" in " ".join(row_a.errors)

    r = client.patch(f"/api/connections/{p_conn['id']}", headers=admin.headers, json={"name": w.conn_name})
    assert r.status_code == 200, r.text
    assert manifests(client, viewer, w)["in_force_revision"] == a
    create(client, admin, w, q)
    m = manifests(client, viewer, w)
    assert m["valid"] and m["errors"] == [] and m["in_force_revision"] == b

    # a changed environment (or address) leaves validity as it is and re-syncs the sources naming it
    clear_request(w)
    r = client.patch(f"/api/connections/{p_conn['id']}", headers=admin.headers, json={"environment": "staging"})
    assert r.status_code == 200
    assert sync_requested(w) is None                  # the head (B) does not name P
    r = client.get("/api/connections", headers=admin.headers, params={"type": "filestore"}).json()
    (q_conn,) = [c for c in r if c["name"] == q]
    assert client.patch(f"/api/connections/{q_conn['id']}", headers=admin.headers,
                        json={"environment": "staging"}).status_code == 200
    assert sync_requested(w) == "connection"
    assert manifests(client, viewer, w)["in_force_revision"] == b


def test_a_changed_credential_key_rechecks_the_references_to_it(client, admin, viewer, runtime, tmp_path,
                                                                filestore_registered):
    """`from: connection:NAME/KEY` is checked against the connection's credential keys: adding the key
    makes the manifest valid at once, removing it makes it invalid again, without a sync."""
    w = World(runtime, tmp_path)
    repo = f"restic-{w.conn_name}"
    r = client.post("/api/connections", headers=admin.headers, json={
        "name": repo, "type": "backup-repository", "environment": "test",
        "config": {"repository": str(tmp_path / "restic")}, "credentials": {"password": "restic-password-1"}})
    assert r.status_code == 201, r.text
    repo_id = r.json()["id"]
    # secrets deploy through a Docker engine: one at an address where none listens (nothing is touched)
    dock = f"dock-{w.conn_name}"
    r = client.post("/api/connections", headers=admin.headers, json={
        "name": dock, "type": "docker", "environment": "test",
        "config": {"base_url": f"unix://{tmp_path}/no-engine.sock"}})
    assert r.status_code == 201, r.text
    ref = f'secrets:\n  deploy_key: {{from: "connection:{repo}/ssh_private_key"}}\n'
    text = w.manifest({"web": {}}, extra=ref).replace(f"{{filestore: {w.conn_name}}}", f"{{filestore: {w.conn_name}, swarm: {dock}}}")
    head = w.push(text=text, message="a secret from a key not stored yet")
    assert w.sync().error == ""
    m = manifests(client, viewer, w)
    assert not m["valid"] and f"connection {repo!r} has no credential 'ssh_private_key'" in " ".join(m["errors"])
    clear_request(w)

    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n"
    r = client.patch(f"/api/connections/{repo_id}", headers=admin.headers, json={"credentials": {"ssh_private_key": key}})
    assert r.status_code == 200, r.text
    m = manifests(client, viewer, w)
    assert m["valid"] and m["errors"] == [] and m["in_force_revision"] == head, m["errors"]
    assert sync_requested(w) == "connection"

    r = client.patch(f"/api/connections/{repo_id}", headers=admin.headers, json={"credentials": {"ssh_private_key": None}})
    assert r.status_code == 200, r.text
    m = manifests(client, viewer, w)
    assert not m["valid"] and m["in_force_revision"] is None
    assert f"connection {repo!r} has no credential 'ssh_private_key'" in " ".join(m["errors"])
