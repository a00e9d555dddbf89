"""incidents with a lifecycle: state, fingerprint, acknowledgement, structured resolution, timeline

Revision ID: observability_incidents
Revises: 0004
Create Date: 2026-12-02 20:30:00

Another branch adds `fingerprint` and `state` to `incidents` too: this migration adds only the
columns that are missing, so it applies before or after that one, whichever way the chain is drawn.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import controller.store.models.base


revision = 'observability_incidents'
down_revision = '0004'
branch_labels = None
depends_on = None

UTC = controller.store.models.base.UTCDateTime()


def _columns() -> list[sa.Column]:
    return [
        sa.Column('fingerprint', sa.String(length=200), nullable=True),
        sa.Column('state', sa.String(length=20), server_default='open', nullable=False),
        sa.Column('origin', sa.String(length=40), server_default='', nullable=False),
        sa.Column('severity', sa.String(length=20), server_default='warning', nullable=False),
        sa.Column('occurrences', sa.Integer(), server_default='1', nullable=False),
        sa.Column('last_seen_at', UTC, nullable=True),
        sa.Column('acknowledged_at', UTC, nullable=True),
        sa.Column('acknowledged_by', sa.String(length=320), server_default='', nullable=False),
        sa.Column('resolved_by', sa.String(length=320), server_default='', nullable=False),
        sa.Column('resolution', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  server_default='{}', nullable=False),
    ]


INDEX = 'ix_incidents_fingerprint_state'


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    have = {c['name'] for c in inspector.get_columns('incidents')}
    indexes = {i['name'] for i in inspector.get_indexes('incidents')}
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        for column in _columns():
            if column.name not in have:
                batch_op.add_column(column)
    # incidents closed before there was a state are resolved ones
    op.execute("UPDATE incidents SET state = 'resolved' WHERE closed_at IS NOT NULL AND state = 'open'")
    if INDEX not in indexes:
        with op.batch_alter_table('incidents', schema=None) as batch_op:
            batch_op.create_index(INDEX, ['fingerprint', 'state'], unique=False)
    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))
    op.drop_table('incident_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
