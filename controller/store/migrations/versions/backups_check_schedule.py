"""a backup's restic check schedule

Revision ID: backups_check_schedule
Revises: manifests_source_revision
Create Date: 2026-12-05 00:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'backups_check_schedule'
down_revision = 'manifests_source_revision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('backups', sa.Column('check_schedule', sa.String(length=100), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('backups', 'check_schedule')
