"""notices: the notification outbox, each user's notification preferences, a client's reminder timing

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('clients', sa.Column('reminder_settings', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('channel', sa.String(8), nullable=False),
        sa.Column('cadence', sa.String(12), nullable=False),
        sa.Column('webhook_url', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('recipient', sa.String(64), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(40), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('period_key', sa.String(64), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('link', sa.Text(), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('send_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(128), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('handed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['post_id'], ['scheduled_posts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'recipient', 'item', 'period_key', name='uq_notification_once'),
    )
    op.create_index('ix_notifications_client_id', 'notifications', ['client_id'])
    op.create_index('ix_notifications_draft_id', 'notifications', ['draft_id'])
    op.create_index('ix_notifications_post_id', 'notifications', ['post_id'])
    op.create_index('ix_notifications_status_send_after', 'notifications', ['status', 'send_after'])


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('reminder_settings')
