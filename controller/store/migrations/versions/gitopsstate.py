"""manifests: the version before each one in commit order, so a re-check can find the version in force

Revision ID: gitopsstate
Revises: contract_target_summary
Create Date: 2026-12-03 18:40:00

`previous_revision` links each stored manifest row to the row of the same file at the nearest
earlier revision (first-parent order; a working tree: the previous sync). When a connection is
added, renamed or deleted, the rows naming it are checked again and the version in force is
found by walking these links, without the repository (the API process has no mirror).
"""
from alembic import op
import sqlalchemy as sa


revision = 'gitopsstate'
down_revision = 'contract_target_summary'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_revision', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_column('previous_revision')
