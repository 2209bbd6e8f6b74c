"""conventions: conventions, versions, chapters, articles, consultation comments

Revision ID: 8691cfaae606
Revises: 0002
Create Date: 2026-11-21 04:06:48.073194

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8691cfaae606'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('convention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scope_kind', sa.String(length=20), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('residents_convention', 'ebike_shed', 'management_rules', 'other')", name=op.f('ck_convention_kind_known')),
    sa.CheckConstraint("scope_kind IN ('community', 'estate', 'building')", name=op.f('ck_convention_scope_kind_known')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_convention_building_id_building')),
    sa.ForeignKeyConstraint(['community_id'], ['org_node.id'], name=op.f('fk_convention_community_id_org_node')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_convention_created_by_id_person')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_convention_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention'))
    )
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_path'), ['path'], unique=False)

    op.create_table('convention_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convention_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('preamble', sa.Text(), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('public_note', sa.Text(), nullable=False),
    sa.Column('vote_rule', sa.String(length=60), nullable=True),
    sa.Column('vote_result', sa.Text(), nullable=True),
    sa.Column('vote_passed', sa.Boolean(), nullable=True),
    sa.Column('vote_date', sa.Date(), nullable=True),
    sa.Column('vote_reference', sa.String(length=120), nullable=False),
    sa.Column('adopted_at', sa.DateTime(), nullable=True),
    sa.Column('filing_number', sa.String(length=80), nullable=True),
    sa.Column('filing_date', sa.Date(), nullable=True),
    sa.Column('filed_by_org_id', sa.Integer(), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('responsible_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['based_on_id'], ['convention_version.id'], name=op.f('fk_convention_version_based_on_id_convention_version')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], name=op.f('fk_convention_version_convention_id_convention')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_convention_version_created_by_id_person')),
    sa.ForeignKeyConstraint(['filed_by_org_id'], ['org_node.id'], name=op.f('fk_convention_version_filed_by_org_id_org_node')),
    sa.ForeignKeyConstraint(['responsible_org_id'], ['org_node.id'], name=op.f('fk_convention_version_responsible_org_id_org_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_version')),
    sa.UniqueConstraint('convention_id', 'number', name=op.f('uq_convention_version_convention_id')),
    sa.UniqueConstraint('filing_number', name=op.f('uq_convention_version_filing_number'))
    )
    with op.batch_alter_table('convention_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_version_convention_id'), ['convention_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_version_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_version_path'), ['path'], unique=False)
        batch_op.create_index('ix_convention_version_public', ['convention_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_version_responsible_org_id'), ['responsible_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_version_state'), ['state'], unique=False)

    op.create_table('convention_chapter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['convention_version.id'], name=op.f('fk_convention_chapter_version_id_convention_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_chapter')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_convention_chapter_version_id'))
    )
    with op.batch_alter_table('convention_chapter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_chapter_version_id'), ['version_id'], unique=False)

    op.create_table('convention_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_convention_article_number_positive')),
    sa.ForeignKeyConstraint(['chapter_id'], ['convention_chapter.id'], name=op.f('fk_convention_article_chapter_id_convention_chapter')),
    sa.ForeignKeyConstraint(['version_id'], ['convention_version.id'], name=op.f('fk_convention_article_version_id_convention_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_article')),
    sa.UniqueConstraint('version_id', 'number', name=op.f('uq_convention_article_version_id'))
    )
    with op.batch_alter_table('convention_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_article_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_article_version_id'), ['version_id'], unique=False)

    op.create_table('convention_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('article_number', sa.Integer(), nullable=True),
    sa.Column('article_text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['person.id'], name=op.f('fk_convention_comment_answered_by_id_person')),
    sa.ForeignKeyConstraint(['article_id'], ['convention_article.id'], name=op.f('fk_convention_comment_article_id_convention_article'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_convention_comment_author_id_person')),
    sa.ForeignKeyConstraint(['version_id'], ['convention_version.id'], name=op.f('fk_convention_comment_version_id_convention_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_comment'))
    )
    with op.batch_alter_table('convention_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_comment_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_comment_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_convention_comment_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('convention_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_comment_version_id'))
        batch_op.drop_index(batch_op.f('ix_convention_comment_author_id'))
        batch_op.drop_index(batch_op.f('ix_convention_comment_article_id'))

    op.drop_table('convention_comment')
    with op.batch_alter_table('convention_article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_article_version_id'))
        batch_op.drop_index(batch_op.f('ix_convention_article_chapter_id'))

    op.drop_table('convention_article')
    with op.batch_alter_table('convention_chapter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_chapter_version_id'))

    op.drop_table('convention_chapter')
    with op.batch_alter_table('convention_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_version_state'))
        batch_op.drop_index(batch_op.f('ix_convention_version_responsible_org_id'))
        batch_op.drop_index('ix_convention_version_public')
        batch_op.drop_index(batch_op.f('ix_convention_version_path'))
        batch_op.drop_index(batch_op.f('ix_convention_version_due_at'))
        batch_op.drop_index(batch_op.f('ix_convention_version_convention_id'))

    op.drop_table('convention_version')
    with op.batch_alter_table('convention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_path'))
        batch_op.drop_index(batch_op.f('ix_convention_estate_id'))
        batch_op.drop_index(batch_op.f('ix_convention_community_id'))
        batch_op.drop_index(batch_op.f('ix_convention_building_id'))

    op.drop_table('convention')
