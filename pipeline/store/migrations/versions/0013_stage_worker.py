"""episode_stages.worker: which worker (host:pid) last ran the stage, for the job queue

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('episode_stages', sa.Column('worker', sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('episode_stages') as batch:
        batch.drop_column('worker')
