"""Alerts: rules select events of the outbox (``fleet_events``) and send them to channels
(webhook, email, syslog), with de-duplication, debounce, digests and quiet hours; every
delivery is recorded. See docs/alerts.md.

The Python API (used by the REST router and the dashboard) is re-exported here:
``list_rules(conn, org_id)``, ``create_rule(conn, org_id, RuleSpec(...)) -> id``, ...
"""

from routerwatch.server.alerts.rules import (
    STATES,
    AlertError,
    Channel,
    Delivery,
    NotFound,
    Rule,
    create_channel,
    create_rule,
    delete_channel,
    delete_rule,
    get_channel,
    get_rule,
    list_channels,
    list_deliveries,
    list_rules,
    retry_delivery,
    update_channel,
    update_rule,
)
from routerwatch.server.alerts.specs import (
    ChannelSpec,
    EmailSpec,
    Match,
    QuietHours,
    Retry,
    RuleSpec,
    SyslogSpec,
    WebhookSpec,
)

__all__ = [
    "STATES", "AlertError", "Channel", "ChannelSpec", "Delivery", "EmailSpec", "Match",
    "NotFound", "QuietHours", "Retry", "Rule", "RuleSpec", "SyslogSpec", "WebhookSpec",
    "create_channel", "create_rule", "delete_channel", "delete_rule", "get_channel",
    "get_rule", "list_channels", "list_deliveries", "list_rules", "retry_delivery",
    "update_channel", "update_rule",
]
