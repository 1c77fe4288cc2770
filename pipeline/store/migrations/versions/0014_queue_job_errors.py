"""queue_job_errors: why a job of the queue failed last (an ingest job may have no episode to hold it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_job_errors',
        sa.Column('job_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('job_id'),
    )


def downgrade() -> None:
    op.drop_table('queue_job_errors')
