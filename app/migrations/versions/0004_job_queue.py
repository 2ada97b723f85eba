"""One job queue in the database, shared by service replicas: leases and priorities of jobs.

``jobs.lease_owner`` is the replica id running a job (or that ran it last) and ``jobs.lease_expires_at`` when its
lease ends unless renewed; ``jobs.priority`` orders claims (0 synchronous-sized, 1 standard,
2 large; existing rows are standard). See docs/reliability.md, "One queue for every replica".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='1', nullable=False,
                                      comment='0 synchronous-sized, 1 standard, 2 large: lower is claimed first'))
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=200), nullable=True,
                                      comment='Replica id of the replica running the job (of a finished job: '
                                              'that ran it last).'))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(), nullable=True,
                                      comment="When the running job's lease ends unless its replica renews it (UTC)."))
        batch_op.create_index('ix_jobs_status_priority_created', ['status', 'priority', 'created_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_priority_created')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('priority')
