"""manifests: an index on (source_id, revision)

Revision ID: manifests_source_revision
Revises: gitopsstate
Create Date: 2026-12-04 15:10:00

A push re-plans only the manifests it changed and carries the others' rows from the base revision to
the new one; that, what each manifest read at the base, and the pages read every row of one revision.
Without this index each of those scans every stored version of every manifest of the source, so a
push got slower with every revision stored.
"""
from alembic import op


revision = 'manifests_source_revision'
down_revision = 'gitopsstate'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_manifests_source_revision', 'manifests', ['source_id', 'revision'])


def downgrade() -> None:
    op.drop_index('ix_manifests_source_revision', table_name='manifests')
