"""Managing alert rules, channels and reading deliveries: the Python API the REST router and
the dashboard call. Every function takes a connection (``store.write()`` for changes,
``store.read()`` for reads) and the caller's organisation, and touches only its rows.

Errors are :class:`AlertError` (one line, e.g. a channel id of another organisation) and
:class:`NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa
from pydantic import SecretStr, TypeAdapter
from sqlalchemy.engine import Connection

from routerwatch.server.alerts.specs import (
    SECRET_FIELDS,
    ChannelSpec,
    EmailSpec,
    RuleSpec,
    SyslogSpec,
    WebhookSpec,
)
from routerwatch.server.store import alerts as a
from routerwatch.server.store import schema as t
from routerwatch.server.timeutil import now, utc

STATES = ("pending", "retrying", "sent", "failed", "suppressed", "dropped")
_channel_adapter: TypeAdapter[WebhookSpec | EmailSpec | SyslogSpec] = TypeAdapter(ChannelSpec)


class AlertError(ValueError):
    """A request the alert store refuses; the message is one line."""


class NotFound(AlertError):
    """No such rule, channel or delivery in the caller's organisation."""


@dataclass(frozen=True)
class Rule:
    id: int
    spec: RuleSpec  # spec.channels = the channels it sends to now
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Channel:
    """A channel as shown to people: ``config`` holds no secret (a webhook URL is cut to its
    origin, since Slack and Teams URLs are credentials); ``secret_set`` says one is stored."""

    id: int
    name: str
    kind: str
    enabled: bool
    config: dict[str, Any]
    secret_set: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    rule_id: int
    channel_id: int
    kind: str  # event / digest
    event_id: int | None
    event_type: str | None
    event_ids: list[int]
    state: str
    attempts: int
    last_error: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    not_before: datetime
    sent_at: datetime | None


def _t(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _max_event(conn: Connection, org_id: int) -> int:
    e = t.events
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.c.id), 0))
                            .where(e.c.org_id == org_id)).scalar_one())


# ---------------------------------------------------------------------------- channels
def _split(spec: WebhookSpec | EmailSpec | SyslogSpec) -> tuple[dict[str, Any], dict[str, str]]:
    config = spec.model_dump(mode="json", exclude={"name", "enabled", *SECRET_FIELDS[spec.kind]})
    secrets: dict[str, str] = {}
    for name in SECRET_FIELDS[spec.kind]:
        value = getattr(spec, name)
        if isinstance(value, SecretStr):
            secrets[name] = value.get_secret_value()
    return config, secrets


def channel_spec(row: Any) -> WebhookSpec | EmailSpec | SyslogSpec:
    """The full spec of a stored channel, secrets included (for sending only)."""
    data = {**orjson.loads(row.config), **orjson.loads(row.secrets), "name": row.name,
            "enabled": row.enabled}
    return _channel_adapter.validate_python(data)


def _shown(row: Any) -> Channel:
    config = orjson.loads(row.config)
    if "url" in config:
        parts = urlsplit(config["url"])
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        config["url"] = f"{parts.scheme}://{netloc}/…"
    return Channel(id=row.id, name=row.name, kind=row.kind, enabled=row.enabled, config=config,
                   secret_set=bool(orjson.loads(row.secrets)), created_at=_t(row.created_at),
                   updated_at=_t(row.updated_at))


def list_channels(conn: Connection, org_id: int) -> list[Channel]:
    c = a.channels
    rows = conn.execute(sa.select(c).where(c.c.org_id == org_id).order_by(c.c.id)).all()
    return [_shown(r) for r in rows]


def get_channel(conn: Connection, org_id: int, channel_id: int) -> Channel:
    return _shown(_channel_row(conn, org_id, channel_id))


def _owned(conn: Connection, table: sa.Table, org_id: int, obj_id: int, what: str) -> Any:
    """The row ``obj_id`` of ``table`` if it belongs to the organisation, else NotFound."""
    row = conn.execute(sa.select(table).where(table.c.org_id == org_id,
                                              table.c.id == obj_id)).first()
    if row is None:
        raise NotFound(f"no alert {what} {obj_id}")
    return row


def _channel_row(conn: Connection, org_id: int, channel_id: int) -> Any:
    return _owned(conn, a.channels, org_id, channel_id, "channel")


def _name_free(conn: Connection, table: sa.Table, org_id: int, name: str,
               but: int | None = None) -> None:
    cond = [table.c.org_id == org_id, table.c.name == name]
    if but is not None:
        cond.append(table.c.id != but)
    if conn.execute(sa.select(table.c.id).where(*cond)).first() is not None:
        what = "channel" if table is a.channels else "rule"
        raise AlertError(f"an alert {what} named {name!r} exists already")


