"""People and roles: a ``users`` table, keys that act as a user, and who created and approved a plan.

``api_keys.user_id`` ties a key to its person (keys of no user stay tenant keys);
``plans.created_by_user_id`` and ``jobs.created_by_user_id`` carry who stored a plan (or asked
for the job that did) for the four-eyes rule; ``plans.approved_by_user_id`` and
``plans.approved_hash`` record who approved it and what exactly they approved. The person columns are
200 characters wide: a person signed in with a token is named by its subject, which may be longer than
this service's own 32-digit ids.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'users',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False,
                  comment='How approvals and the audit log name the person.'),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('roles', sa.JSON(), nullable=False, comment='Role names, e.g. ["planner"].'),
        sa.Column('disabled_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_users_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_keys_user_id_users'), 'users', ['user_id'], ['id'])
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by_user_id', sa.String(length=200), nullable=True,
                                      comment="The user who approved it (a user id, or a token's subject)."))
        batch_op.add_column(sa.Column('approved_hash', sa.String(length=64), nullable=True,
                                      comment='SHA-256 of what was approved (result, kpis, inputs_hash): a change '
                                              'undoes the approval.'))
        batch_op.add_column(sa.Column('created_by_user_id', sa.String(length=200), nullable=True,
                                      comment='The user who stored it, or asked for the job that did (the four-eyes '
                                              'rule).'))
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_user_id', sa.String(length=200), nullable=True,
                                      comment='The user who asked for the job (the plans it stores are theirs).'))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('created_by_user_id')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('created_by_user_id')
        batch_op.drop_column('approved_hash')
        batch_op.drop_column('approved_by_user_id')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_keys_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))
        batch_op.drop_column('user_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_tenant_id'))
    op.drop_table('users')
