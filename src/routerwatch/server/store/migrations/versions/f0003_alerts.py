"""Alert rules, channels, deliveries and the delivery cursor (issue 13).

Revision ID: f0003
Revises: f0002
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f0003'
down_revision = 'f0002'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'fleet_alert_channels',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('config', sa.Text(), nullable=False),
        sa.Column('secrets', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'name', name='uq_fleet_alert_channels_org_name'),
    )
    op.create_table(
        'fleet_alert_rules',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'name', name='uq_fleet_alert_rules_org_name'),
    )
    op.create_table(
        'fleet_alert_routes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.ForeignKeyConstraint(['rule_id'], ['fleet_alert_rules.id']),
        sa.ForeignKeyConstraint(['channel_id'], ['fleet_alert_channels.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rule_id', 'channel_id', name='uq_fleet_alert_routes_rule_channel'),
    )
    op.create_table(
        'fleet_alert_deliveries',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('event_type', sa.String(length=40), nullable=True),
        sa.Column('device_id', sa.Integer(), nullable=True),
        sa.Column('flap_key', sa.String(length=120), nullable=True),
        sa.Column('event_ids', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.Column('not_before', TS, nullable=False),
        sa.Column('sent_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['fleet_orgs.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fleet_alert_deliveries_due', 'fleet_alert_deliveries',
                    ['state', 'not_before'])
    op.create_index('ix_fleet_alert_deliveries_org', 'fleet_alert_deliveries', ['org_id', 'id'])
    op.create_index('ix_fleet_alert_deliveries_flap', 'fleet_alert_deliveries',
                    ['channel_id', 'flap_key'])
    op.create_table(
        'fleet_alert_dedup',
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('channel_id', 'event_id'),
    )


def downgrade() -> None:
    op.drop_table('fleet_alert_dedup')
    op.drop_index('ix_fleet_alert_deliveries_flap', table_name='fleet_alert_deliveries')
    op.drop_index('ix_fleet_alert_deliveries_org', table_name='fleet_alert_deliveries')
    op.drop_index('ix_fleet_alert_deliveries_due', table_name='fleet_alert_deliveries')
    op.drop_table('fleet_alert_deliveries')
    op.drop_table('fleet_alert_routes')
    op.drop_table('fleet_alert_rules')
    op.drop_table('fleet_alert_channels')
