"""Creating jobs: a runbook run by hand, a plan's steps, a rerun; and asking a job to stop.

A job row exists (committed) before its id is queued: the caller commits, then queues. Secret
inputs are sealed into the row as the environment variables the playbook will read, so the worker
needs neither the catalog nor the plaintext anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from controller import connections
from controller.errors import Conflict, Forbidden, Invalid, NotFound
from controller.jobs import ordering
from controller.jobs.catalog import Catalog
from controller.roles import at_least
from controller.secrets import SecretBackend
from controller.store.models import FINAL, Connection, Job, utcnow

STEP_SECRET_PREFIX = "JARVIS_STEP"   # secret env "JARVIS_STEP<n>_<KEY>" belongs to step n only


def step_env(env: dict[str, str], pos: int) -> dict[str, str]:
    """The job's secret env as step `pos` sees it: shared entries, and its own as JARVIS_STEP_<KEY>."""
    own = f"{STEP_SECRET_PREFIX}{pos}_"
    out = {k: v for k, v in env.items() if not k.startswith(STEP_SECRET_PREFIX)}
    out.update({f"{STEP_SECRET_PREFIX}_{k[len(own):]}": v for k, v in env.items() if k.startswith(own)})
    return out


@dataclass
class JobRequest:
    runbook: str
    title: str
    steps: list[dict[str, Any]]                  # [{name, playbook, vars, resource, wave?, depends_on?}]
    input: dict[str, Any] = field(default_factory=dict)          # public (no secrets)
    secret_env: dict[str, str] = field(default_factory=dict)     # env var -> secret value
    connection: str | None = None
    concurrency_key: str | None = None
    timeout_s: int = 3600
    max_attempts: int = 1
    retry_on: list[str] = field(default_factory=lambda: ["interrupted"])
    trigger: str = "manual"
    created_by: str = ""
    plan_id: int | None = None
    rerun_of: int | None = None


def create(db: Session, store: SecretBackend, req: JobRequest) -> Job:
    try:
        ordering.run_order(req.steps)   # an order that cannot be honoured is refused before a job exists
    except ordering.StepOrderError as exc:
        raise Invalid(f"the job's steps cannot run in order: {exc}",
                      errors=[{"field": "steps", "message": str(exc)}]) from None
    job = Job(runbook=req.runbook, title=req.title, status="pending", trigger=req.trigger,
              created_by=req.created_by, input_json=req.input, steps_spec=req.steps, connection=req.connection,
              concurrency_key=req.concurrency_key, timeout_s=req.timeout_s, max_attempts=max(1, req.max_attempts),
              retry_on=list(req.retry_on), plan_id=req.plan_id, rerun_of=req.rerun_of, queued_at=utcnow())
    db.add(job)
    db.flush()
    if req.secret_env:
        job.secret_key_id, job.secret_input = store.seal(req.secret_env, f"jobs:{job.id}")
    return job


def secret_env(store: SecretBackend, job: Job) -> dict[str, str]:
    if not job.secret_input or not job.secret_key_id:
        return {}
    return store.open(job.secret_key_id, job.secret_input, f"jobs:{job.id}")


def runbook_request(db: Session, catalog: Catalog, name: str, raw_input: Any, *, user_email: str, user_role: str,
                    trigger: str = "manual") -> JobRequest:
    rb = catalog.get(name)
    if rb is None:
        raise NotFound(f"runbook {name!r} not found")
    if not at_least(user_role, rb.role):
        raise Forbidden(f"runbook {name} needs the {rb.role} role")
    errors = catalog.validate_input(name, raw_input)
    if errors:
        raise Invalid("input does not match the runbook's schema",
                      errors=[{"field": e["path"], "message": e["message"]} for e in errors])
    inp = dict(raw_input or {})
    conn_name = None
    if rb.connection_type:
        conn_name = inp.get("connection")
        conn = db.query(Connection).filter_by(name=conn_name).one_or_none() if conn_name else None
        if conn is None:
            raise _missing_connection(db, rb.name, rb.connection_type, conn_name)
        if conn.type != rb.connection_type:
            raise Invalid(f"connection {conn_name!r} is a {conn.type} connection; {name} needs {rb.connection_type}",
                          errors=[{"field": "input.connection", "message": f"needs a {rb.connection_type} connection"}])
    extra = {key: _named_connection(db, rb.name, key, type_, inp.get(key)) for key, type_ in rb.connections.items()}
    try:
        key = rb.concurrency_key_for(inp, conn_name)
    except Exception as exc:   # a template that fails (or tries to escape the sandbox) is the runbook's bug
        raise Invalid(f"runbook {name}: concurrency key cannot be rendered: {exc}") from None
    return JobRequest(runbook=rb.name, title=rb.title, input=rb.public_input(inp), secret_env=rb.secret_env(inp),
                      steps=[{"name": rb.name, "playbook": str(rb.playbook_path), "vars": {}, "resource": "",
                              **({"connections": extra} if extra else {})}],
                      connection=conn_name, concurrency_key=key, timeout_s=rb.timeout,
                      max_attempts=rb.retry.max_attempts, retry_on=list(rb.retry.on), trigger=trigger,
                      created_by=user_email)