def create_channel(conn: Connection, org_id: int,
                   spec: WebhookSpec | EmailSpec | SyslogSpec) -> int:
    _name_free(conn, a.channels, org_id, spec.name)
    config, secrets = _split(spec)
    at = now()
    return int(conn.execute(sa.insert(a.channels).values(
        org_id=org_id, name=spec.name, kind=spec.kind, enabled=spec.enabled,
        config=_dumps(config), secrets=_dumps(secrets), created_at=at, updated_at=at,
    ).returning(a.channels.c.id)).scalar_one())


def update_channel(conn: Connection, org_id: int, channel_id: int,
                   spec: WebhookSpec | EmailSpec | SyslogSpec) -> None:
    """Replace a channel's settings; a secret left out (None) keeps the stored one."""
    row = _channel_row(conn, org_id, channel_id)
    if row.kind != spec.kind:
        raise AlertError(f"channel {channel_id} is a {row.kind} channel, not {spec.kind}")
    _name_free(conn, a.channels, org_id, spec.name, but=channel_id)
    config, secrets = _split(spec)
    merged = {**orjson.loads(row.secrets), **secrets}
    conn.execute(sa.update(a.channels).where(a.channels.c.id == channel_id).values(
        name=spec.name, enabled=spec.enabled, config=_dumps(config), secrets=_dumps(merged),
        updated_at=now()))


def delete_channel(conn: Connection, org_id: int, channel_id: int) -> None:
    """Remove a channel and its routes; its unsent deliveries are dropped, history stays."""
    _channel_row(conn, org_id, channel_id)
    _drop_unsent(conn, a.deliveries.c.channel_id == channel_id, "channel deleted")
    conn.execute(sa.delete(a.routes).where(a.routes.c.channel_id == channel_id))
    conn.execute(sa.delete(a.channels).where(a.channels.c.id == channel_id))


def _drop_unsent(conn: Connection, cond: Any, why: str) -> None:
    d = a.deliveries
    conn.execute(sa.update(d).where(cond, d.c.state.in_(("pending", "retrying")))
                 .values(state="dropped", note=why, updated_at=now()))


# ---------------------------------------------------------------------------- rules
def _rule(conn: Connection, row: Any) -> Rule:
    ids = conn.execute(sa.select(a.routes.c.channel_id).where(a.routes.c.rule_id == row.id)
                       .order_by(a.routes.c.channel_id)).scalars().all()
    data = {**orjson.loads(row.spec), "name": row.name, "enabled": row.enabled,
            "channels": list(ids)}
    spec = RuleSpec.model_validate(data)
    return Rule(id=row.id, spec=spec, created_at=_t(row.created_at),
                updated_at=_t(row.updated_at))


def list_rules(conn: Connection, org_id: int) -> list[Rule]:
    r = a.rules
    rows = conn.execute(sa.select(r).where(r.c.org_id == org_id).order_by(r.c.id)).all()
    return [_rule(conn, row) for row in rows]


def get_rule(conn: Connection, org_id: int, rule_id: int) -> Rule:
    return _rule(conn, _rule_row(conn, org_id, rule_id))


def _rule_row(conn: Connection, org_id: int, rule_id: int) -> Any:
    return _owned(conn, a.rules, org_id, rule_id, "rule")


def _check_channels(conn: Connection, org_id: int, ids: list[int]) -> None:
    if not ids:
        return
    c = a.channels
    found = set(conn.execute(sa.select(c.c.id).where(c.c.org_id == org_id, c.c.id.in_(ids)))
                .scalars())
    missing = sorted(set(ids) - found)
    if missing:
        raise AlertError(f"no alert channel {missing[0]}")


def _spec_json(spec: RuleSpec) -> str:
    return _dumps(spec.model_dump(mode="json", exclude={"name", "enabled", "channels"}))


def create_rule(conn: Connection, org_id: int, spec: RuleSpec) -> int:
    """A new rule; it selects events recorded from now on (not the history)."""
    _name_free(conn, a.rules, org_id, spec.name)
    _check_channels(conn, org_id, spec.channels)
    at = now()
    rule_id = int(conn.execute(sa.insert(a.rules).values(
        org_id=org_id, name=spec.name, enabled=spec.enabled, spec=_spec_json(spec),
        created_at=at, updated_at=at).returning(a.rules.c.id)).scalar_one())
    if spec.channels:
        start = _max_event(conn, org_id)
        conn.execute(sa.insert(a.routes), [
            {"org_id": org_id, "rule_id": rule_id, "channel_id": cid, "cursor": start}
            for cid in spec.channels])
    return rule_id


