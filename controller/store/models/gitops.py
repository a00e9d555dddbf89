"""GitOps state: sources and their revisions, parsed manifests, plans, drift, history,
webhook deliveries, incidents, the controller's leader lease and each target's last observed health."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(1000))            # https, ssh, or a local path
    branch: Mapped[str] = mapped_column(String(200), default="main")
    paths: Mapped[list[Any]] = mapped_column(default=lambda: ["**/orch.yaml"])
    poll_interval: Mapped[int] = mapped_column(default=60)
    connection: Mapped[str | None] = mapped_column(String(100))   # github (token) or ssh (key) connection
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary)   # sealed
    webhook_key_id: Mapped[str | None] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="never")   # never | syncing | ok | degraded | error
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_revision: Mapped[str | None] = mapped_column(String(80))
    last_sync_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    sync_requested_at: Mapped[dt.datetime | None]    # set by webhooks, "sync now", timers; the leader clears it
    sync_reason: Mapped[str] = mapped_column(String(40), default="")
    watched_files: Mapped[list[Any]] = mapped_column(default=list)   # files the manifests referenced


class Revision(Base):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("source_id", "sha", name="uq_revisions_source_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    sha: Mapped[str] = mapped_column(String(80))
    author: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    committed_at: Mapped[dt.datetime | None]
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Manifest(Base):
    """One orch.yaml as parsed at one revision, and which revision's version is in force when this
    revision is the source's head (itself when valid; else the last valid one in commit order)."""

    __tablename__ = "manifests"
    __table_args__ = (UniqueConstraint("source_id", "path", "revision", name="uq_manifests_source_path_rev"),
                      Index("ix_manifests_source_path_valid", "source_id", "path", "valid"),
                      Index("ix_manifests_source_revision", "source_id", "revision"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    revision: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(Text)
    desired: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    valid: Mapped[bool] = mapped_column(default=False)
    in_force_revision: Mapped[str | None] = mapped_column(String(80))
    # the row of this file at the nearest earlier revision (first-parent order; a working tree: the
    # previous sync): the chain a re-check walks to find the version in force without the repository
    previous_revision: Mapped[str | None] = mapped_column(String(80))
    files: Mapped[list[Any]] = mapped_column(default=list)   # other repository files it read (compose, configs)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanRow(Base):
    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_target_status", "source_id", "manifest_path", "target", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    manifest_path: Mapped[str] = mapped_column(String(1000))
    manifest_name: Mapped[str] = mapped_column(String(100), default="")
    target: Mapped[str] = mapped_column(String(200))        # "<kind>:<connection>"
    kind: Mapped[str] = mapped_column(String(40))
    connection: Mapped[str] = mapped_column(String(100))
    revision: Mapped[str] = mapped_column(String(80))
    policy: Mapped[str] = mapped_column(String(20))
    # noop | pending | held | approved | rejected | applied | failed | expired | detected
    status: Mapped[str] = mapped_column(String(20), index=True)
    checksum: Mapped[str] = mapped_column(String(64))
    changes: Mapped[list[Any]] = mapped_column(default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    held_reasons: Mapped[list[Any]] = mapped_column(default=list)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    managed_count: Mapped[int] = mapped_column(default=0)
    secrets: Mapped[bytes | None] = mapped_column(LargeBinary)     # sealed values the steps need
    secrets_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(320), default="")
    decided_at: Mapped[dt.datetime | None]
    job_id: Mapped[int | None]
    finished_at: Mapped[dt.datetime | None]
    converged: Mapped[bool | None]          # after the apply, observed again: did the drift clear?


class DriftItem(Base):
    """The current drift state of one resource (replaced on every reconcile of its target)."""

    __tablename__ = "drift_items"
    __table_args__ = (Index("ix_drift_source_manifest_target", "source_id", "manifest_path", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    manifest_path: Mapped[str] = mapped_column(String(1000))
    target: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))    # in_sync | drifted | pending | error | unknown
    action: Mapped[str] = mapped_column(String(20), default="")
    fields: Mapped[list[Any]] = mapped_column(default=list)
    plan_id: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReconcileRun(Base):
    __tablename__ = "reconcile_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    revision: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    result: Mapped[str] = mapped_column(String(20), default="running")   # ok | degraded | error | running
    error: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    plan_ids: Mapped[list[Any]] = mapped_column(default=list)
    job_ids: Mapped[list[Any]] = mapped_column(default=list)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(50), default="")
    repository: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[int] = mapped_column(default=0)
    result: Mapped[str] = mapped_column(String(500), default="")
    source_ids: Mapped[list[Any]] = mapped_column(default=list)


class Lease(Base):
    """Leader election: whoever holds an unexpired lease row leads (works on PostgreSQL and SQLite)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]
    renewed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


ACTIVE_FINGERPRINT = "fingerprint IS NOT NULL AND state IN ('open', 'acknowledged')"


class Incident(Base):
    """One incident, whatever opened it (a failed apply, an unconverged service, an alert...):
    open → acknowledged → resolved, with who and when; its timeline is `incident_events`."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_fingerprint_state", "fingerprint", "state"),
        # at most one active incident per fingerprint: two workers seeing the same failure at once
        # cannot open two (the loser's insert fails and it updates the winner's incident instead)
        Index("uq_incidents_active_fingerprint", "fingerprint", unique=True,
              postgresql_where=text(ACTIVE_FINGERPRINT), sqlite_where=text(ACTIVE_FINGERPRINT)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    target: Mapped[str] = mapped_column(String(200), default="")
    resource: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)     # task errors, plan, messages
    job_id: Mapped[int | None]
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None]                            # when it was resolved
    # the same problem seen again updates the incident not yet resolved with its fingerprint
    fingerprint: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="open", server_default="open")  # open | acknowledged | resolved
    origin: Mapped[str] = mapped_column(String(40), default="", server_default="")   # apply, convergence, alertmanager...
    severity: Mapped[str] = mapped_column(String(20), default="warning", server_default="warning")
    occurrences: Mapped[int] = mapped_column(default=1, server_default="1")
    last_seen_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    resolved_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # structured, for the assistant to learn from: {cause, action, runbook, plan_id, job_id}
    resolution: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TargetStatus(Base):
    """What the last observation of a target said about its health (replicas, task errors, zones)."""

    __tablename__ = "target_status"

    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    connection: Mapped[str] = mapped_column(String(100))
    health: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    # the reconciler's TargetSummary of that observation (health, counts, problems, errors, per resource)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    observed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
