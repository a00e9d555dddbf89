"""Generate `manifests-schema/orch.schema.json` from the models (run `python -m controller.manifests.schema`).

The file is checked in so editors can complete orch.yaml; a test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .models import Manifest

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "manifests-schema" / "orch.schema.json"
SCHEMA_ID = "urn:jarvis:schema:orch:v1"


def build_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema(mode="validation")
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "orch.yaml (jarvis/v1)",
        "description": "A Jarvis manifest: desired state for Swarm services, DNS, servers, stacks and backups.",
    }
    return {**head, **{k: v for k, v in schema.items() if k not in head}}


def render_schema() -> str:
    # sorted keys: the file only changes when the models do
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> bool:
    """Write the schema; True when the file changed."""
    text = render_schema()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main() -> int:
    changed = write_schema()
    print(f"{SCHEMA_PATH}: {'written' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
