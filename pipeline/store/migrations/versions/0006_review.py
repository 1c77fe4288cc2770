"""review and auth: users, comments, approvals, audit events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('approval_stages', sa.Integer(), nullable=False, server_default='2'))
    # "changes_requested" is 17 characters: PostgreSQL would refuse it in VARCHAR(16).
    _set_draft_status_type(sa.String(length=24), sa.String(length=16))
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_index(op.f('ix_users_client_id'), 'users', ['client_id'], unique=False)
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_login_attempts_email_at', 'login_attempts', ['email', 'at'], unique=False)
    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=320), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['draft_versions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_comments_draft_id'), 'comments', ['draft_id'], unique=False)
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('decision', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['draft_versions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_approvals_draft_id'), 'approvals', ['draft_id'], unique=False)
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index(op.f('ix_audit_events_client_id'), 'audit_events', ['client_id'], unique=False)
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'], unique=False)


def downgrade() -> None:
    op.drop_table('audit_events')
    op.drop_table('approvals')
    op.drop_table('comments')
    op.drop_table('login_attempts')
    op.drop_table('users')
    # The statuses 0005 knew: draft | in_review | approved | rejected.
    op.execute("UPDATE drafts SET status = 'in_review' WHERE status = 'client_review'")
    op.execute("UPDATE drafts SET status = 'draft' WHERE status = 'changes_requested'")
    _set_draft_status_type(sa.String(length=16), sa.String(length=24))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; batch mode would copy clients and cascade-delete episodes.
        op.execute("ALTER TABLE clients DROP COLUMN approval_stages")
    else:
        op.drop_column('clients', 'approval_stages')


def _set_draft_status_type(new_type, old_type) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('drafts', 'status', type_=new_type, existing_type=old_type, existing_nullable=False)
        return
    # SQLite cannot alter a column: batch mode copies the table and drops the old one, and with
    # PRAGMA foreign_keys on (pipeline.store.db turns it on) that drop cascades to draft_versions.
    # Keep the versions aside and put them back; nothing else references drafts at this revision.
    op.execute("CREATE TEMPORARY TABLE _keep_draft_versions AS SELECT * FROM draft_versions")
    with op.batch_alter_table('drafts', recreate='always') as batch:
        batch.alter_column('status', type_=new_type, existing_type=old_type, existing_nullable=False)
    op.execute("INSERT INTO draft_versions SELECT * FROM _keep_draft_versions")
    op.execute("DROP TABLE _keep_draft_versions")
