"""The runbook catalog: built-ins load, broken folders are reported, inputs are validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.jobs.catalog import Catalog, load_catalog
from controller.runbooks import BUILTIN_DIR

GOOD = """\
name: {name}
title: A runbook
category: test
role: viewer
timeout: 30
retry: {{max_attempts: 3, on: [interrupted, timeout]}}
concurrency_key: "svc:{{{{ input.service }}}}"
playbook: playbook.yml
input:
  type: object
  required: [service]
  properties:
    service: {{type: string}}
    replicas: {{type: integer, minimum: 0, default: 1}}
    token: {{type: string, writeOnly: true}}
"""


def _runbook(root: Path, folder: str, text: str, playbook: bool = True) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "runbook.yaml").write_text(text)
    if playbook:
        (path / "playbook.yml").write_text("- hosts: localhost\n  tasks: []\n")
    return path


def test_builtin_runbooks_load():
    catalog = load_catalog([BUILTIN_DIR])

    assert catalog.errors == []
    assert {"gather-facts", "backup-postgres", "restore-postgres"} <= set(catalog.runbooks)
    for runbook in catalog:
        assert runbook.source == "builtin"
        assert runbook.playbook_path.is_file()
    backup = catalog.get("backup-postgres")
    assert backup.role == "operator" and backup.retry.on == ["interrupted"]
    assert backup.secret_names() == ["password"]


def test_invalid_runbooks_are_reported_and_the_others_load(tmp_path: Path):
    _runbook(tmp_path, "good", GOOD.format(name="good-one"))
    _runbook(tmp_path, "bad-yaml", "name: x\ntitle: [unclosed\n")
    _runbook(tmp_path, "no-title", "name: no-title\nplaybook: playbook.yml\n")
    _runbook(tmp_path, "bad-schema", "name: bad-schema\ntitle: t\nplaybook: playbook.yml\n"
                                     "input: {type: object, properties: {n: {type: integr}}}\n")
    _runbook(tmp_path, "no-playbook", GOOD.format(name="no-playbook"), playbook=False)
    _runbook(tmp_path, "zz-duplicate", GOOD.format(name="good-one"))
    _runbook(tmp_path, "bad-name", GOOD.format(name="Bad_Name"))

    catalog = load_catalog([tmp_path])

    assert set(catalog.runbooks) == {"good-one"}
    errors = "\n".join(catalog.errors)
    assert len(catalog.errors) == 6, errors
    assert f"{tmp_path / 'bad-yaml' / 'runbook.yaml'}:3:1: invalid YAML: expected ',' or ']'" in errors
    assert f"{tmp_path / 'no-title' / 'runbook.yaml'}: title: Field required" in errors
    assert f"{tmp_path / 'bad-schema' / 'runbook.yaml'}: input: input is not a valid JSON Schema" in errors
    assert f"{tmp_path / 'no-playbook' / 'runbook.yaml'}: playbook: playbook.yml not found" in errors
    assert f"{tmp_path / 'zz-duplicate' / 'runbook.yaml'}: name: duplicate runbook name 'good-one'" in errors
    assert f"{tmp_path / 'bad-name' / 'runbook.yaml'}: name:" in errors


def test_input_validation_reports_every_failing_path(tmp_path: Path):
    _runbook(tmp_path, "scale", GOOD.format(name="scale"))
    catalog = load_catalog([tmp_path])

    assert catalog.validate_input("scale", {"service": "web", "replicas": 2}) == []
    problems = catalog.validate_input("scale", {"replicas": "two", "token": 5})
    assert [p["path"] for p in problems] == ["input.service", "input.replicas", "input.token"]
    assert "required" in problems[0]["message"]
    assert "'two'" in problems[1]["message"]
    # a secret's value is not echoed back
    assert "5" not in problems[2]["message"]
    assert catalog.validate_input("nope", {}) == [{"path": "runbook", "message": "no runbook named 'nope'"}]


def test_secret_fields_defaults_and_concurrency_key(tmp_path: Path):
    _runbook(tmp_path, "scale", GOOD.format(name="scale"))
    runbook = load_catalog([tmp_path]).get("scale")
    given = {"service": "web", "token": "tok-123456"}

    assert runbook.retry.max_attempts == 3 and runbook.retry.on == ["interrupted", "timeout"]
    assert runbook.secret_fields(given) == {"token": "tok-123456"}
    assert runbook.public_input(given) == {"service": "web", "replicas": 1}
    assert runbook.secret_env(given) == {"JARVIS_INPUT_TOKEN": "tok-123456"}
    assert runbook.concurrency_key_for(given) == "svc:web"


def test_builtin_backup_key_and_secret_env():
    backup = load_catalog([BUILTIN_DIR]).get("backup-postgres")
    given = {"database": "shop", "password": "pw-secret"}

    assert backup.concurrency_key_for(given) == "pg:127.0.0.1:5432:shop"
    assert backup.secret_env(given) == {"PGPASSWORD": "pw-secret"}
    assert "password" not in backup.public_input(given)


def test_connection_typed_runbook_requires_a_connection():
    catalog = load_catalog([BUILTIN_DIR])

    problems = catalog.validate_input("gather-facts", {"host": "10.0.0.5"})
    assert problems == [{"path": "input.connection", "message": "'connection' is a required property"}]
    assert catalog.validate_input("gather-facts", {"host": "10.0.0.5", "connection": "prod-ssh"}) == []


def test_concurrency_key_is_sandboxed(tmp_path: Path):
    text = GOOD.format(name="sneaky").replace(
        '"svc:{{ input.service }}"', '"{{ input.__class__.__mro__[1].__subclasses__() }}"')
    _runbook(tmp_path, "sneaky", text)
    runbook = load_catalog([tmp_path]).get("sneaky")

    with pytest.raises(Exception, match="unsafe"):
        runbook.concurrency_key_for({"service": "x"})


def test_add_folder_takes_a_single_runbook_folder_with_its_source(tmp_path: Path):
    folder = _runbook(tmp_path, "repo-book", GOOD.format(name="repo-book"))
    catalog = Catalog()

    added = catalog.add_folder(folder, source="ops-repo")

    assert [r.name for r in added] == ["repo-book"]
    assert catalog.get("repo-book").source == "ops-repo"
    catalog.add_folder(tmp_path / "missing", source="ops-repo")
    assert catalog.errors == [f"{tmp_path / 'missing'}: runbook folder does not exist"]
