"""Built-in runbooks: one folder each, holding `runbook.yaml` and its playbook."""

from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent
