"""plan secrets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:00:59.283220
"""
from alembic import op
import sqlalchemy as sa
import controller.store.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrets', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('secrets_key_id', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('secrets_key_id')
        batch_op.drop_column('secrets')

