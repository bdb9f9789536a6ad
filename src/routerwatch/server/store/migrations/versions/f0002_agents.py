"""Agents, sensors, enrolment tokens and scan jobs (issue 12).

Revision ID: f0002
Revises: f0001
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f0002'
down_revision = 'f0001'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'fleet_enrolments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('secret_hash', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        sa.Column('used_at', TS, nullable=True),
        sa.Column('revoked_at', TS, nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('silent_after', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.ForeignKeyConstraint(['site_id'], ['fleet_sites.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'fleet_agents',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('last_contact', TS, nullable=True),
        sa.Column('last_upload', TS, nullable=True),
        sa.Column('uploads', sa.Integer(), nullable=False),
        sa.Column('network', sa.Text(), nullable=True),
        sa.Column('silent_after', sa.Integer(), nullable=False),
        sa.Column('silent', sa.Boolean(), nullable=False),
        sa.Column('revoked_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.ForeignKeyConstraint(['site_id'], ['fleet_sites.id']),
        sa.ForeignKeyConstraint(['token_id'], ['fleet_tokens.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_id', name='uq_fleet_agents_token'),
    )
    with op.batch_alter_table('fleet_agents', schema=None) as batch_op:
        batch_op.create_index('ix_fleet_agents_org', ['org_id', 'id'], unique=False)
    op.create_table(
        'fleet_scan_jobs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('runner', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('ports', sa.Text(), nullable=True),
        sa.Column('interval_seconds', sa.Integer(), nullable=False),
        sa.Column('complete', sa.Boolean(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.ForeignKeyConstraint(['site_id'], ['fleet_sites.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('fleet_scan_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_fleet_scan_jobs_site', ['org_id', 'site_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fleet_scan_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_fleet_scan_jobs_site')
    op.drop_table('fleet_scan_jobs')
    with op.batch_alter_table('fleet_agents', schema=None) as batch_op:
        batch_op.drop_index('ix_fleet_agents_org')
    op.drop_table('fleet_agents')
    op.drop_table('fleet_enrolments')
