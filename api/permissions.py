"""The one declared table of which role may do which action.

Every route declares its action through `deps.require(action)`; the app copies it into the
OpenAPI document as `x-jarvis-action`, and a test walks every operation for every role against
this table, so a route without a declared action fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    role: str | None          # minimum role; None: no login needed (public)
    self_ok: bool = False     # allowed to a session confined to its own account (scope "self")


PUBLIC = "public"

ACTIONS: dict[str, Rule] = {
    PUBLIC: Rule(None),
    # the account of the caller
    "auth.self": Rule("viewer", self_ok=True),
    # administration
    "users.read": Rule("admin"),
    "users.write": Rule("admin"),
    "audit.read": Rule("admin"),
    "security.write": Rule("admin"),
    # connections: everyone sees them (never their credentials); admins change them
    "connections.read": Rule("viewer"),
    "connections.write": Rule("admin"),
    "connections.test": Rule("operator"),
    "connection_types.read": Rule("viewer"),
    # runbooks and jobs (a runbook may demand more than operator: checked when executing)
    "runbooks.read": Rule("viewer"),
    "runbooks.execute": Rule("operator"),
    "jobs.read": Rule("viewer"),
    "jobs.cancel": Rule("operator"),
    "jobs.rerun": Rule("operator"),
    # gitops
    "sources.read": Rule("viewer"),
    "sources.write": Rule("admin"),
    "sources.sync": Rule("operator"),
    "plans.read": Rule("viewer"),
    "plans.approve": Rule("operator"),
    "drift.read": Rule("viewer"),
    "dashboard.read": Rule("viewer"),
    # live containers: everyone sees them and their logs; operators restart them
    "containers.read": Rule("viewer"),
    "containers.logs": Rule("viewer"),
    "logs.read": Rule("viewer"),
    "containers.restart": Rule("operator"),
    # servers (the Infra page): everyone sees them
    "infra.read": Rule("viewer"),
    # incidents: everyone sees them; operators acknowledge, annotate and resolve them
    "incidents.read": Rule("viewer"),
    "incidents.write": Rule("operator"),
    # backups: everyone sees them; operators run them and their checks (restores are runbooks: admin)
    "backups.read": Rule("viewer"),
    "backups.run": Rule("operator"),
    # notifications: everyone sees rules and deliveries; operators send one again; admins write rules
    "notifications.read": Rule("viewer"),
    "notifications.retry": Rule("operator"),
    "notifications.write": Rule("admin"),
}
