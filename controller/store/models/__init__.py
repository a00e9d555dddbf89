"""All models, imported here so Alembic and `Base.metadata` see every table."""

from controller.store.models.audit import AuditEntry
from controller.store.models.auth import AppSetting, OneTimeToken, RecoveryCode, RefreshToken, User
from controller.store.models.base import Base, utcnow
from controller.store.models.connections import Connection

__all__ = ["AppSetting", "AuditEntry", "Base", "Connection", "OneTimeToken", "RecoveryCode", "RefreshToken",
           "User", "utcnow"]
