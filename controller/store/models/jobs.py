"""Jobs: the one execution model. Runbooks, reconcile plans and approved assistant plans are all jobs.

A job is a list of steps (a playbook and its variables each), run in order by a worker that
claims the job with a conditional update and keeps a lease on it. Events follow ansible-runner's
event model, numbered by a per-job counter that never repeats across steps or attempts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow

FINAL = ("success", "error", "canceled", "timeout")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created_at"),
        # two jobs with one concurrency key never run at once: the database refuses the second claim
        Index("uq_jobs_running_key", "concurrency_key", unique=True,
              postgresql_where=text("status = 'running' AND concurrency_key IS NOT NULL"),
              sqlite_where=text("status = 'running' AND concurrency_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook: Mapped[str] = mapped_column(String(100), index=True)    # runbook name, or "plan:<target>"
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")     # why it ended so (interrupted, failing task...)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    input_json: Mapped[dict[str, Any]] = mapped_column(default=dict)  # secret fields masked
    secret_input: Mapped[bytes | None] = mapped_column(LargeBinary)   # sealed secret fields
    secret_key_id: Mapped[str | None] = mapped_column(String(40))
    output_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    steps_spec: Mapped[list[Any]] = mapped_column(default=list)      # [{name, playbook, vars, resource}]
    connection: Mapped[str | None] = mapped_column(String(100))
    concurrency_key: Mapped[str | None] = mapped_column(String(300))
    timeout_s: Mapped[int] = mapped_column(default=3600)
    max_attempts: Mapped[int] = mapped_column(default=1)
    retry_on: Mapped[list[Any]] = mapped_column(default=list)
    attempt: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    rerun_of: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    plan_id: Mapped[int | None] = mapped_column(index=True)
    last_counter: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    queued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class JobStep(Base):
    __tablename__ = "job_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=1)
    step_name: Mapped[str] = mapped_column(String(300))
    resource: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    logs: Mapped[str] = mapped_column(Text, default="")           # the masked tail of the step's output
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)  # failures, stats, set_stats
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class JobEvent(Base):
    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "counter", name="uq_job_events_job_counter"),)

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    counter: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(60))
    host: Mapped[str] = mapped_column(String(300), default="")
    task: Mapped[str] = mapped_column(String(500), default="")
    stdout: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobArtifact(Base):
    __tablename__ = "job_artifacts"
    __table_args__ = (UniqueConstraint("job_id", "name", name="uq_job_artifacts_job_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    path: Mapped[str] = mapped_column(String(1000))     # relative to <data_dir>/artifacts
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
