"""clients: the languages spoken on the show (Whisper codes or "auto"); empty means the posts' language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('spoken_languages', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('spoken_languages')
