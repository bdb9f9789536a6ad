"""Rule selection, de-duplication, failure isolation and retries, debounce, digests, quiet
hours: the alert worker against real receivers and a real store."""

from __future__ import annotations

import json
import socket
import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from alert_helpers import add_device, deliveries
from receivers import WebhookReceiver, wait_until

from routerwatch.server import alerts as al
from routerwatch.server.alerts.plan import quiet_end
from routerwatch.server.events import Event
from routerwatch.server.store import alerts as a

FAST = al.Retry(max_attempts=3, base_seconds=0.05, max_seconds=0.2)


def channel(store, org, url, name="hook", **kw):
    with store.write() as conn:
        return al.create_channel(conn, org, al.WebhookSpec(name=name, url=url, retry=FAST, **kw))


def rule(store, org, channels, name="r", **kw):
    with store.write() as conn:
        return al.create_rule(conn, org, al.RuleSpec(name=name, channels=channels, **kw))


def sent_events(webhook):
    return [e["id"] for h in webhook.hits for e in json.loads(h.body)["events"]]


def elapse(store, **cond):
    """Let held deliveries fall due (as if their debounce/digest window had passed)."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    with store.write() as conn:
        conn.execute(sa.update(a.deliveries).where(a.deliveries.c.state == "pending")
                     .values(not_before=past))


def test_rule_selects_events(store, org, webhook, emit, run):
    cid = channel(store, org, webhook.url)
    hq, d1 = add_device(store, org, "hq", "TP-Link", "k1",
                        [("CVE-2023-1", True, 0.2), ("CVE-2023-2", False, 0.9)])
    branch, d2 = add_device(store, org, "branch", "ASUS", "k2", [("CVE-2023-3", False, 0.01)])
    rule(store, org, [cid], "kev at hq", match=al.Match(types=["finding."], sites=["hq"],
                                                        kev=True))
    rule(store, org, [cid], "epss", match=al.Match(epss_min=0.5, vendors=["tp-link"]))
    rule(store, org, [cid], "quad7", match=al.Match(indicators=["quad7-*"],
                                                    min_severity="high"))
    emit(Event("finding.new", org, "kev", "critical", site_id=hq, device_id=d1,
               cve="CVE-2023-1"),                                              # 1 kev at hq
         Event("finding.new", org, "hi epss", "high", site_id=hq, device_id=d1,
               cve="CVE-2023-2"),                                              # 2 epss
         Event("finding.new", org, "low", "low", site_id=branch, device_id=d2,
               cve="CVE-2023-3"),                                              # 3 none
         Event("finding.kev", org, "kev now", "critical", site_id=branch, device_id=d2,
               cve="CVE-2023-3"),                                              # 4 not hq
         Event("indicator.new", org, "q7", "critical", site_id=branch, device_id=d2,
               data={"rule": "Quad7-xlogin-7777"}),                            # 5 quad7
         Event("indicator.new", org, "other", "critical", device_id=d2,
               data={"rule": "wrthug-cert"}),                                  # 6 none
         Event("indicator.new", org, "weak", "medium", device_id=d2,
               data={"rule": "quad7-socks"}),                                  # 7 severity
         Event("device.new", org, "new", "low", site_id=hq, device_id=d1))     # 8 none
    run()
    ids = sorted(d.event_id for d in deliveries(store, org))
    with store.read() as conn:
        first = conn.execute(sa.select(sa.func.min(sa.text("id"))).select_from(
            sa.text("fleet_events"))).scalar_one()
    assert [i - first + 1 for i in ids] == [1, 2, 5]
    wait_until(lambda: len(webhook.hits) == 3, what="three webhooks")


def test_same_event_once_per_channel(store, org, webhook, emit, run):
    """Two rules select the event for the same channel: one delivery; another channel gets
    its own."""
    other = WebhookReceiver("127.42.0.1")
    try:
        c1 = channel(store, org, webhook.url)
        c2 = channel(store, org, other.url, name="other")
        rule(store, org, [c1], "all")
        rule(store, org, [c1, c2], "critical", match=al.Match(min_severity="critical"))
        emit(Event("indicator.new", org, "x", "critical", data={"rule": "r"}))
        run()
        run()
        wait_until(lambda: len(webhook.hits) == 1 and len(other.hits) == 1, what="one each")
        assert len(deliveries(store, org)) == 2
    finally:
        other.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.42.0.9", 0))
        return int(s.getsockname()[1])


def test_failing_channel_blocks_nothing_and_loses_nothing(store, org, webhook, emit, run):
    down = f"http://127.42.0.9:{_closed_port()}/hook"
    c_down = channel(store, org, down, name="down")
    c_up = channel(store, org, webhook.url, name="up")
    rule(store, org, [c_down, c_up])
    emit(*[Event("device.new", org, f"d{i}", "low") for i in range(5)])
    run()
    wait_until(lambda: len(webhook.hits) == 5, what="the healthy channel")
    down_rows = deliveries(store, org, channel_id=c_down)
    assert len(down_rows) == 5
    tried = [d for d in down_rows if d.attempts]
    assert len(tried) == 1 and tried[0].state == "retrying"
    assert "ConnectError" in tried[0].last_error
    # the channel comes back: every event arrives, once, in order
    with store.write() as conn:
        al.update_channel(conn, org, c_down, al.WebhookSpec(name="down", url=webhook.url + "2",
                                                            retry=FAST))
    deadline = clock.monotonic() + 15  # the retry is due after its backoff (<= 0.2 s + jitter)
    while clock.monotonic() < deadline:
        run()
        if all(d.state == "sent" for d in deliveries(store, org)):
            break
        clock.sleep(0.05)
    assert all(d.state == "sent" for d in deliveries(store, org))
    second = [h for h in webhook.hits if h.path.endswith("hook2")]
    ids = [json.loads(h.body)["events"][0]["id"] for h in second]
    assert len(ids) == 5 and len(set(ids)) == 5


def test_retry_backoff_then_failed(store, org, webhook, emit, run):
    cid = channel(store, org, webhook.url)
    rule(store, org, [cid])
    webhook.statuses = [503, 500]
    emit(Event("device.new", org, "x", "low"))
    waits = []
    for _ in range(30):
        run()
        [d] = deliveries(store, org)
        if d.state == "sent":
            break
        waits.append((d.attempts, d.not_before - d.updated_at))
        wait_until(lambda: datetime.now(UTC) >= deliveries(store, org)[0].not_before,
                   what="the backoff")
    assert d.state == "sent" and d.attempts == 3 and len(webhook.hits) == 1
    gaps = {n: w.total_seconds() for n, w in waits}
    assert 0.03 <= gaps[1] <= 0.07 and 0.07 <= gaps[2] <= 0.13  # 0.05 · 2^(n-1) ± 20 %
    # a permanent refusal (4xx) fails at once; a retried-out delivery fails too
    webhook.statuses = [404]
    emit(Event("device.new", org, "y", "low"))
    run()
    assert deliveries(store, org)[0].state == "failed"
    assert deliveries(store, org)[0].last_error == "HTTP 404"
    webhook.statuses = [500, 500, 500]
    emit(Event("device.new", org, "z", "low"))
    for _ in range(10):
        run()
        if deliveries(store, org)[0].state == "failed":
            break
        wait_until(lambda: datetime.now(UTC) >= deliveries(store, org)[0].not_before)
    newest = deliveries(store, org)[0]
    assert newest.state == "failed" and newest.attempts == 3
    # a failed delivery can be sent again by hand
    with store.write() as conn:
        al.retry_delivery(conn, org, newest.id)
    run()
    assert deliveries(store, org)[0].state == "sent"


def test_debounce_flapping_device(store, org, webhook, emit, run):
    cid = channel(store, org, webhook.url)
    rule(store, org, [cid], debounce_minutes=10)
    site, dev = add_device(store, org, "hq", "TP-Link", "k1")
    _, other = add_device(store, org, "hq", "ASUS", "k2")
    emit(Event("device.gone", org, "gone", "medium", site_id=site, device_id=dev))
    run()
    emit(Event("device.back", org, "back", "low", site_id=site, device_id=dev),
         Event("device.gone", org, "gone", "medium", site_id=site, device_id=other),
         Event("port.opened", org, "7777", "medium", device_id=dev, data={"port": 7777}),
         Event("port.closed", org, "7777", "info", device_id=dev, data={"port": 7777}),
         Event("port.closed", org, "80", "info", device_id=dev, data={"port": 80}),
         Event("indicator.new", org, "q7", "critical", device_id=dev, data={"rule": "q"}))
    run()
    by_type = {(d.event_type, d.state) for d in deliveries(store, org)}
    assert ("device.gone", "suppressed") in by_type and ("device.back", "suppressed") in by_type
    assert ("port.opened", "suppressed") in by_type
    assert sent_events(webhook) == [deliveries(store, org, state="sent")[0].event_id]
    held = deliveries(store, org, state="pending")
    assert sorted(d.event_type for d in held) == ["device.gone", "port.closed"]
    assert all(d.not_before - d.created_at >= timedelta(minutes=9, seconds=59) for d in held)
    elapse(store)
    run()
    wait_until(lambda: len(webhook.hits) == 3, what="the steady changes")
    assert {d.state for d in deliveries(store, org)} == {"sent", "suppressed"}


def test_digest_one_message_per_period(store, org, webhook, emit, run):
    cid = channel(store, org, webhook.url)
    rule(store, org, [cid], digest_minutes=60)
    emit(*[Event("finding.new", org, f"f{i}", "high", cve=f"CVE-2024-{i}") for i in range(7)])
    run()
    assert webhook.hits == []
    rows = deliveries(store, org)
    assert len(rows) == 7 and {d.kind for d in rows} == {"digest"}
    due = {d.not_before for d in rows}
    assert len(due) == 1 and next(iter(due)).minute == 0  # the end of the hour
    elapse(store)
    run()
    wait_until(lambda: len(webhook.hits) == 1, what="the digest")
    body = json.loads(webhook.hits[0].body)
    assert body["kind"] == "digest" and len(body["events"]) == 7
    assert {d.state for d in deliveries(store, org)} == {"sent"}


@pytest.mark.parametrize("action", ["hold", "drop"])
def test_quiet_hours(store, org, webhook, emit, run, action):
    cid = channel(store, org, webhook.url)
    now = datetime.now(UTC)
    window = al.QuietHours(start=(now - timedelta(hours=1)).time(),
                           end=(now + timedelta(hours=1)).time().replace(microsecond=0),
                           action=action, bypass_severity="critical")
    rule(store, org, [cid], quiet_hours=window)
    emit(Event("device.new", org, "quiet", "low"),
         Event("indicator.new", org, "urgent", "critical", data={"rule": "q"}))
    run()
    wait_until(lambda: len(webhook.hits) == 1, what="the critical event")
    assert json.loads(webhook.hits[0].body)["events"][0]["why"] == "urgent"
    [quiet] = [d for d in deliveries(store, org) if d.event_type == "device.new"]
    if action == "hold":
        assert quiet.state == "pending" and quiet.note == "held for quiet hours"
        assert abs((quiet.not_before - (now + timedelta(hours=1))).total_seconds()) < 2
        elapse(store)
        run()
        wait_until(lambda: len(webhook.hits) == 2, what="the held event")
    else:
        assert quiet.state == "dropped"
        run()
        assert len(webhook.hits) == 1


def test_quiet_window_over_midnight():
    q = al.QuietHours(start=time(22, 0), end=time(7, 0), tz="Europe/Berlin")
    at = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert quiet_end(q, at) == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    assert quiet_end(q, datetime(2026, 12, 3, 20, 59, tzinfo=UTC)) is None  # 21:59 local
    assert quiet_end(q, datetime(2026, 12, 3, 21, 0, tzinfo=UTC)) is not None


def test_rules_start_at_creation_and_disabled_rules_skip(store, org, webhook, emit, run):
    emit(Event("device.new", org, "before the rule", "low"))
    cid = channel(store, org, webhook.url)
    rid = rule(store, org, [cid])
    run()
    assert deliveries(store, org) == []
    with store.write() as conn:
        spec = al.get_rule(conn, org, rid).spec
        al.update_rule(conn, org, rid, spec.model_copy(update={"enabled": False}))
    emit(Event("device.new", org, "while disabled", "low"))
    run()
    with store.write() as conn:
        al.update_rule(conn, org, rid, spec)
    emit(Event("device.new", org, "after", "low"))
    run()
    wait_until(lambda: len(webhook.hits) == 1, what="one webhook")
    assert [d.event_type for d in deliveries(store, org)] == ["device.new"]
    assert json.loads(webhook.hits[0].body)["events"][0]["why"] == "after"


def test_one_delivering_server_on_postgresql(pg_url, webhook):
    """Two server processes on one PostgreSQL database: only one delivers; when it goes
    away the other takes over, and nothing is sent twice."""
    from routerwatch.server.alerts.worker import AlertWorker
    from routerwatch.server.store import FleetStore

    first, second = FleetStore(pg_url), FleetStore(pg_url)
    w1, w2 = AlertWorker(first), AlertWorker(second)
    try:
        with first.write() as conn:
            org = first.ensure_org(conn, "acme")
        cid = channel(first, org, webhook.url)
        rule(first, org, [cid])
        with first.write() as conn:
            from routerwatch.server import events as ev

            ev.write(conn, [Event("device.new", org, "x", "low")])
        w1.round()
        w1.dispatcher.wait(30)
        assert not w2._leader()
        w2.round()  # stands by
        w1.stop()
        assert w2._leader()
        with first.write() as conn:
            ev.write(conn, [Event("device.new", org, "y", "low")])
        w2.round()
        w2.dispatcher.wait(30)
        wait_until(lambda: len(webhook.hits) == 2, what="both events")
        assert sorted(sent_events(webhook)) == sorted(set(sent_events(webhook)))
    finally:
        w2.stop()
        first.close()
        second.close()
