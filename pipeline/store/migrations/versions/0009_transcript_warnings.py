"""transcripts: warnings for the VA (the model cannot hear the show's language, or it is not the profile's)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcripts') as batch:
        batch.add_column(sa.Column('warnings', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('transcripts') as batch:
        batch.drop_column('warnings')
