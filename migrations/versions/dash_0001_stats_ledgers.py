"""stats: the deadline stored on each audit entry, ledger jobs, an index for the dashboard

- audit_entry.due_at: the deadline the subject was given on entering the entry's state
  (the response rate compares the next entry's time with it).
- ledger_job: ledgers (.xlsx) written outside the request, with their progress.
- ix_renovation_issue_path_created: the dashboard reads a node's items of a period as
  an index range on (path, created_at).

Revision ID: dash_0001
Revises: notify_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "dash_0001"
down_revision = "notify_0001"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: batch mode would rebuild the table.
    op.add_column("audit_entry", sa.Column("due_at", sa.DateTime(), nullable=True))
    op.create_index("ix_renovation_issue_created_path", "renovation_issue", ["created_at", "path", "state"], unique=False)
    op.create_table(
        "ledger_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(length=10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["org_node.id"], name=op.f("fk_ledger_job_org_id_org_node")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_ledger_job_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_job")),
    )
    op.create_index(op.f("ix_ledger_job_person_id"), "ledger_job", ["person_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_ledger_job_person_id"), table_name="ledger_job")
    op.drop_table("ledger_job")
    op.drop_index("ix_renovation_issue_created_path", table_name="renovation_issue")
    op.drop_column("audit_entry", "due_at")
