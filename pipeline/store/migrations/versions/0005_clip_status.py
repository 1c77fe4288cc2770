"""clips: a status (ready | failed) and the error of a failed render

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clips') as batch:
        batch.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='ready'))
        batch.add_column(sa.Column('error', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('clips') as batch:
        batch.drop_column('error')
        batch.drop_column('status')
