"""worker heartbeats (readiness of the inbox workers, seen from a web process)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('worker_heartbeats',
    sa.Column('identity', sa.String(length=128), nullable=False),
    sa.Column('seen_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('identity')
    )
    op.create_index('ix_worker_heartbeats_seen_at', 'worker_heartbeats', ['seen_at'])


def downgrade() -> None:
    op.drop_index('ix_worker_heartbeats_seen_at', table_name='worker_heartbeats')
    op.drop_table('worker_heartbeats')
