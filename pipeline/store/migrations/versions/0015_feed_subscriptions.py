"""feed_subscriptions and feed_entries: watched feeds and the entries seen in them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feed_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('added_by', sa.String(200), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('backfill', sa.Integer(), nullable=False),
        sa.Column('backfilled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('etag', sa.Text(), nullable=False),
        sa.Column('last_modified', sa.Text(), nullable=False),
        sa.Column('last_poll_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_result', sa.Text(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('polling_since', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', 'url', name='uq_feed_subscription_client_url'),
    )
    op.create_index(op.f('ix_feed_subscriptions_client_id'), 'feed_subscriptions', ['client_id'], unique=False)
    op.create_index(op.f('ix_feed_subscriptions_next_poll_at'), 'feed_subscriptions', ['next_poll_at'], unique=False)
    op.create_table(
        'feed_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('guid', sa.Text(), nullable=False),
        sa.Column('enclosure_url', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('notified_via', sa.String(64), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['feed_subscriptions.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', 'enclosure_url', name='uq_feed_entry_client_enclosure'),
    )
    op.create_index(op.f('ix_feed_entries_subscription_id'), 'feed_entries', ['subscription_id'], unique=False)
    op.create_index('ix_feed_entries_client_guid', 'feed_entries', ['client_id', 'guid'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_feed_entries_client_guid', table_name='feed_entries')
    op.drop_index(op.f('ix_feed_entries_subscription_id'), table_name='feed_entries')
    op.drop_table('feed_entries')
    op.drop_index(op.f('ix_feed_subscriptions_next_poll_at'), table_name='feed_subscriptions')
    op.drop_index(op.f('ix_feed_subscriptions_client_id'), table_name='feed_subscriptions')
    op.drop_table('feed_subscriptions')
