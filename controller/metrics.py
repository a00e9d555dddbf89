"""The state of Jarvis as Prometheus metrics, read from the database at scrape time.

Every figure here is a query, not a counter kept in memory: in the full stack reconciles run in
the controller, jobs in the workers, and Prometheus scrapes only the API replicas, so only the
database knows the truth and every replica reports the same. Counters are counts of rows that
never change once final (a finished reconcile run, a finished job), so they only go up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from controller import cron, incidents
from controller.gitops.leader import NAME as LEADER_LEASE
from controller.store.db import Database
from controller.store.models import (
    FINAL,
    DriftItem,
    Job,
    Lease,
    Manifest,
    PlanRow,
    ReconcileRun,
    Source,
    TargetStatus,
    utcnow,
)

log = logging.getLogger(__name__)
RECONCILE_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
WAITING_PLANS = ("pending", "held")
BACKUP_PREFIX = "backup-"      # catalog runbooks that make backups: backup-postgres, backup-volume


class StateCollector(Collector):
    """A prometheus_client collector over the database: every scrape asks it afresh."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("jarvis_database_up", "Whether the database answered this scrape's queries.")
        try:
            with self.db.session() as s:
                families = list(self._families(s))
        except Exception:
            log.exception("metrics: the database did not answer", extra={"event": "metrics.failed"})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, s: Session) -> Iterator[Metric]:
        now = utcnow()
        names = dict(s.execute(select(Source.id, Source.name)).all())
        yield from _reconciles(s, names, self.db.is_sqlite)
        yield from _sources(s, now)
        yield from _targets(s)
        yield _drift(s)
        yield _plans(s)
        yield from _jobs(s, now)
        yield from _leader(s, now)
        yield from _backups(s, now)
        yield _incidents(s)


def _ts(value: dt.datetime | None) -> float:
    return value.timestamp() if value else 0.0


def _seconds(started, finished, sqlite: bool):
    if sqlite:
        return (func.julianday(finished) - func.julianday(started)) * 86400.0
    return func.extract("epoch", finished - started)


def _reconciles(s: Session, names: dict[int, str], sqlite: bool) -> Iterator[Metric]:
    done = ReconcileRun.finished_at.is_not(None)
    total = CounterMetricFamily("jarvis_reconciles", "Reconciles of a source finished, by result (ok, error).",
                                labels=["source", "result"])
    for sid, result, n in s.execute(select(ReconcileRun.source_id, ReconcileRun.result, func.count())
                                    .where(done).group_by(ReconcileRun.source_id, ReconcileRun.result)):
        total.add_metric([names.get(sid, str(sid)), result], n)
    yield total

    secs = _seconds(ReconcileRun.started_at, ReconcileRun.finished_at, sqlite)
    cols = [func.count(), func.coalesce(func.sum(secs), 0.0)]
    cols += [func.sum(case((secs <= b, 1), else_=0)) for b in RECONCILE_BUCKETS]
    hist = HistogramMetricFamily("jarvis_reconcile_duration_seconds", "How long a source's reconcile took "
                                 "(fetch, parse, observe, diff and plan of every target).", labels=["source"])
    for sid, count, total_s, *under in s.execute(select(ReconcileRun.source_id, *cols).where(done)
                                                 .group_by(ReconcileRun.source_id)):
        buckets = [(floatToGoString(b), int(n or 0)) for b, n in zip(RECONCILE_BUCKETS, under, strict=True)]
        hist.add_metric([names.get(sid, str(sid))], buckets + [("+Inf", count)], float(total_s))
    yield hist


def _sources(s: Session, now: dt.datetime) -> Iterator[Metric]:
    success = GaugeMetricFamily("jarvis_source_last_success_timestamp_seconds",
                                "When a source last reconciled without error (0: never).", labels=["source"])
    last = GaugeMetricFamily("jarvis_source_last_reconcile_timestamp_seconds",
                             "When a source's last reconcile finished, whatever its result (0: never).",
                             labels=["source"])
    interval = GaugeMetricFamily("jarvis_source_poll_interval_seconds", "How often an enabled source is polled.",
                                 labels=["source"])
    failing = GaugeMetricFamily("jarvis_source_failing", "1 when a source's last reconcile failed.",
                                labels=["source"])
    for src in s.scalars(select(Source).where(Source.enabled.is_(True))):
        success.add_metric([src.name], _ts(src.last_success_at))
        last.add_metric([src.name], _ts(src.last_sync_at))
        interval.add_metric([src.name], src.poll_interval)
        failing.add_metric([src.name], 1 if src.status == "error" else 0)
    yield from (success, last, interval, failing)


