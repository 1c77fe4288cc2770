"""drafts and immutable draft versions; client handles, call to action, templates folder; episode feed metadata

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('handles', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('call_to_action', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('templates_dir', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('episodes') as batch:
        batch.add_column(sa.Column('feed_meta', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('highlight_id', sa.Integer(), nullable=True),
    sa.Column('highlight_key', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['highlight_id'], ['highlights.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('episode_id', 'highlight_key', 'platform', name='uq_draft_subject_platform')
    )
    op.create_index(op.f('ix_drafts_client_id'), 'drafts', ['client_id'], unique=False)
    op.create_index(op.f('ix_drafts_episode_id'), 'drafts', ['episode_id'], unique=False)
    op.create_table('draft_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('hashtags', sa.JSON(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_id', 'number', name='uq_draft_version_number')
    )
    op.create_index(op.f('ix_draft_versions_draft_id'), 'draft_versions', ['draft_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_draft_versions_draft_id'), table_name='draft_versions')
    op.drop_table('draft_versions')
    op.drop_index(op.f('ix_drafts_episode_id'), table_name='drafts')
    op.drop_index(op.f('ix_drafts_client_id'), table_name='drafts')
    op.drop_table('drafts')
    with op.batch_alter_table('episodes') as batch:
        batch.drop_column('feed_meta')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('templates_dir')
        batch.drop_column('call_to_action')
        batch.drop_column('handles')
