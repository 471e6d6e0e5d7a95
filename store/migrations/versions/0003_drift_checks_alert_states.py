"""drift checks and alert states (learning from corrections)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import store.types
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drift_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('segment', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_drift_checks_checked_at', 'drift_checks', ['checked_at'])
    op.create_table('alert_states',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('first_seen_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_sent_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('alert_states')
    op.drop_index('ix_drift_checks_checked_at', table_name='drift_checks')
    op.drop_table('drift_checks')
