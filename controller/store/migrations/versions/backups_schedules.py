"""scheduled backups and their checks

Revision ID: backups_schedules
Revises: incidents_active_unique
Create Date: 2026-12-03 07:05:00
"""
from alembic import op
import sqlalchemy as sa
import controller.store.models.base
from sqlalchemy.dialects import postgresql

revision = 'backups_schedules'
down_revision = 'incidents_active_unique'
branch_labels = None
depends_on = None

TS = controller.store.models.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'backups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=1200), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=True),
        sa.Column('manifest_path', sa.String(length=1000), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('runbook', sa.String(length=100), nullable=False),
        sa.Column('schedule', sa.String(length=100), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('input', JSON, nullable=False),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('next_run_at', TS, nullable=True),
        sa.Column('last_run_at', TS, nullable=True),
        sa.Column('last_job_id', sa.Integer(), nullable=True),
        sa.Column('last_status', sa.String(length=20), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('last_success_at', TS, nullable=True),
        sa.Column('last_snapshot_id', sa.String(length=80), nullable=False),
        sa.Column('last_size', sa.BigInteger(), nullable=True),
        sa.Column('last_added', sa.BigInteger(), nullable=True),
        sa.Column('snapshot_count', sa.Integer(), nullable=True),
        sa.Column('check_status', sa.String(length=20), nullable=False),
        sa.Column('checked_at', TS, nullable=True),
        sa.Column('check_detail', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_backups_source_id', 'backups', ['source_id'])
    op.create_table(
        'backup_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('backup_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('at', TS, nullable=False),
        sa.ForeignKeyConstraint(['backup_id'], ['backups.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_backup_checks_backup_id', 'backup_checks', ['backup_id'])


def downgrade() -> None:
    op.drop_table('backup_checks')
    op.drop_table('backups')
