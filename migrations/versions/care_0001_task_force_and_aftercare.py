"""task force and management after acceptance: each estate's standing task force (members,
meetings, attendance, action items), patrol routes and walks, the handover to the property
company, warranty repairs and maintenance fund uses with their ledger

Revision ID: care_0001
Revises: plan_0001
Create Date: 2026-12-04 05:40:01.406636

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'care_0001'
down_revision = 'plan_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('property_company', sa.String(length=200), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('record_document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_handover_estate_id_estate')),
    sa.ForeignKeyConstraint(['received_by_id'], ['person.id'], name=op.f('fk_handover_received_by_id_person')),
    sa.ForeignKeyConstraint(['record_document_id'], ['stored_document.id'], name=op.f('fk_handover_record_document_id_stored_document')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_handover_responsible_org_id_org_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover')),
    sa.UniqueConstraint('estate_id', name=op.f('uq_handover_estate_id'))
    )
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_state'), ['state'], unique=False)

    op.create_table('maintenance_fund_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_maintenance_fund_use_amount_positive')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_maintenance_fund_use_estate_id_estate')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['person.id'], name=op.f('fk_maintenance_fund_use_proposed_by_id_person')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_maintenance_fund_use_responsible_org_id_org_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_fund_use'))
    )
    with op.batch_alter_table('maintenance_fund_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_fund_use_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_fund_use_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_fund_use_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_fund_use_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_fund_use_state'), ['state'], unique=False)

    op.create_table('patrol_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_patrol_plan_created_by_id_person')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_patrol_plan_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_plan'))
    )
    with op.batch_alter_table('patrol_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_plan_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_plan_path'), ['path'], unique=False)

    op.create_table('task_force',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('convener_org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('feed_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['convener_org_id'], ['org_node.id'], name=op.f('fk_task_force_convener_org_id_org_node')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_task_force_estate_id_estate')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_task_force_responsible_org_id_org_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force')),
    sa.UniqueConstraint('estate_id', name=op.f('uq_task_force_estate_id')),
    sa.UniqueConstraint('feed_token', name=op.f('uq_task_force_feed_token'))
    )
    with op.batch_alter_table('task_force', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_force_convener_org_id'), ['convener_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_force_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_force_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_force_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_force_state'), ['state'], unique=False)

    op.create_table('handover_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('facility', 'document')", name=op.f('ck_handover_item_kind_known')),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_handover_item_handover_id_handover')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_item')),
    sa.UniqueConstraint('handover_id', 'position', name=op.f('uq_handover_item_handover_id'))
    )
    with op.batch_alter_table('handover_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_item_handover_id'), ['handover_id'], unique=False)

    op.create_table('maintenance_fund_spending',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_use_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('payee', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_maintenance_fund_spending_amount_positive')),
    sa.ForeignKeyConstraint(['fund_use_id'], ['maintenance_fund_use.id'], name=op.f('fk_maintenance_fund_spending_fund_use_id_maintenance_fund_use')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_maintenance_fund_spending_recorded_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_fund_spending'))
    )
    with op.batch_alter_table('maintenance_fund_spending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_fund_spending_fund_use_id'), ['fund_use_id'], unique=False)

    op.create_table('patrol_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('what_to_check', sa.Text(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_patrol_point_building_id_building')),
    sa.ForeignKeyConstraint(['plan_id'], ['patrol_plan.id'], name=op.f('fk_patrol_point_plan_id_patrol_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_point')),
    sa.UniqueConstraint('plan_id', 'position', name=op.f('uq_patrol_point_plan_id'))
    )
    with op.batch_alter_table('patrol_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_point_plan_id'), ['plan_id'], unique=False)

    op.create_table('patrol_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('walker_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_patrol_round_estate_id_estate')),
    sa.ForeignKeyConstraint(['plan_id'], ['patrol_plan.id'], name=op.f('fk_patrol_round_plan_id_patrol_plan')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_patrol_round_responsible_org_id_org_node')),
    sa.ForeignKeyConstraint(['walker_id'], ['person.id'], name=op.f('fk_patrol_round_walker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_round'))
    )
    with op.batch_alter_table('patrol_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_round_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_round_walker_id'), ['walker_id'], unique=False)

    op.create_table('task_force_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_force_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=30), nullable=False),
    sa.Column('duty', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("party IN ('street', 'community', 'party_member', 'resident_representative', 'owners_committee', 'property', 'builder', 'supervisor', 'utility')", name=op.f('ck_task_force_member_party_known')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_task_force_member_person_id_person')),
    sa.ForeignKeyConstraint(['task_force_id'], ['task_force.id'], name=op.f('fk_task_force_member_task_force_id_task_force')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force_member'))
    )
    with op.batch_alter_table('task_force_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_force_member_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_force_member_task_force_id'), ['task_force_id'], unique=False)

    op.create_table('taskforce_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_force_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('decisions', sa.Text(), nullable=False),
    sa.Column('minutes_document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['minutes_document_id'], ['stored_document.id'], name=op.f('fk_taskforce_meeting_minutes_document_id_stored_document')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_taskforce_meeting_responsible_org_id_org_node')),
    sa.ForeignKeyConstraint(['task_force_id'], ['task_force.id'], name=op.f('fk_taskforce_meeting_task_force_id_task_force')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taskforce_meeting'))
    )
    with op.batch_alter_table('taskforce_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_taskforce_meeting_task_force_id'), ['task_force_id'], unique=False)

    op.create_table('taskforce_attendance',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['taskforce_meeting.id'], name=op.f('fk_taskforce_attendance_meeting_id_taskforce_meeting')),
    sa.ForeignKeyConstraint(['member_id'], ['task_force_member.id'], name=op.f('fk_taskforce_attendance_member_id_task_force_member')),
    sa.PrimaryKeyConstraint('meeting_id', 'member_id', name=op.f('pk_taskforce_attendance'))
    )
    op.create_table('patrol_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("result = 'ok' OR issue_id IS NOT NULL", name=op.f('ck_patrol_check_finding_has_issue')),
    sa.CheckConstraint("result IN ('ok', 'finding')", name=op.f('ck_patrol_check_result_known')),
    sa.ForeignKeyConstraint(['issue_id'], ['renovation_issue.id'], name=op.f('fk_patrol_check_issue_id_renovation_issue')),
    sa.ForeignKeyConstraint(['point_id'], ['patrol_point.id'], name=op.f('fk_patrol_check_point_id_patrol_point')),
    sa.ForeignKeyConstraint(['round_id'], ['patrol_round.id'], name=op.f('fk_patrol_check_round_id_patrol_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_check')),
    sa.UniqueConstraint('round_id', 'point_id', name=op.f('uq_patrol_check_round_id'))
    )
    with op.batch_alter_table('patrol_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_check_round_id'), ['round_id'], unique=False)

    op.create_table('warranty_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('audit_mac', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_warranty_request_building_id_building')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_warranty_request_estate_id_estate')),
    sa.ForeignKeyConstraint(['issue_id'], ['renovation_issue.id'], name=op.f('fk_warranty_request_issue_id_renovation_issue')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['person.id'], name=op.f('fk_warranty_request_requested_by_id_person')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_warranty_request_responsible_org_id_org_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_request'))
    )
    with op.batch_alter_table('warranty_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warranty_request_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_warranty_request_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warranty_request_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_warranty_request_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warranty_request_state'), ['state'], unique=False)

    op.create_table('taskforce_action_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('dispatch_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'issue' AND issue_id IS NOT NULL) OR (kind = 'dispatch' AND dispatch_id IS NOT NULL)", name=op.f('ck_taskforce_action_item_linked')),
    sa.CheckConstraint("kind IN ('issue', 'dispatch')", name=op.f('ck_taskforce_action_item_kind_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_taskforce_action_item_created_by_id_person')),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_taskforce_action_item_dispatch_id_dispatch')),
    sa.ForeignKeyConstraint(['issue_id'], ['renovation_issue.id'], name=op.f('fk_taskforce_action_item_issue_id_renovation_issue')),
    sa.ForeignKeyConstraint(['meeting_id'], ['taskforce_meeting.id'], name=op.f('fk_taskforce_action_item_meeting_id_taskforce_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taskforce_action_item')),
    sa.UniqueConstraint('meeting_id', 'title', name=op.f('uq_taskforce_action_item_meeting_id'))
    )
    with op.batch_alter_table('taskforce_action_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taskforce_action_item_meeting_id'), ['meeting_id'], unique=False)



def downgrade():
    with op.batch_alter_table('taskforce_action_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taskforce_action_item_meeting_id'))

    op.drop_table('taskforce_action_item')
    with op.batch_alter_table('warranty_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warranty_request_state'))
        batch_op.drop_index(batch_op.f('ix_warranty_request_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_warranty_request_path'))
        batch_op.drop_index(batch_op.f('ix_warranty_request_estate_id'))
        batch_op.drop_index(batch_op.f('ix_warranty_request_due_at'))

    op.drop_table('warranty_request')
    with op.batch_alter_table('patrol_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_check_round_id'))

    op.drop_table('patrol_check')
    op.drop_table('taskforce_attendance')
    with op.batch_alter_table('taskforce_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_task_force_id'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_state'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_starts_at'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_series_id'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_path'))
        batch_op.drop_index(batch_op.f('ix_taskforce_meeting_due_at'))

    op.drop_table('taskforce_meeting')
    with op.batch_alter_table('task_force_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_force_member_task_force_id'))
        batch_op.drop_index(batch_op.f('ix_task_force_member_person_id'))

    op.drop_table('task_force_member')
    with op.batch_alter_table('patrol_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_round_walker_id'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_state'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_plan_id'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_path'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_estate_id'))
        batch_op.drop_index(batch_op.f('ix_patrol_round_due_at'))

    op.drop_table('patrol_round')
    with op.batch_alter_table('patrol_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_point_plan_id'))

    op.drop_table('patrol_point')
    with op.batch_alter_table('maintenance_fund_spending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_spending_fund_use_id'))

    op.drop_table('maintenance_fund_spending')
    with op.batch_alter_table('handover_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_item_handover_id'))

    op.drop_table('handover_item')
    with op.batch_alter_table('task_force', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_force_state'))
        batch_op.drop_index(batch_op.f('ix_task_force_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_task_force_path'))
        batch_op.drop_index(batch_op.f('ix_task_force_due_at'))
        batch_op.drop_index(batch_op.f('ix_task_force_convener_org_id'))

    op.drop_table('task_force')
    with op.batch_alter_table('patrol_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_plan_path'))
        batch_op.drop_index(batch_op.f('ix_patrol_plan_estate_id'))

    op.drop_table('patrol_plan')
    with op.batch_alter_table('maintenance_fund_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_use_state'))
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_use_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_use_path'))
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_use_estate_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_fund_use_due_at'))

    op.drop_table('maintenance_fund_use')
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_state'))
        batch_op.drop_index(batch_op.f('ix_handover_responsible_org_id'))
        batch_op.drop_index(batch_op.f('ix_handover_path'))
        batch_op.drop_index(batch_op.f('ix_handover_due_at'))

    op.drop_table('handover')
