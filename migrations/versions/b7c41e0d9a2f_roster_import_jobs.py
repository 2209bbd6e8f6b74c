"""roster import jobs: an uploaded roster file, imported outside the request, with its progress

Revision ID: b7c41e0d9a2f
Revises: a12002399516
Create Date: 2026-11-21 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c41e0d9a2f'
down_revision = 'a12002399516'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('roster_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('phase', sa.String(length=10), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('errors_total', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("phase IS NULL OR phase IN ('read', 'write')", name=op.f('ck_roster_import_phase_known')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_roster_import_status_known')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_roster_import_estate_id_estate')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_roster_import_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_import'))
    )
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_import_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_import_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_import_status'))
        batch_op.drop_index(batch_op.f('ix_roster_import_estate_id'))

    op.drop_table('roster_import')
