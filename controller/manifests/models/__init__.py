"""Pydantic models of orch.yaml v1 — the truth that `manifests-schema/orch.schema.json` is generated from."""

from .common import Strict
from .dns import Record, RecordData, Zone, fqdn
from .fleet import Backup, Hardening, Runbook, Server, Stack
from .manifest import Config, Connections, Ignore, Manifest, Network, Policy, SecretRef
from .services import (
    Expose,
    FileRef,
    Healthcheck,
    Placement,
    Port,
    Resources,
    RestartPolicy,
    RollbackConfig,
    Service,
    UpdateConfig,
    Volume,
)

__all__ = [
    "Backup", "Config", "Connections", "Expose", "FileRef", "Hardening", "Healthcheck", "Ignore", "Manifest",
    "Network", "Placement", "Policy", "Port", "Record", "RecordData", "Resources", "RestartPolicy",
    "RollbackConfig", "Runbook", "SecretRef", "Server", "Service", "Stack", "Strict", "UpdateConfig", "Volume",
    "Zone", "fqdn",
]
