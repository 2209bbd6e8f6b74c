"""first run and administration: must-change-password flag, admin log, household claims

Revision ID: admin_0001
Revises: dash_0001
Create Date: 2026-12-04 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'admin_0001'
down_revision = 'dash_0001'
branch_labels = None
depends_on = None

PATH = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    op.add_column('person', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('admin_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('path', PATH, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_admin_log_actor_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_log'))
    )
    with op.batch_alter_table('admin_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_log_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_log_created_at'), ['created_at'], unique=False)
    op.create_table('household_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('owner_phone', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('path', PATH, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_household_claim_status_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_household_claim_decided_by_id_person')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_claim_household_id_household')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_household_claim_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_claim'))
    )
    with op.batch_alter_table('household_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_claim_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_claim_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_claim_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_claim_path'), ['path'], unique=False)


def downgrade():
    op.drop_table('household_claim')
    op.drop_table('admin_log')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
