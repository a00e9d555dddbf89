"""notifications out: rules and deliveries

Revision ID: notifications_out
Revises: backups_check_schedule
Create Date: 2026-12-04 23:10:00
"""
from alembic import op
import sqlalchemy as sa
import controller.store.models.base
from sqlalchemy.dialects import postgresql

revision = 'notifications_out'
down_revision = 'backups_check_schedule'
branch_labels = None
depends_on = None

TS = controller.store.models.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'notification_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('events', JSON, nullable=False),
        sa.Column('environment', sa.String(length=100), nullable=False),
        sa.Column('dedupe_seconds', sa.Integer(), nullable=False),
        sa.Column('max_per_hour', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['connections.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_notification_rules_channel_id', 'notification_rules', ['channel_id'])
    op.create_table(
        'notification_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('channel_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=100), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('environment', sa.String(length=100), nullable=False),
        sa.Column('dedupe_key', sa.String(length=300), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=1000), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', TS, nullable=True),
        sa.Column('claimed_until', TS, nullable=True),
        sa.Column('last_error', sa.String(length=2000), nullable=False),
        sa.Column('response', sa.String(length=500), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('sent_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['notification_rules.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['channel_id'], ['connections.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_deliveries_channel_id', 'notification_deliveries', ['channel_id'])
    op.create_index('ix_notification_deliveries_created_at', 'notification_deliveries', ['created_at'])
    op.create_index('ix_notification_deliveries_due', 'notification_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_notification_deliveries_rule_key', 'notification_deliveries',
                    ['rule_id', 'dedupe_key', 'created_at'])


def downgrade() -> None:
    op.drop_table('notification_deliveries')
    op.drop_table('notification_rules')
