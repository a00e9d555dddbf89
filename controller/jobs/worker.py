"""The worker: claims jobs, runs their steps with ansible-runner, stores the outcome, then acks.

Claiming is a conditional update (pending → running with this worker's id and a lease); the lease
is renewed while the job runs, so a worker that dies (SIGKILL, power loss) leaves a job whose
lease expires and the sweeper settles it. A job whose concurrency key is held by a running job is
refused by a unique index and goes back to the queue to wait.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from controller.jobs import ordering, step_connection, submit
from controller.jobs.bus import Bus
from controller.jobs.events import EventSink
from controller.jobs.queue import Entry, JobQueue
from controller.jobs.runner import RunResult, RunSpec, run_playbook
from controller.runtime import Runtime
from controller.store.models import Job, JobArtifact, JobStep, utcnow

log = logging.getLogger(__name__)
RETRY_BUSY_S = 1.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, rt: Runtime, queue: JobQueue, bus: Bus, concurrency: int = 2,
                 on_finished=None) -> None:
        self.rt, self.queue, self.bus = rt, queue, bus
        self.concurrency = concurrency
        self.id = worker_id()
        self.on_finished = on_finished or []      # callables(session, job_id, status) as a job ends
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[int, threading.Event] = {}   # job id -> cancel flag
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Worker:
        for i in range(self.concurrency):
            t = threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._lease_loop, name="worker-lease", daemon=True)
        t.start()
        self._threads.append(t)
        log.info("worker started", extra={"event": "worker.started", "worker": self.id, "concurrency": self.concurrency})
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                entry = self.queue.get(self.id, timeout=1.0)
            except Exception:
                log.exception("queue unavailable; retrying")
                self._stop.wait(2)
                continue
            if entry is not None:
                try:
                    self.process(entry)
                except Exception:
                    # the entry stays unacknowledged; the lease or the sweeper settles the job
                    log.exception("job %s failed in the worker", entry.job_id)

    # -- one job ---------------------------------------------------------------------------------
    def process(self, entry: Entry) -> None:
        claimed = self._claim(entry.job_id)
        if claimed == "busy":
            self._requeue_later(entry)
            return
        if claimed is None:
            self.queue.ack(entry)      # already taken, finished or canceled: a duplicate entry
            return
        job = claimed
        cancel = threading.Event()
        with self._lock:
            self._running[job.id] = cancel
        try:
            status, reason, output = self._run(job, cancel)
            self._finish(job, status, reason, output)
        finally:
            with self._lock:
                self._running.pop(job.id, None)
        self.queue.ack(entry)

    def _claim(self, job_id: int) -> Job | None | str:
        now = utcnow()
        lease = now + dt.timedelta(seconds=self.rt.settings.job_lease_seconds)
        try:
            with self.rt.db.session() as s:
                res = s.execute(update(Job).where(Job.id == job_id, Job.status == "pending")
                                .values(status="running", worker=self.id, attempt=Job.attempt + 1,
                                        lease_expires_at=lease, started_at=now, cancel_requested=False))
                if res.rowcount != 1:
                    return None
                job = s.get(Job, job_id)
                s.expunge(job)
        except IntegrityError:
            return "busy"
        self.bus.publish(job_id, [{"type": "status", "status": "running"}])
        log.info("job claimed", extra={"event": "job.claimed", "job_id": job_id, "worker": self.id,
                                       "attempt": job.attempt})
        return job

    def _requeue_later(self, entry: Entry) -> None:
        # put a fresh entry before acking the old one: never a moment without an entry
        def again():
            try:
                self.queue.put(entry.job_id)
                self.queue.ack(entry)
            except Exception:
                log.exception("requeue of job %s failed; the sweeper will", entry.job_id)

        t = threading.Timer(RETRY_BUSY_S, again)
        t.daemon = True
        t.start()

    def _run(self, job: Job, cancel: threading.Event) -> tuple[str, str, dict[str, Any]]:
        settings = self.rt.settings
        private = settings.data_dir / "jobs" / str(job.id) / f"attempt-{job.attempt}"
        with self.rt.db.session() as s:
            conn = submit.connection_for(s, self.rt.secrets, job.connection)
            env = submit.secret_env(self.rt.secrets, job)
        # the one shape a step receives its connection in (see step_connection)
        conn_vars = {step_connection.VAR: step_connection.to_vars(conn)} if conn else {}
        conn_env = step_connection.to_env(conn) if conn else {}
        # a connection holding an SSH key (ssh, hetzner) reaches its servers through the run's ssh-agent
        ssh_key = conn.secrets.get("private_key") if conn else None
        sink = EventSink(self.rt.db, self.bus, job.id, job.last_counter, flush_count=settings.event_flush_count,
                         flush_ms=settings.event_flush_ms)
        deadline = time.monotonic() + job.timeout_s
        output: dict[str, Any] = {"steps": []}
        status, reason = "success", ""
        failed: list[str] = []
        try:
            order = ordering.run_order(job.steps_spec)
        except ordering.StepOrderError as exc:   # nothing runs when the order cannot be honoured
            order, status, reason = [], "error", str(exc)
        outcome: dict[str, str] = {}              # step name -> how it ended, for the steps after it
        outputs: dict[str, dict[str, Any]] = {}   # step name -> what it published (set_stats)
        try:
            for pos in order:
                step = job.steps_spec[pos]
                remaining = int(deadline - time.monotonic())
                if remaining <= 0:
                    status, reason = "timeout", f"job timeout of {job.timeout_s}s reached"
                    break
                if cancel.is_set():
                    status, reason = "canceled", "canceled"
                    break
                why, step_vars = "", {}
                blocked = [d for d in ordering.dependencies(step) if outcome.get(d) != "success"]
                if blocked:
                    why = f"skipped: {blocked[0]} did not succeed ({outcome.get(blocked[0], 'not run')})"
                else:
                    try:
                        step_vars = ordering.resolve(step.get("vars") or {}, outputs)
                    except ordering.MissingOutput as exc:
                        why = f"not run: {exc}"
                if why:
                    outcome[step["name"]] = "skipped"
                    self._step_skipped(job, pos, step, why)
                    output["steps"].append({"name": step["name"], "resource": step.get("resource", ""),
                                            "status": "skipped", "reason": why})
                    if step.get("continue_on_error"):
                        failed.append(f"{step.get('resource') or step['name']}: {why}")
                        continue
                    status, reason = "error", f"{step['name']}: {why}"
                    break
                extra_vars, extra_env = self._step_connections(step)
                step_id = self._step_started(job, pos, step)
                ssh_vars = _known_hosts(private, conn)
                spec = RunSpec(
                    private_dir=private, playbook=Path(step["playbook"]), ident=f"step{pos}",
                    extravars={"input": job.input_json, **step_vars, **ssh_vars,
                               "jarvis_job": {"id": job.id, "attempt": job.attempt},
                               **conn_vars, **extra_vars,
                               "jarvis_backups_dir": str(settings.data_dir / "backups")},
                    inventory=step_vars.get("inventory"),
                    envvars={**conn_env, **extra_env, **submit.step_env(env, pos)}, ssh_key=ssh_key,
                    timeout=remaining,
                    host_key_checking=bool((conn.config if conn else {}).get("host_key_checking", True)),
                )
                result = run_playbook(spec, on_event=lambda e, n=step["name"]: sink.add(e, n),
                                      should_cancel=cancel.is_set)
                self._step_finished(job, step_id, step, result)
                outcome[step["name"]] = result.status
                if result.status == "success":
                    outputs[step["name"]] = dict(result.set_stats)
                output["steps"].append({"name": step["name"], "resource": step.get("resource", ""),
                                        "status": result.status, "failures": result.failures,
                                        "set_stats": result.set_stats})
                output.update(result.set_stats)
                if result.status == "error" and step.get("continue_on_error"):
                    # an apply's steps are independent: one resource failing leaves the others to converge
                    failed.append(f"{step.get('resource') or step['name']}: {_reason(result)}")
                    continue
                if result.status != "success":
                    status = result.status
                    reason = _reason(result)
                    break
        finally:
            last = sink.close()
            shutil.rmtree(private, ignore_errors=True)
        output["outputs"] = outputs
        if failed and status == "success":
            status, reason = "error", f"{len(failed)} step(s) failed: " + "; ".join(failed)[:450]
        output["last_counter"] = last
        return status, reason, output

    def _step_connections(self, step: dict) -> tuple[dict[str, Any], dict[str, str]]:
        """A step's further connections (`connections:` of its runbook): `jarvis_connections` and their env."""
        named = step.get("connections") or {}
        if not named:
            return {}, {}
        values: dict[str, Any] = {}
        env: dict[str, str] = {}
        with self.rt.db.session() as s:
            for role, name in named.items():
                info = submit.connection_for(s, self.rt.secrets, name)
                prefix = step_connection.extra_prefix(role)
                values[role] = step_connection.to_vars(info, prefix)
                env.update(step_connection.to_env(info, prefix))
        return {step_connection.EXTRA_VAR: values}, env

    def _step_started(self, job: Job, pos: int, step: dict) -> int:
        with self.rt.db.session() as s:
            row = JobStep(job_id=job.id, position=pos, attempt=job.attempt, step_name=step["name"],
                          resource=step.get("resource", ""), status="running", started_at=utcnow())
            s.add(row)
            s.flush()
            out = _step_dict(row)
        self.bus.publish(job.id, [{"type": "step", "step": out}])
        return row.id

    def _step_skipped(self, job: Job, pos: int, step: dict, why: str) -> None:
        """A step that did not run because what it needs did not succeed: recorded, with why."""
        now = utcnow()
        with self.rt.db.session() as s:
            row = JobStep(job_id=job.id, position=pos, attempt=job.attempt, step_name=step["name"],
                          resource=step.get("resource", ""), status="skipped", started_at=now, finished_at=now,
                          result={"error": why})
            s.add(row)
            s.flush()
            out = _step_dict(row)
        self.bus.publish(job.id, [{"type": "step", "step": out}])

    def _step_finished(self, job: Job, step_id: int, step: dict, result: RunResult) -> None:
        with self.rt.db.session() as s:
            row = s.get(JobStep, step_id)
            row.status, row.finished_at = result.status, utcnow()
            row.logs = result.stdout[-64_000:]
            row.result = {"failures": result.failures, "stats": result.stats, "set_stats": result.set_stats,
                          "rc": result.rc, "error": result.error}
            self._store_artifacts(s, job, result)
            out = _step_dict(row)
        self.bus.publish(job.id, [{"type": "step", "step": out}])

    def _store_artifacts(self, s, job: Job, result: RunResult) -> None:
        target = self.rt.settings.data_dir / "artifacts" / str(job.id)
        for path in result.artifacts:
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = path.name
            shutil.move(str(path), target / name)
            os.chmod(target / name, 0o600)   # a job's output is for its readers through the API, no one else
            existing = s.scalar(select(JobArtifact).where(JobArtifact.job_id == job.id, JobArtifact.name == name))
            if existing is None:
                s.add(JobArtifact(job_id=job.id, name=name, size=(target / name).stat().st_size,
                                  path=f"{job.id}/{name}"))
            else:
                existing.size = (target / name).stat().st_size

    def _finish(self, job: Job, status: str, reason: str, output: dict[str, Any]) -> None:
        retry = status == "error" and "error" in (job.retry_on or []) and job.attempt < job.max_attempts
        with self.rt.db.session() as s:
            values: dict[str, Any] = {"output_json": output, "lease_expires_at": None, "worker": None}
            if retry:
                values.update(status="pending", reason=f"attempt {job.attempt} failed: {reason}")
            else:
                values.update(status=status, reason=reason, finished_at=utcnow())
            # conditional: if our lease expired and the sweeper settled the job, our outcome is dropped
            res = s.execute(update(Job).where(Job.id == job.id, Job.worker == self.id, Job.status == "running")
                            .values(**values))
            stored = res.rowcount == 1
            if stored and not retry:
                # in the same transaction: whoever sees the final status also sees what it caused
                # (a plan's outcome, an incident); a failing hook is rolled back alone
                for hook in self.on_finished:
                    try:
                        with s.begin_nested():
                            hook(s, job.id, status)
                    except Exception:
                        log.exception("after-job hook failed for job %s", job.id)
        if not stored:
            log.warning("job %s was settled by the sweeper before it finished here", job.id)
            return
        if retry:
            self.queue.put(job.id)
            return
        self.bus.publish(job.id, [{"type": "status", "status": status},
                                  {"type": "end", "status": status, "last_counter": output["last_counter"]}])
        log.info("job finished", extra={"event": "job.finished", "job_id": job.id, "status": status,
                                        "reason": reason})

    # -- leases and cancels ----------------------------------------------------------------------
    def _lease_loop(self) -> None:
        last_renew = 0.0
        while not self._stop.wait(0.5):
            with self._lock:
                ids = list(self._running)
            if not ids:
                continue
            try:
                with self.rt.db.session() as s:
                    if time.monotonic() - last_renew >= self.rt.settings.job_lease_seconds / 3:
                        s.execute(update(Job).where(Job.id.in_(ids), Job.worker == self.id, Job.status == "running")
                                  .values(lease_expires_at=utcnow() + dt.timedelta(
                                      seconds=self.rt.settings.job_lease_seconds)))
                        last_renew = time.monotonic()
                    cancel = set(s.scalars(select(Job.id).where(Job.id.in_(ids), Job.cancel_requested.is_(True))))
            except Exception:
                log.exception("lease renewal failed")
                continue
            with self._lock:
                for job_id in cancel:
                    if job_id in self._running:
                        self._running[job_id].set()


def _known_hosts(private: Path, conn) -> dict[str, Any]:
    """An ssh connection's `known_hosts` (config, not secret) pins its servers' host keys."""
    if conn is None or conn.type != "ssh" or not conn.config.get("known_hosts"):
        return {}
    private.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = private / "known_hosts"
    path.write_text(str(conn.config["known_hosts"]).strip() + "\n")
    return {"ansible_ssh_common_args": f"-o UserKnownHostsFile={path} -o StrictHostKeyChecking=yes"}


def _reason(result: RunResult) -> str:
    if result.status == "timeout":
        return "timed out"
    if result.status == "canceled":
        return "canceled"
    if result.failures:
        f = result.failures[0]
        return f"task '{f.get('task', '')}' failed on {f.get('host', '')}: {f.get('message', '')}"[:500]
    return (result.error or "the playbook failed")[:500]


def _step_dict(row: JobStep) -> dict[str, Any]:
    return {"id": row.id, "position": row.position, "attempt": row.attempt, "step_name": row.step_name,
            "resource": row.resource, "status": row.status, "error": (row.result or {}).get("error") or "",
            "started_at": row.started_at.isoformat() if row.started_at else None,
            "finished_at": row.finished_at.isoformat() if row.finished_at else None}
