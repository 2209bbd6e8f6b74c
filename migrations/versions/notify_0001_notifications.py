"""notifications: the inbox, the outbox of mail, preferences per kind, a person's email

Revision ID: notify_0001
Revises: care_0001
Create Date: 2026-12-04 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify_0001'
down_revision = 'care_0001'
branch_labels = None
depends_on = None


PARTIAL_INDEXES = (
    ('ix_notification_unread', ['person_id'], "read_at IS NULL", False),
    ('ix_notification_outbox', ['next_attempt_at'], "email_state = 'pending'", False),
    ('ix_notification_digest', ['person_id'], "delivery = 'digest' AND digest_token IS NULL", False),
    ('uq_notification_once', ['person_id', 'kind', 'once_key'], "once_key IS NOT NULL", True),
)


def upgrade():
    # Plain ADD COLUMN: batch mode would rebuild the person table.
    op.add_column('person', sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('once_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('email_state', sa.String(length=10), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('digest_token', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_notification_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index('ix_notification_inbox', 'notification', ['person_id', 'id'], unique=False)
    # Partial indexes: a row enters only those that concern it (see notify/models.py).
    for name, columns, where, unique in PARTIAL_INDEXES:
        op.create_index(name, 'notification', columns, unique=unique,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.create_table('notification_preference',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_notification_preference_person_id_person')),
    sa.PrimaryKeyConstraint('person_id', 'kind', name=op.f('pk_notification_preference')),
    )


def downgrade():
    op.drop_table('notification_preference')
    for name, _columns, _where, _unique in PARTIAL_INDEXES:
        op.drop_index(name, table_name='notification')
    op.drop_index('ix_notification_inbox', table_name='notification')
    op.drop_table('notification')
    op.drop_column('person', 'email')
