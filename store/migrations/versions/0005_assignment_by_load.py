"""assignment by load: team groups, agent loads, assignments and the waiting queue

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import store.types
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('team_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('helpdesk', sa.String(length=32), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('members', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('read_at', store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('helpdesk', 'group_id', name='uq_team_groups_helpdesk_group')
    )
    op.create_table('agent_loads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('helpdesk', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=True),
    sa.Column('checked_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('open_count', sa.Integer(), nullable=True),
    sa.Column('counted_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('assigned_since', sa.Integer(), nullable=False),
    sa.Column('last_assigned_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('away_until', store.types.UTCDateTime(), nullable=True),
    sa.Column('away_set_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('helpdesk', 'agent_id', name='uq_agent_loads_helpdesk_agent')
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('helpdesk', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('group_name', sa.String(length=255), nullable=True),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=255), nullable=True),
    sa.Column('route', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('agent_name', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('waiting_since', store.types.UTCDateTime(), nullable=True),
    sa.Column('assigned_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('written_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('helpdesk', 'external_id', name='uq_assignments_helpdesk_ticket')
    )
    op.create_index('ix_assignments_waiting', 'assignments', ['state', 'helpdesk', 'waiting_since'])
    op.create_index('ix_assignments_agent', 'assignments', ['helpdesk', 'agent_id', 'assigned_at'])


def downgrade() -> None:
    op.drop_index('ix_assignments_agent', table_name='assignments')
    op.drop_index('ix_assignments_waiting', table_name='assignments')
    op.drop_table('assignments')
    op.drop_table('agent_loads')
    op.drop_table('team_groups')
