"""clips: rendered media per highlight; per-client clip settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('clip_settings', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('highlight_id', sa.Integer(), nullable=True),
    sa.Column('highlight_key', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('aspect', sa.String(length=8), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('input_key', sa.Text(), nullable=False),
    sa.Column('probe', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['highlight_id'], ['highlights.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('highlight_key', 'episode_id', 'kind', 'aspect', 'format', name='uq_clip_variant')
    )
    op.create_index(op.f('ix_clips_episode_id'), 'clips', ['episode_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_clips_episode_id'), table_name='clips')
    op.drop_table('clips')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('clip_settings')
