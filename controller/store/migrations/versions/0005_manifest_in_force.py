"""manifests: the revision in force at each revision, and the files each manifest read

Revision ID: 0005
Revises: backups_schedules
Create Date: 2026-12-03 06:40:00

`in_force_revision` is stored when a revision is synced (the last valid version in commit order);
`files` lets a push re-plan only the manifests whose own file or referenced files changed.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0005'
down_revision = 'backups_schedules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_force_revision', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('files', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                                      server_default='[]', nullable=False))
    # rows stored before: a valid row is in force at its own revision
    op.execute("UPDATE manifests SET in_force_revision = revision WHERE valid = true")


def downgrade() -> None:
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_column('files')
        batch_op.drop_column('in_force_revision')
