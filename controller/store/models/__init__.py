"""All models, imported here so Alembic and `Base.metadata` see every table."""

from controller.store.models.audit import AuditEntry
from controller.store.models.auth import (
    AppSetting,
    OneTimeToken,
    RecoveryCode,
    RefreshToken,
    User,
    UserSession,
)
from controller.store.models.backups import BackupCheck, BackupSchedule
from controller.store.models.base import Base, utcnow
from controller.store.models.connections import Connection
from controller.store.models.gitops import (
    DriftItem,
    Incident,
    Lease,
    Manifest,
    PlanRow,
    ReconcileRun,
    Revision,
    Source,
    TargetStatus,
    WebhookDelivery,
)
from controller.store.models.incidents import IncidentEvent
from controller.store.models.jobs import FINAL, Job, JobArtifact, JobEvent, JobStep
from controller.store.models.notifications import NotificationDelivery, NotificationRule

__all__ = ["DriftItem", "Incident", "IncidentEvent", "Lease", "Manifest", "PlanRow", "ReconcileRun", "Revision", "Source",
           "TargetStatus", "WebhookDelivery", "AppSetting", "AuditEntry", "BackupCheck", "BackupSchedule", "Base", "Connection", "FINAL", "Job", "JobArtifact", "JobEvent", "JobStep", "NotificationDelivery", "NotificationRule", "OneTimeToken", "RecoveryCode", "RefreshToken",
           "User", "UserSession", "utcnow"]
