"""Dashboard users and sessions (issue 13).

Revision ID: f0004
Revises: f0003
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f0004'
down_revision = 'f0003'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'fleet_web_users',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('disabled_at', TS, nullable=True),
        sa.Column('last_login_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'fleet_web_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        sa.Column('last_seen_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['fleet_web_users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fleet_web_sessions_user', 'fleet_web_sessions', ['user_id'])
    op.create_table(
        'fleet_web_login_attempts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fleet_web_login_user_client', 'fleet_web_login_attempts',
                    ['username', 'client', 'at'])
    op.create_index('ix_fleet_web_login_client', 'fleet_web_login_attempts', ['client', 'at'])


def downgrade() -> None:
    op.drop_index('ix_fleet_web_login_client', table_name='fleet_web_login_attempts')
    op.drop_index('ix_fleet_web_login_user_client', table_name='fleet_web_login_attempts')
    op.drop_table('fleet_web_login_attempts')
    op.drop_index('ix_fleet_web_sessions_user', table_name='fleet_web_sessions')
    op.drop_table('fleet_web_sessions')
    op.drop_table('fleet_web_users')
