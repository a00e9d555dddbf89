"""Credentials are write-only, sealed with AES-256-GCM, and keys rotate under concurrent reads."""

from __future__ import annotations

import threading

from sqlalchemy import text

from controller import connections
from controller.store.models import Connection

SECRET = "cf-token-THIS-IS-PLAINTEXT-1234567890"


def test_credentials_are_write_only_and_encrypted_at_rest(client, admin, runtime):
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": "cf-main", "type": "cloudflare", "environment": "prod",
                          "config": {"base_url": "http://127.0.0.1:1"}, "credentials": {"api_token": SECRET}})
    assert r.status_code == 201, r.text
    assert SECRET not in r.text
    assert r.json()["credential_hints"]["api_token"].startswith("••••")
    listing = client.get("/api/connections", headers=admin.headers).text
    assert SECRET not in listing
    with runtime.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT * FROM connections WHERE name='cf-main'")).one()
    assert SECRET.encode() not in bytes(raw.credentials)
    assert SECRET not in repr(raw)
    with runtime.db.session() as db:
        row = connections.by_name(db, "cf-main")
        assert connections.open_credentials(runtime.secrets, row) == {"api_token": SECRET}
    dup = client.post("/api/connections", headers=admin.headers,
                      json={"name": "cf-main", "type": "cloudflare", "credentials": {"api_token": "other-token"}})
    assert dup.status_code == 409


def test_ciphertext_moved_to_another_row_does_not_decrypt(client, admin, runtime):
    import pytest
    from cryptography.exceptions import InvalidTag

    for name in ("row-a", "row-b"):
        client.post("/api/connections", headers=admin.headers,
                    json={"name": name, "type": "ssh", "credentials": {"private_key": "k" * 40}})
    with runtime.db.session() as db:
        a, b = connections.by_name(db, "row-a"), connections.by_name(db, "row-b")
        b.credentials = a.credentials
        with pytest.raises(InvalidTag):
            connections.open_credentials(runtime.secrets, b)
        db.rollback()


def test_update_merges_credentials(client, admin, runtime):
    c = client.post("/api/connections", headers=admin.headers,
                    json={"name": "dk", "type": "docker", "config": {"base_url": "tcp://10.0.0.2:2376"},
                          "credentials": {"tls_ca": "a" * 30, "ssh_key": "b" * 30}}).json()
    r = client.patch(f"/api/connections/{c['id']}", headers=admin.headers,
                     json={"credentials": {"tls_ca": "c" * 30, "ssh_key": None}})
    assert r.status_code == 200 and set(r.json()["credential_hints"]) == {"tls_ca"}
    with runtime.db.session() as db:
        assert connections.open_credentials(runtime.secrets, db.get(Connection, c["id"])) == {"tls_ca": "c" * 30}


def test_test_endpoint_answers_honestly_without_a_checker(client, operator, admin):
    c = client.post("/api/connections", headers=admin.headers,
                    json={"name": "gh-nocheck", "type": "github", "credentials": {"token": "t" * 30}}).json()
    r = client.post(f"/api/connections/{c['id']}/test", headers=operator.headers)
    assert r.status_code == 200 and r.json()["ok"] is False and "github" in r.json()["message"]


def test_key_rotation_under_concurrent_reads(runtime, admin):
    with runtime.db.session() as db:
        for i in range(30):
            connections.create(db, runtime.secrets, name=f"rot-{i}", type="ssh", environment="", config={},
                               credentials={"private_key": f"secret-{i}-" + "x" * 20}, created_by="t")
    errors, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with runtime.db.session() as db:
                    for i in range(30):
                        row = connections.by_name(db, f"rot-{i}")
                        assert connections.open_credentials(runtime.secrets, row)["private_key"].startswith(f"secret-{i}-")
            except Exception as exc:  # collected and asserted below
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        old = runtime.keyring.active
        new = runtime.keyring.rotate()
        n, _ = connections.reencrypt_all(runtime.db, runtime.secrets)   # rows of other tests' keyrings are skipped
    finally:
        stop.set()     # the readers stop even when rotation fails, or pytest would never exit
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert new != old and n >= 30
    with runtime.db.session() as db:
        assert {r.key_id for r in db.query(Connection).filter(Connection.name.like("rot-%"))} == {new}
