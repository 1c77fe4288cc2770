"""clients.translate_quotes and highlights.translation: quotes spoken in another language, machine-translated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of clients on SQLite would cascade-delete every episode.
    op.add_column('clients', sa.Column('translate_quotes', sa.Boolean(create_constraint=False), nullable=False,
                                       server_default=sa.false()))
    op.add_column('highlights', sa.Column('translation', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('highlights') as batch:
        batch.drop_column('translation')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('translate_quotes')
