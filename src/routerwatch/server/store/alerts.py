"""Alert tables (issue 13): channels, rules, the rule × channel routes with their cursor over
``fleet_events.id``, every delivery, and the de-duplication index.

A route's ``cursor`` moves in the same transaction as the deliveries it planned, so a restart
neither skips nor repeats an event. ``fleet_alert_dedup`` holds one row per (channel, event):
an event reaches a channel at most once, whichever rules select it.
"""

from __future__ import annotations

import sqlalchemy as sa

from routerwatch.server.store.schema import TS, metadata

channels = sa.Table(
    "fleet_alert_channels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # webhook / email / syslog
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("config", sa.Text, nullable=False),  # JSON, no secrets
    sa.Column("secrets", sa.Text, nullable=False),  # JSON; never returned, never logged
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("org_id", "name", name="uq_fleet_alert_channels_org_name"),
)

rules = sa.Table(
    "fleet_alert_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),  # JSON: the RuleSpec without name/channels
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("org_id", "name", name="uq_fleet_alert_rules_org_name"),
)

routes = sa.Table(
    "fleet_alert_routes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("fleet_alert_rules.id"), nullable=False),
    sa.Column("channel_id", sa.Integer, sa.ForeignKey("fleet_alert_channels.id"),
              nullable=False),
    sa.Column("cursor", sa.Integer, nullable=False),  # last fleet_events.id considered
    sa.UniqueConstraint("rule_id", "channel_id", name="uq_fleet_alert_routes_rule_channel"),
)

deliveries = sa.Table(
    "fleet_alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("fleet_orgs.id"), nullable=False),
    sa.Column("rule_id", sa.Integer, nullable=False),
    sa.Column("channel_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # event / digest
    sa.Column("event_id", sa.Integer),  # the event (kind event); NULL for a digest
    sa.Column("event_type", sa.String(40)),
    sa.Column("device_id", sa.Integer),
    sa.Column("flap_key", sa.String(120)),  # for debounce: type family + device (+ port)
    sa.Column("event_ids", sa.Text, nullable=False),  # JSON list of event ids
    # pending / retrying / sent / failed / suppressed / dropped
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("note", sa.Text),  # why it waits or was not sent (quiet hours, flap, digest)
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("not_before", TS, nullable=False),  # due time (digest end, quiet end, backoff)
    sa.Column("sent_at", TS),
)
sa.Index("ix_fleet_alert_deliveries_due", deliveries.c.state, deliveries.c.not_before)
sa.Index("ix_fleet_alert_deliveries_org", deliveries.c.org_id, deliveries.c.id)
sa.Index("ix_fleet_alert_deliveries_flap", deliveries.c.channel_id, deliveries.c.flap_key)

dedup = sa.Table(
    "fleet_alert_dedup",
    metadata,
    sa.Column("channel_id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("delivery_id", sa.Integer, nullable=False),
)