def _targets(s: Session) -> Iterator[Metric]:
    observed = GaugeMetricFamily("jarvis_target_last_observed_timestamp_seconds",
                                 "When a target's live state was last observed.", labels=["target", "kind"])
    nodes = GaugeMetricFamily("jarvis_swarm_node_ready", "1 when a Swarm node was ready at the last observation "
                              "of a swarm target, 0 when it was down or unknown.", labels=["target", "node"])
    for t in s.scalars(select(TargetStatus)):
        observed.add_metric([t.target, t.kind], _ts(t.observed_at))
        for node, state in sorted(((t.health or {}).get("nodes") or {}).items()):
            nodes.add_metric([t.target, node], 1 if state.get("state") == "ready" else 0)
    yield from (observed, nodes)


def _drift(s: Session) -> Metric:
    drift = GaugeMetricFamily("jarvis_drift_items", "Resources by drift status (in_sync, drifted, pending, error).",
                              labels=["status"])
    for status, n in s.execute(select(DriftItem.status, func.count()).group_by(DriftItem.status)):
        drift.add_metric([status], n)
    return drift


def _plans(s: Session) -> Metric:
    plans = GaugeMetricFamily("jarvis_plans_awaiting_approval", "Plans waiting for an operator: pending, or held "
                              "by a safety limit.", labels=["status"])
    counts = dict(s.execute(select(PlanRow.status, func.count()).where(PlanRow.status.in_(WAITING_PLANS))
                            .group_by(PlanRow.status)).all())
    for status in WAITING_PLANS:
        plans.add_metric([status], counts.get(status, 0))
    return plans


def _jobs(s: Session, now: dt.datetime) -> Iterator[Metric]:
    finished = CounterMetricFamily("jarvis_jobs_finished", "Jobs that ended, by runbook and final status.",
                                   labels=["runbook", "status"])
    active = GaugeMetricFamily("jarvis_jobs_active", "Jobs pending or running, by runbook.",
                               labels=["runbook", "status"])
    for runbook, status, n in s.execute(select(Job.runbook, Job.status, func.count())
                                        .group_by(Job.runbook, Job.status)):
        (finished if status in FINAL else active).add_metric([runbook, status], n)
    yield from (finished, active)
    depth, oldest = s.execute(select(func.count(), func.min(Job.created_at)).where(Job.status == "pending")).one()
    yield GaugeMetricFamily("jarvis_queue_depth", "Jobs waiting for a worker.", value=depth)
    yield GaugeMetricFamily("jarvis_queue_oldest_pending_age_seconds", "Age of the oldest job waiting for a "
                            "worker (0: none waits).", value=(now - oldest).total_seconds() if oldest else 0)


def _leader(s: Session, now: dt.datetime) -> Iterator[Metric]:
    lease = s.get(Lease, LEADER_LEASE)
    leading = lease is not None and lease.expires_at > now
    yield GaugeMetricFamily("jarvis_controller_has_leader", "1 when a controller holds an unexpired leader lease.",
                            value=1 if leading else 0)
    info = GaugeMetricFamily("jarvis_controller_leader", "The controller that leads (host:pid:id).",
                             labels=["holder"])
    if leading:
        info.add_metric([lease.holder], 1)
    yield info


def _incidents(s: Session) -> Metric:
    family = GaugeMetricFamily("jarvis_incidents", "Incidents by state (open, acknowledged, resolved).",
                               labels=["state"])
    for state, n in incidents.counts(s).items():
        family.add_metric([state], n)
    return family


def _backups(s: Session, now: dt.datetime) -> Iterator[Metric]:
    last = GaugeMetricFamily("jarvis_backup_last_success_timestamp_seconds",
                             "When a backup runbook's job last succeeded.", labels=["runbook"])
    for runbook, at in s.execute(select(Job.runbook, func.max(Job.finished_at))
                                 .where(Job.runbook.startswith(BACKUP_PREFIX), Job.status == "success")
                                 .group_by(Job.runbook)):
        last.add_metric([runbook], _ts(at))
    yield last
    schedule = GaugeMetricFamily("jarvis_backup_interval_seconds", "The shortest interval between two runs of a "
                                 "backup runbook, from the schedules of the manifests in force.", labels=["runbook"])
    for runbook, seconds in sorted(_backup_intervals(s, now).items()):
        schedule.add_metric([runbook], seconds)
    yield schedule


def _backup_intervals(s: Session, now: dt.datetime) -> dict[str, float]:
    newest = (select(func.max(Manifest.id)).where(Manifest.valid.is_(True))
              .group_by(Manifest.source_id, Manifest.path))
    out: dict[str, float] = {}
    for desired in s.scalars(select(Manifest.desired).where(Manifest.id.in_(newest))):
        for backup in (desired or {}).get("backups") or []:
            try:
                seconds = cron.interval(backup["schedule"], backup.get("timezone") or "UTC", now)
            except (KeyError, ValueError):
                continue
            if seconds:
                out[backup["runbook"]] = min(seconds, out.get(backup["runbook"], seconds))
    return out
