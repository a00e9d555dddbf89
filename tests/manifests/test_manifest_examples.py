"""Every example repository's orch.yaml validates, and the checked-in JSON Schema matches the models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from controller.manifests import parse_file
from controller.manifests.schema import SCHEMA_PATH, render_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").rglob("orch.yaml"))


def test_there_are_examples_for_each_target_kind():
    names = {p.parent.name for p in EXAMPLES}
    assert {"webapp", "fleet", "backups"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_validates(path: Path):
    result = parse_file(path)
    assert result.errors == [], str(result)
    assert result.manifest is not None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_validates_against_the_json_schema(path: Path):
    # editors check files with the schema, so what the models accept the schema must accept too
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_webapp_example_files_it_refers_to_exist():
    manifest = parse_file(ROOT / "examples/webapp/orch.yaml").manifest
    base = ROOT / "examples/webapp"
    for compose in manifest.compose:
        assert (base / compose).is_file(), compose
    for config in manifest.configs.values():
        assert config.file is None or (base / config.file).is_file(), config.file


def test_webapp_compose_file_uses_only_files_that_exist():
    compose_path = ROOT / "examples/webapp/compose/monitoring.yml"
    compose = yaml.safe_load(compose_path.read_text())
    for section in ("configs", "secrets"):
        for entry in compose.get(section, {}).values():
            assert (compose_path.parent / entry["file"]).is_file(), entry


def test_checked_in_schema_is_not_stale():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "manifests-schema/orch.schema.json is stale: run `python -m controller.manifests.schema`")


def test_schema_is_valid_json_schema_with_identity():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    assert schema["additionalProperties"] is False
