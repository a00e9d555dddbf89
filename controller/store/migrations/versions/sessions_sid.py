"""user_sessions: the session an access token's `sid` names, and whether it ended

Revision ID: sessions_sid
Revises: 0005
Create Date: 2026-12-03 18:30:00

A session is the refresh-token family; sessions still open at upgrade get their row, so their
refresh tokens keep working (access tokens issued before carry no `sid` and are refused).
"""
from alembic import op
import sqlalchemy as sa
import controller.store.models.base

revision = 'sessions_sid'
down_revision = '0005'
branch_labels = None
depends_on = None

TS = controller.store.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('ended_at', TS, nullable=True),
        sa.Column('end_reason', sa.String(length=40), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_user_sessions_user_id', 'user_sessions', ['user_id'])
    op.execute("INSERT INTO user_sessions (id, user_id, created_at, end_reason) "
               "SELECT family, MIN(user_id), MIN(created_at), '' FROM refresh_tokens "
               "WHERE revoked_at IS NULL GROUP BY family")


def downgrade() -> None:
    op.drop_index('ix_user_sessions_user_id', table_name='user_sessions')
    op.drop_table('user_sessions')
