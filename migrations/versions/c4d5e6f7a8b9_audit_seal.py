"""audit seal: each audited subject keeps a keyed seal (HMAC) of its chain head

Revision ID: c4d5e6f7a8b9
Revises: b7c41e0d9a2f
Create Date: 2026-12-04 03:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4d5e6f7a8b9'
down_revision = 'b7c41e0d9a2f'
branch_labels = None
depends_on = None

SUBJECT_TABLES = ('renovation_issue', 'convention_version', 'dispatch_assignment', 'vote', 'joint_inspection')


# Plain ADD/DROP COLUMN (SQLite 3.35+ has both): batch mode would rebuild renovation_issue
# and cannot carry its expression index (ix_renovation_issue_worklist_order) across.
def upgrade():
    for table in SUBJECT_TABLES:
        op.add_column(table, sa.Column('audit_mac', sa.String(length=64), nullable=True))


def downgrade():
    for table in SUBJECT_TABLES:
        op.drop_column(table, 'audit_mac')
