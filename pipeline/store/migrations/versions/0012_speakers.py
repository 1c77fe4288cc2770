"""clients.speakers, episodes.speaker_names, highlights.speakers and quote_by: who is speaking

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of clients on SQLite would cascade-delete every episode.
    op.add_column('clients', sa.Column('speakers', sa.String(8), nullable=False, server_default='auto'))
    op.add_column('episodes', sa.Column('speaker_names', sa.JSON(), nullable=False, server_default='{}'))
    op.add_column('highlights', sa.Column('speakers', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('highlights', sa.Column('quote_by', sa.String(8), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('highlights') as batch:
        batch.drop_column('quote_by')
        batch.drop_column('speakers')
    with op.batch_alter_table('episodes') as batch:
        batch.drop_column('speaker_names')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('speakers')
