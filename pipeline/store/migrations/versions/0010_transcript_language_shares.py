"""transcripts: the share of the speech in each language (the main one is ``language``)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcripts') as batch:
        batch.add_column(sa.Column('language_shares', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('transcripts') as batch:
        batch.drop_column('language_shares')
