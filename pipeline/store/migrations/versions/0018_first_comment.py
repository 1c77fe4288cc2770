"""first comment: draft_versions.first_comment, the comment's state on scheduled_posts, publish_attempts.kind

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('draft_versions', sa.Column('first_comment', sa.Text(), nullable=False, server_default=''))
    op.add_column('scheduled_posts', sa.Column('comment_status', sa.String(16), nullable=False,
                                               server_default='none'))
    op.add_column('scheduled_posts', sa.Column('comment_remote_id', sa.Text(), nullable=False, server_default=''))
    op.add_column('scheduled_posts', sa.Column('comment_error', sa.Text(), nullable=False, server_default=''))
    op.add_column('scheduled_posts', sa.Column('comment_attempts', sa.Integer(), nullable=False,
                                               server_default='0'))
    op.add_column('scheduled_posts', sa.Column('comment_next_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_scheduled_posts_comment_status', 'scheduled_posts', ['comment_status'])
    op.add_column('publish_attempts', sa.Column('kind', sa.String(16), nullable=False, server_default='post'))


def downgrade() -> None:
    with op.batch_alter_table('publish_attempts') as batch:
        batch.drop_column('kind')
    op.drop_index('ix_scheduled_posts_comment_status', 'scheduled_posts')
    with op.batch_alter_table('scheduled_posts') as batch:
        for column in ('comment_next_at', 'comment_attempts', 'comment_error', 'comment_remote_id', 'comment_status'):
            batch.drop_column(column)
    with op.batch_alter_table('draft_versions') as batch:
        batch.drop_column('first_comment')
