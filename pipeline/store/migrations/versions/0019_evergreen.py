"""evergreen posts: published posts the VA marked for recycling, their copies, the client's [evergreen] rules

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('clients', sa.Column('evergreen_settings', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table(
        'evergreen_posts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('account_handle', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('stop_reason', sa.Text(), nullable=False),
        sa.Column('marked_by', sa.String(length=320), nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['post_id'], ['scheduled_posts.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('post_id', name='uq_evergreen_post'),
    )
    op.create_index(op.f('ix_evergreen_posts_client_id'), 'evergreen_posts', ['client_id'], unique=False)
    op.create_table(
        'evergreen_reposts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('evergreen_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evergreen_id'], ['evergreen_posts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['post_id'], ['scheduled_posts.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('evergreen_id', 'number', name='uq_evergreen_repost_number'),
    )
    op.create_index(op.f('ix_evergreen_reposts_client_id'), 'evergreen_reposts', ['client_id'], unique=False)
    op.create_index(op.f('ix_evergreen_reposts_evergreen_id'), 'evergreen_reposts', ['evergreen_id'], unique=False)
    op.create_index(op.f('ix_evergreen_reposts_draft_id'), 'evergreen_reposts', ['draft_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evergreen_reposts_draft_id'), table_name='evergreen_reposts')
    op.drop_index(op.f('ix_evergreen_reposts_evergreen_id'), table_name='evergreen_reposts')
    op.drop_index(op.f('ix_evergreen_reposts_client_id'), table_name='evergreen_reposts')
    op.drop_table('evergreen_reposts')
    op.drop_index(op.f('ix_evergreen_posts_client_id'), table_name='evergreen_posts')
    op.drop_table('evergreen_posts')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('evergreen_settings')
