"""highlights, highlight feedback, per-client highlight settings and fitted weights

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('highlight_settings', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('fitted_weights', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('highlights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('caveats', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('key_phrases', sa.JSON(), nullable=False),
    sa.Column('hashtags', sa.JSON(), nullable=False),
    sa.Column('llm', sa.JSON(), nullable=True),
    sa.Column('input_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_highlights_episode_id'), 'highlights', ['episode_id'], unique=False)
    op.create_table('highlight_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('highlight_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=8), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['highlight_id'], ['highlights.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_highlight_feedback_client_id'), 'highlight_feedback', ['client_id'], unique=False)
    op.create_index(op.f('ix_highlight_feedback_highlight_id'), 'highlight_feedback', ['highlight_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_highlight_feedback_highlight_id'), table_name='highlight_feedback')
    op.drop_index(op.f('ix_highlight_feedback_client_id'), table_name='highlight_feedback')
    op.drop_table('highlight_feedback')
    op.drop_index(op.f('ix_highlights_episode_id'), table_name='highlights')
    op.drop_table('highlights')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('fitted_weights')
        batch.drop_column('highlight_settings')
