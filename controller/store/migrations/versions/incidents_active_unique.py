"""at most one active incident per fingerprint (a partial unique index)

Revision ID: incidents_active_unique
Revises: observability_incidents
Create Date: 2026-12-03 06:40:00

Before the index, duplicates that a race may already have opened are folded: the newest active
incident of a fingerprint stays, the older ones are resolved with a note saying why.
"""
from alembic import op
import sqlalchemy as sa


revision = 'incidents_active_unique'
down_revision = 'observability_incidents'
branch_labels = None
depends_on = None

WHERE = "fingerprint IS NOT NULL AND state IN ('open', 'acknowledged')"


def upgrade() -> None:
    op.execute(
        "UPDATE incidents SET state = 'resolved', resolved_by = 'jarvis', closed_at = CURRENT_TIMESTAMP, "
        "resolution = '{\"cause\": \"duplicate\", \"action\": \"folded into a newer incident\"}' "
        f"WHERE {WHERE} AND id < (SELECT MAX(i2.id) FROM incidents i2 "
        "WHERE i2.fingerprint = incidents.fingerprint AND i2.state IN ('open', 'acknowledged'))")
    op.create_index('uq_incidents_active_fingerprint', 'incidents', ['fingerprint'], unique=True,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('uq_incidents_active_fingerprint', table_name='incidents')