def _named_connection(db: Session, runbook: str, key: str, type_: str, name: str | None) -> str:
    """A further connection of a runbook (`connections:`), checked like `connection`: its name."""
    conn = db.query(Connection).filter_by(name=name).one_or_none() if name else None
    if conn is None:
        raise _missing_connection(db, runbook, type_, name, key)
    if conn.type != type_:
        raise Invalid(f"connection {name!r} is a {conn.type} connection; {runbook} needs {type_} for {key}",
                      errors=[{"field": f"input.{key}", "message": f"needs a {type_} connection"}])
    return str(name)


def _missing_connection(db: Session, runbook: str, type_: str, asked: str | None, key: str = "connection") -> Invalid:
    """What is missing and how to fix it: the connections that would do, or where to add the first."""
    choices = connections.names_of_type(db, type_)
    if not choices:
        return Invalid(f"{runbook} needs a {type_} connection and there is none yet: an admin adds one in "
                       "Settings → Connections (or POST /api/connections)",
                       errors=[{"field": f"input.{key}", "message": f"add a {type_} connection first"}])
    fix = f"set input.{key} to " + (choices[0] if len(choices) == 1 else "one of " + ", ".join(choices))
    what = f"connection {asked!r} does not exist" if asked else f"{runbook} needs a {type_} connection"
    return Invalid(f"{what}: {fix}", errors=[{"field": f"input.{key}", "message": fix}])


def rerun_request(store: SecretBackend, old: Job, by: str) -> JobRequest:
    if old.status not in FINAL:
        raise Conflict(f"job {old.id} is still {old.status}")
    if old.plan_id is not None:
        # an apply job runs a plan computed against what ran then: running it again could undo
        # later changes, so the way to retry is a new plan from the source's current revision
        raise Conflict(f"job {old.id} applies plan {old.plan_id}, which may be stale: sync its source to plan again "
                       "(GitOps → Sources → Sync now), then approve the new plan")
    return JobRequest(runbook=old.runbook, title=old.title, steps=list(old.steps_spec), input=dict(old.input_json),
                      secret_env=secret_env(store, old), connection=old.connection,
                      concurrency_key=old.concurrency_key, timeout_s=old.timeout_s, max_attempts=old.max_attempts,
                      retry_on=list(old.retry_on), trigger="manual", created_by=by, rerun_of=old.id,
                      plan_id=old.plan_id)


def request_cancel(db: Session, job: Job) -> str:
    """A pending job is canceled at once; a running one is told to stop (its worker cancels the run)."""
    if job.status in FINAL:
        raise Conflict(f"job {job.id} already ended ({job.status})")
    done = db.execute(update(Job).where(Job.id == job.id, Job.status == "pending")
                      .values(status="canceled", reason="canceled before it started", finished_at=utcnow()))
    if done.rowcount:
        return "canceled"
    db.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    return "canceling"


def connection_for(db: Session, store: SecretBackend, name: str | None):
    if not name:
        return None
    conn = db.query(Connection).filter_by(name=name).one_or_none()
    if conn is None:
        raise NotFound(f"connection {name!r} no longer exists")
    return connections.info(store, conn)

