"""The reconciler contract for authors of a new target kind.

The types live in `controller.contract` (imports flow api → reconcilers → controller); this
module re-exports them and holds the small helpers every reconciler shares.
"""

from controller.connection_types import ConnectionType, object_schema, secret
from controller.contract import (
    BaseReconciler,
    ClientFactory,
    ConnectionCheck,
    ConnectionInfo,
    ConnectionResolver,
    DesiredState,
    Health,
    InvalidDesiredState,
    LiveState,
    Observations,
    Planned,
    Reconciler,
    ReconcilerContext,
    ReconcilerError,
    Scope,
    Step,
    TargetConflict,
    TargetSummary,
    TargetUnavailable,
)
from controller.jobs.step_connection import read as read_step_connection
from controller.plans import Action, Change, FieldDiff, Plan, Resource, Risk, diff_resources, field_diffs

OWNER_LABEL = "jarvis.managed"
SOURCE_LABEL = "jarvis.source"
MANIFEST_LABEL = "jarvis.manifest"

__all__ = [
    "Action", "BaseReconciler", "Change", "ClientFactory", "ConnectionCheck", "ConnectionInfo", "ConnectionResolver",
    "ConnectionType", "DesiredState", "FieldDiff", "Health", "InvalidDesiredState", "LiveState", "MANIFEST_LABEL",
    "OWNER_LABEL", "Observations", "Plan", "Planned", "Reconciler", "ReconcilerContext", "ReconcilerError", "Resource", "Risk",
    "SOURCE_LABEL", "Scope", "Step", "TargetConflict", "TargetSummary", "TargetUnavailable", "diff_resources",
    "field_diffs", "object_schema", "read_step_connection", "secret",
]
