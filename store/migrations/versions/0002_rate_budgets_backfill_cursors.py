"""rate budgets and backfill cursors

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_budgets',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('backfill_cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('helpdesk', sa.String(length=32), nullable=False),
    sa.Column('since', store.types.UTCDateTime(), nullable=False),
    sa.Column('label_from', sa.String(length=255), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('seen', sa.Integer(), nullable=False),
    sa.Column('stored', sa.Integer(), nullable=False),
    sa.Column('finished_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('helpdesk', 'since', 'label_from', name='uq_backfill_cursors_run')
    )


def downgrade() -> None:
    op.drop_table('backfill_cursors')
    op.drop_table('rate_budgets')
