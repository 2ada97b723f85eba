"""Jobs of every kind (evaluations, stored plans and reports, not only optimisations) and named plans.

``jobs.kind`` says what a job does (existing rows are optimisations), ``jobs.request``
what it was asked beyond its problem, ``jobs.result`` the answer of a job that stores
no plan; ``plans.name`` a name people know a plan by.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='optimisation', nullable=False,
                                      comment='optimisation | evaluation | plan | report'))
        batch_op.add_column(sa.Column('request', sa.JSON(), nullable=True,
                                      comment='What the job was asked beyond its problem.'))
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True,
                                      comment='The answer of a job that stores no plan.'))
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True,
                                      comment='A name people know the plan by.'))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('name')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('result')
        batch_op.drop_column('request')
        batch_op.drop_column('kind')
