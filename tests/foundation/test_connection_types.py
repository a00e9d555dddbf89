"""Connection types are declared once, with JSON Schemas for config and credentials: the API serves
them, creating and changing a connection is checked against them (a 422 naming the key and where it
belongs), and a reconciler brings its own type with it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from controller import connection_types, connections

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "cf-token-never-echoed-0123456789"


def _post(client, admin, **body):
    return client.post("/api/connections", headers=admin.headers, json={"environment": "test", **body})


def test_each_type_serves_its_config_and_credential_schemas(client, viewer):
    r = client.get("/api/connection-types", headers=viewer.headers)
    assert r.status_code == 200
    types = {t["name"]: t for t in r.json()}
    assert {"docker", "cloudflare", "github", "ssh"} <= set(types)
    docker = types["docker"]
    assert docker["config_schema"]["required"] == ["base_url"]
    base_url = docker["config_schema"]["properties"]["base_url"]
    assert base_url["description"] and "unix:///var/run/docker.sock" in base_url["examples"]
    assert all(p["writeOnly"] for p in docker["credentials_schema"]["properties"].values())
    assert types["cloudflare"]["credentials_schema"]["required"] == ["api_token"]


def test_a_key_in_the_wrong_half_is_refused_saying_where_it_belongs(client, admin):
    r = _post(client, admin, name="cf-misplaced", type="cloudflare", config={"api_token": TOKEN})
    assert r.status_code == 422, r.text
    assert "api_token belongs in credentials, not config" in r.json()["detail"]
    assert {"field": "config.api_token", "message": "api_token belongs in credentials, not config"} in r.json()["errors"]
    assert TOKEN not in r.text                       # a misplaced secret is never echoed
    r = _post(client, admin, name="dk-misplaced", type="docker", config={"base_url": "tcp://10.0.0.2:2376"},
              credentials={"base_url": "tcp://10.0.0.3:2376"})
    assert r.status_code == 422 and "base_url belongs in config, not credentials" in r.json()["detail"]


def test_missing_and_unknown_keys_are_named(client, admin):
    r = _post(client, admin, name="dk-no-address", type="docker", config={})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "config.base_url" and "required" in r.json()["detail"]
    r = _post(client, admin, name="dk-typo", type="docker", config={"base_url": "tcp://10.0.0.2:2376", "baseurl": "x"})
    assert r.status_code == 422
    assert "baseurl is not a docker config key" in r.json()["detail"] and "base_url" in r.json()["detail"]
    r = _post(client, admin, name="dk-bad-url", type="docker", config={"base_url": "10.0.0.2:2376"})
    assert r.status_code == 422 and "tcp://10.0.0.2:2376" in r.json()["detail"]      # an example of the right form
    r = _post(client, admin, name="dk-half-tls", type="docker", config={"base_url": "tcp://10.0.0.2:2376"},
              credentials={"tls_cert": "-----BEGIN CERTIFICATE-----"})
    assert r.status_code == 422 and "tls_cert needs tls_key" in r.json()["detail"]
    r = _post(client, admin, name="ln", type="linode")
    assert r.status_code == 422 and "unknown connection type 'linode'" in r.json()["detail"]
    assert "docker" in r.json()["detail"]            # and which types there are


def test_patch_is_checked_and_a_refused_patch_changes_nothing(client, admin, runtime):
    c = _post(client, admin, name="cf-patched", type="cloudflare", credentials={"api_token": TOKEN}).json()
    r = client.patch(f"/api/connections/{c['id']}", headers=admin.headers, json={"credentials": {"api_token": None}})
    assert r.status_code == 422 and "api_token is required in credentials" in r.json()["detail"]
    r = client.patch(f"/api/connections/{c['id']}", headers=admin.headers, json={"config": {"zone": "example.com"}})
    assert r.status_code == 422 and "zone is not a cloudflare config key" in r.json()["detail"]
    with runtime.db.session() as db:
        row = connections.by_name(db, "cf-patched")
        assert row.config == {} and connections.open_credentials(runtime.secrets, row) == {"api_token": TOKEN}
    r = client.patch(f"/api/connections/{c['id']}", headers=admin.headers,
                     json={"config": {"base_url": "http://127.0.0.1:9"}})
    assert r.status_code == 200 and r.json()["config"] == {"base_url": "http://127.0.0.1:9"}


def test_a_reconciler_brings_its_connection_type(client, viewer, admin, filestore_registered, tmp_path):
    types = {t["name"]: t for t in client.get("/api/connection-types", headers=viewer.headers).json()}
    assert types["filestore"]["config_schema"]["required"] == ["root"]
    r = _post(client, admin, name="fs-typed", type="filestore", config={"root": str(tmp_path)})
    assert r.status_code == 201, r.text


def test_readme_connection_reference_is_generated_from_the_schemas():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- connection-types:start -->\n(.*?)<!-- connection-types:end -->", readme, re.S)
    assert found, "README.md has no connection reference between the connection-types markers"
    expected = connection_types.reference_markdown(connection_types.installed())
    assert found.group(1) == expected, "README's connection reference is stale: run `jarvis connection-types`"
    out = subprocess.run([sys.executable, "-m", "api.cli", "connection-types"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert out == expected


def test_every_key_of_every_type_says_what_it_is():
    for t in connection_types.installed().values():
        for part in connection_types.PARTS:
            schema = t.schema(part)
            assert schema["type"] == "object" and schema["additionalProperties"] is False, (t.name, part)
            for key, prop in schema["properties"].items():
                assert prop.get("title") and prop.get("description"), f"{t.name} {part}.{key}"
                assert (part == "credentials") == bool(prop.get("writeOnly")), f"{t.name} {part}.{key}"
