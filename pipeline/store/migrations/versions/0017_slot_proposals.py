"""slot_proposals: posting slots proposed from a client's engagement, and the VA's decision on them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'slot_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('slots', sa.JSON(), nullable=False),
        sa.Column('current_slots', sa.JSON(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=320), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_slot_proposals_client_id'), 'slot_proposals', ['client_id'], unique=False)
    op.create_index(op.f('ix_slot_proposals_status'), 'slot_proposals', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_slot_proposals_status'), table_name='slot_proposals')
    op.drop_index(op.f('ix_slot_proposals_client_id'), table_name='slot_proposals')
    op.drop_table('slot_proposals')
