"""dispatch notes: each level's note travels up with its figures; a level above may close a silent part

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-04 06:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+): nullable columns need no table rebuild.
def upgrade():
    op.add_column('dispatch_assignment', sa.Column('note', sa.Text(), nullable=True))
    op.add_column('dispatch_assignment', sa.Column('closed_reason', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('dispatch_assignment', 'closed_reason')
    op.drop_column('dispatch_assignment', 'note')
