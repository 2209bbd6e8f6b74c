"""notification events: the transactional outbox a change writes (one row), fanned out into
per-person notifications after the commit

Revision ID: notify_0002
Revises: admin_0001
Create Date: 2026-12-04 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify_0002'
down_revision = 'admin_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audiences', sa.String(length=200), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('targets', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_event'))
    )


def downgrade():
    op.drop_table('notification_event')
