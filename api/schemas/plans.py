"""Plans, their changes, and drift, as the API answers them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Input, Output
from controller.store.models import PlanRow

DriftStatus = Literal["in_sync", "drifted", "pending", "error", "unknown"]


class FieldDiffPublic(Output):
    manifest_path: str = Field("", description="The field in orch.yaml terms (`services.web.update.delay`); "
                               "empty when it has none (an engine field orch.yaml does not set).")
    manifest_before: Any = Field(None, description="The live value in orch.yaml's units (`10s`).")
    manifest_after: Any = Field(None, description="The value Git asks for, in orch.yaml's units.")
    path: str = Field(description="The engine's dotted path of the field (`UpdateConfig.Delay`, `ports[0].published`).")
    before: Any = Field(None, description="The live value as the engine stores it (10000000000).")
    after: Any = Field(None, description="The value to apply, as the engine stores it.")


class ChangePublic(Output):
    resource: str = Field(description="`<type>/<name>`, e.g. `service/web`.")
    action: Literal["create", "update", "delete"]
    risk: Literal["low", "medium", "high"]
    protected: bool = False
    reason: str = ""
    fields: list[FieldDiffPublic] = []
    desired: dict[str, Any] | None = Field(None, description="The engine spec a create or an update applies "
                                           "(never a secret value: those travel sealed beside the plan).")


class PlanPublic(Output):
    id: int
    source_id: int
    source: str = Field(description="The source's name.")
    manifest: str = Field(description="The manifest's path in the repository.")
    manifest_name: str
    target: str = Field(description="`<kind>:<connection>`, e.g. `swarm:prod-swarm`.")
    kind: str
    revision: str
    policy: str
    status: str = Field(description="pending | held | approved | applied | failed | rejected | expired | detected")
    checksum: str = Field(description="Of the changes: approving sends it back, so exactly what was shown runs.")
    counts: dict[str, int]
    held_reasons: list[str]
    errors: list[str]
    created_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None
    job_id: int | None
    converged: bool | None = Field(description="After the apply, observed again: did the drift clear?")

    @classmethod
    def of(cls, row: PlanRow, source: str, **extra: Any) -> PlanPublic:
        return cls(id=row.id, source_id=row.source_id, source=source, manifest=row.manifest_path,
                   manifest_name=row.manifest_name, target=row.target, kind=row.kind, revision=row.revision,
                   policy=row.policy, status=row.status, checksum=row.checksum, counts=row.counts,
                   held_reasons=row.held_reasons, errors=row.errors, created_at=row.created_at,
                   decided_by=row.decided_by, decided_at=row.decided_at, job_id=row.job_id, converged=row.converged,
                   **extra)


class PlanDetail(PlanPublic):
    changes: list[ChangePublic]

    @classmethod
    def of(cls, row: PlanRow, source: str, **extra: Any) -> PlanDetail:
        return super().of(row, source, changes=row.changes, **extra)


class ApproveIn(Input):
    checksum: str = Field(min_length=64, max_length=64)


class PlanDecision(Output):
    id: int
    status: str
    job_id: int | None = Field(None, description="The apply job an approval queued.")


class DriftCounts(Output):
    in_sync: int = 0
    drifted: int = 0
    pending: int = 0
    error: int = 0
    unknown: int = 0


class DriftItemPublic(Output):
    source: str
    source_id: int
    manifest: str
    target: str
    resource: str
    status: DriftStatus
    action: str
    fields: list[FieldDiffPublic]
    plan_id: int | None
    error: str
    updated_at: dt.datetime
    health: dict[str, Any] | None = Field(description="The resource's last observed health (replicas, task errors).")


class DriftPublic(Output):
    summary: DriftCounts = Field(description="Resources per status, whatever the `status` filter.")
    items: list[DriftItemPublic]
