"""jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:33:43.603520
"""
from alembic import op
import sqlalchemy as sa
import controller.store.models.base
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runbook', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('input_json', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('secret_input', sa.LargeBinary(), nullable=True),
    sa.Column('secret_key_id', sa.String(length=40), nullable=True),
    sa.Column('output_json', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('steps_spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('connection', sa.String(length=100), nullable=True),
    sa.Column('concurrency_key', sa.String(length=300), nullable=True),
    sa.Column('timeout_s', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_on', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('rerun_of', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('last_counter', sa.BigInteger(), nullable=False),
    sa.Column('created_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['rerun_of'], ['jobs.id'], name=op.f('fk_jobs_rerun_of_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_runbook'), ['runbook'], unique=False)
        batch_op.create_index('ix_jobs_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('uq_jobs_running_key', ['concurrency_key'], unique=True, postgresql_where=sa.text("status = 'running' AND concurrency_key IS NOT NULL"), sqlite_where=sa.text("status = 'running' AND concurrency_key IS NOT NULL"))

    op.create_table('job_artifacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('created_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_artifacts_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_artifacts')),
    sa.UniqueConstraint('job_id', 'name', name='uq_job_artifacts_job_name')
    )
    with op.batch_alter_table('job_artifacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_artifacts_job_id'), ['job_id'], unique=False)

    op.create_table('job_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('counter', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('host', sa.String(length=300), nullable=False),
    sa.Column('task', sa.String(length=500), nullable=False),
    sa.Column('stdout', sa.Text(), nullable=False),
    sa.Column('created', controller.store.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_events_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_events')),
    sa.UniqueConstraint('job_id', 'counter', name='uq_job_events_job_counter')
    )
    op.create_table('job_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('step_name', sa.String(length=300), nullable=False),
    sa.Column('resource', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('logs', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('started_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', controller.store.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_steps_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_steps'))
    )
    with op.batch_alter_table('job_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_steps_job_id'), ['job_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('job_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_steps_job_id'))

    op.drop_table('job_steps')
    op.drop_table('job_events')
    with op.batch_alter_table('job_artifacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_artifacts_job_id'))

    op.drop_table('job_artifacts')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_jobs_running_key', postgresql_where=sa.text("status = 'running' AND concurrency_key IS NOT NULL"), sqlite_where=sa.text("status = 'running' AND concurrency_key IS NOT NULL"))
        batch_op.drop_index('ix_jobs_status_created')
        batch_op.drop_index(batch_op.f('ix_jobs_runbook'))
        batch_op.drop_index(batch_op.f('ix_jobs_plan_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_at'))

    op.drop_table('jobs')