def update_rule(conn: Connection, org_id: int, rule_id: int, spec: RuleSpec) -> None:
    """Replace a rule. Channels it keeps keep their place in the event log; added channels
    start at the newest event; removed channels' unsent deliveries of this rule are dropped."""
    _rule_row(conn, org_id, rule_id)
    _name_free(conn, a.rules, org_id, spec.name, but=rule_id)
    _check_channels(conn, org_id, spec.channels)
    conn.execute(sa.update(a.rules).where(a.rules.c.id == rule_id).values(
        name=spec.name, enabled=spec.enabled, spec=_spec_json(spec), updated_at=now()))
    have = set(conn.execute(sa.select(a.routes.c.channel_id)
                            .where(a.routes.c.rule_id == rule_id)).scalars())
    gone = have - set(spec.channels)
    if gone:
        d = a.deliveries
        _drop_unsent(conn, sa.and_(d.c.rule_id == rule_id, d.c.channel_id.in_(gone)),
                     "channel removed from the rule")
        conn.execute(sa.delete(a.routes).where(a.routes.c.rule_id == rule_id,
                                               a.routes.c.channel_id.in_(gone)))
    added = set(spec.channels) - have
    if added:
        start = _max_event(conn, org_id)
        conn.execute(sa.insert(a.routes), [
            {"org_id": org_id, "rule_id": rule_id, "channel_id": cid, "cursor": start}
            for cid in sorted(added)])


def delete_rule(conn: Connection, org_id: int, rule_id: int) -> None:
    """Remove a rule; its unsent deliveries are dropped, the history stays."""
    _rule_row(conn, org_id, rule_id)
    _drop_unsent(conn, a.deliveries.c.rule_id == rule_id, "rule deleted")
    conn.execute(sa.delete(a.routes).where(a.routes.c.rule_id == rule_id))
    conn.execute(sa.delete(a.rules).where(a.rules.c.id == rule_id))


# ---------------------------------------------------------------------------- deliveries
def _delivery(row: Any) -> Delivery:
    return Delivery(id=row.id, rule_id=row.rule_id, channel_id=row.channel_id, kind=row.kind,
                    event_id=row.event_id, event_type=row.event_type,
                    event_ids=list(orjson.loads(row.event_ids)), state=row.state,
                    attempts=row.attempts, last_error=row.last_error, note=row.note,
                    created_at=_t(row.created_at), updated_at=_t(row.updated_at),
                    not_before=_t(row.not_before), sent_at=utc(row.sent_at))


def list_deliveries(conn: Connection, org_id: int, limit: int = 100, *,
                    state: str | None = None, rule_id: int | None = None,
                    channel_id: int | None = None, event_id: int | None = None,
                    before: int | None = None) -> list[Delivery]:
    """Deliveries of the organisation, newest first; ``before`` pages on (a delivery id)."""
    d = a.deliveries
    cond: list[Any] = [d.c.org_id == org_id]
    if state is not None:
        if state not in STATES:
            raise AlertError(f"state must be one of {', '.join(STATES)}")
        cond.append(d.c.state == state)
    if rule_id is not None:
        cond.append(d.c.rule_id == rule_id)
    if channel_id is not None:
        cond.append(d.c.channel_id == channel_id)
    if event_id is not None:
        cond.append(d.c.id.in_(sa.select(a.dedup.c.delivery_id)
                               .where(a.dedup.c.event_id == event_id)))
    if before is not None:
        cond.append(d.c.id < before)
    rows = conn.execute(sa.select(d).where(*cond).order_by(d.c.id.desc())
                        .limit(max(1, min(limit, 1000)))).all()
    return [_delivery(r) for r in rows]


def retry_delivery(conn: Connection, org_id: int, delivery_id: int) -> None:
    """Send a failed (or dropped) delivery again, now, with a fresh attempt count."""
    d = a.deliveries
    row = _owned(conn, d, org_id, delivery_id, "delivery")
    if row.state not in ("failed", "dropped"):
        raise AlertError(f"delivery {delivery_id} is {row.state}; only failed or dropped "
                         "deliveries are retried by hand")
    at = now()
    conn.execute(sa.update(d).where(d.c.id == delivery_id).values(
        state="pending", attempts=0, not_before=at, updated_at=at, note="retried by hand"))
