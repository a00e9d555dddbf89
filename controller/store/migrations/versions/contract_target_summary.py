"""target status: the reconciler's typed summary of each observation

Revision ID: contract_target_summary
Revises: sessions_sid
Create Date: 2026-12-03 18:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'contract_target_summary'
down_revision = 'sessions_sid'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('target_status') as batch:
        batch.add_column(sa.Column('summary', JSON, nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('target_status') as batch:
        batch.drop_column('summary')
