"""comment notices: scheduled_posts.comment_notified_at, when the VA's notice of a failed first comment was queued

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('scheduled_posts', sa.Column('comment_notified_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scheduled_posts') as batch:
        batch.drop_column('comment_notified_at')
