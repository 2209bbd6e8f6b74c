"""issue location: where exactly, in words and as a map point

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-12-04 06:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3b4c5d6e7f8'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN: batch mode would rebuild renovation_issue and cannot carry its
# expression index (ix_renovation_issue_worklist_order) across.
def upgrade():
    op.add_column('renovation_issue', sa.Column('location', sa.String(length=200), nullable=True))
    op.add_column('renovation_issue', sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True))
    op.add_column('renovation_issue', sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True))


def downgrade():
    op.drop_column('renovation_issue', 'longitude')
    op.drop_column('renovation_issue', 'latitude')
    op.drop_column('renovation_issue', 'location')
