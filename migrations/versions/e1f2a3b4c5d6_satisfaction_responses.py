"""satisfaction responses: every household concerned answers once an item is resolved or accepted

Revision ID: e1f2a3b4c5d6
Revises: c4d5e6f7a8b9
Create Date: 2026-12-04 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e1f2a3b4c5d6'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'satisfaction_response',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=True),
        sa.Column('respondent_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_satisfaction_response_rating_range')),
        sa.CheckConstraint("channel IN ('online', 'paper', 'door_to_door')",
                           name=op.f('ck_satisfaction_response_channel_known')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'],
                                name=op.f('fk_satisfaction_response_household_id_household')),
        sa.ForeignKeyConstraint(['issue_id'], ['renovation_issue.id'],
                                name=op.f('fk_satisfaction_response_issue_id_renovation_issue')),
        sa.ForeignKeyConstraint(['respondent_id'], ['person.id'],
                                name=op.f('fk_satisfaction_response_respondent_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_response')),
    )
    op.create_index('ix_satisfaction_response_issue_household', 'satisfaction_response', ['issue_id', 'household_id'])
    op.create_index(op.f('ix_satisfaction_response_created_at'), 'satisfaction_response', ['created_at'])


def downgrade():
    op.drop_index(op.f('ix_satisfaction_response_created_at'), table_name='satisfaction_response')
    op.drop_index('ix_satisfaction_response_issue_household', table_name='satisfaction_response')
    op.drop_table('satisfaction_response')
