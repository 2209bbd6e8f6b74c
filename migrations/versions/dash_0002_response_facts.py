"""stats: the response facts of the audit trail kept on each renovation issue

- renovation_issue.first_due_at, responded_at, responded_on_time: the deadline stored
  on the issue's first audit entry, the time of its second entry and whether that was
  a person's (not the raiser's) action within the deadline. Written with the entries
  from now on (RenovationIssue.audit_appended); filled here from the entries already
  written, so the dashboard counts the response rate without joining the trail.
- ix_renovation_issue_dashboard: (created_at, path) and every column the dashboard
  counts, so that it reads a node's items of a period from the index alone; it replaces
  ix_renovation_issue_created_path and the plain index on created_at (its leading column).

Revision ID: dash_0002
Revises: notify_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "dash_0002"
down_revision = "notify_0002"
branch_labels = None
depends_on = None

# Set-based, on SQLite and PostgreSQL alike: one lookup of the (subject_type,
# subject_id, seq) unique index per issue and entry. Two statements: the second
# compares with the deadline the first wrote.
FIRST_AND_SECOND = """
UPDATE renovation_issue SET
  first_due_at = (SELECT e.due_at FROM audit_entry e WHERE e.subject_type = 'renovation_issue'
                  AND e.subject_id = renovation_issue.id AND e.seq = 1),
  responded_at = (SELECT e.created_at FROM audit_entry e WHERE e.subject_type = 'renovation_issue'
                  AND e.subject_id = renovation_issue.id AND e.seq = 2)
WHERE audit_seq >= 1
"""
ON_TIME = """
UPDATE renovation_issue SET responded_on_time = TRUE
WHERE audit_seq >= 2 AND EXISTS (
  SELECT 1 FROM audit_entry e WHERE e.subject_type = 'renovation_issue' AND e.subject_id = renovation_issue.id
  AND e.seq = 2 AND e.actor_id IS NOT NULL AND e.actor_id <> renovation_issue.raised_by_id
  AND (renovation_issue.first_due_at IS NULL OR e.created_at <= renovation_issue.first_due_at))
"""


def upgrade():
    # Plain ADD COLUMN: batch mode would rebuild the table.
    op.add_column("renovation_issue", sa.Column("first_due_at", sa.DateTime(), nullable=True))
    op.add_column("renovation_issue", sa.Column("responded_at", sa.DateTime(), nullable=True))
    op.add_column("renovation_issue", sa.Column("responded_on_time", sa.Boolean(), server_default=sa.false(),
                                                nullable=False))
    op.execute(FIRST_AND_SECOND)
    op.execute(ON_TIME)
    op.drop_index("ix_renovation_issue_created_path", table_name="renovation_issue")
    op.drop_index("ix_renovation_issue_created_at", table_name="renovation_issue")
    op.create_index("ix_renovation_issue_dashboard", "renovation_issue",
                    ["created_at", "path", "state", "category", "satisfaction", "open", "due_at", "responded_on_time",
                     "responded_at", "first_due_at"], unique=False)


def downgrade():
    op.drop_index("ix_renovation_issue_dashboard", table_name="renovation_issue")
    op.create_index("ix_renovation_issue_created_at", "renovation_issue", ["created_at"], unique=False)
    op.create_index("ix_renovation_issue_created_path", "renovation_issue", ["created_at", "path", "state"],
                    unique=False)
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild the table and lose the
    # expression index of the worklist, which it cannot reflect.
    for column in ("responded_on_time", "responded_at", "first_due_at"):
        op.execute(f"ALTER TABLE renovation_issue DROP COLUMN {column}")
