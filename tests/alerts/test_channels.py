"""Each channel kind against a real receiver: signed webhooks and their templates, email
over STARTTLS with a login, syslog RFC 5424 and CEF over UDP and TCP."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pycef
from alert_helpers import add_device, deliveries
from receivers import wait_until

from routerwatch.server import alerts as al
from routerwatch.server.alerts import render
from routerwatch.server.events import Event

HOSTILE = "evil \x1b[2J<script>alert(1)</script> \u202egnp.exe\nfake: line"


def setup(store, org, channel, **rule):
    with store.write() as conn:
        cid = al.create_channel(conn, org, channel)
        rid = al.create_rule(conn, org, al.RuleSpec(name=rule.pop("name", "r"), channels=[cid],
                                                    **rule))
    return cid, rid


def test_webhook_signed_exactly_once(store, org, webhook, emit, run):
    setup(store, org, al.WebhookSpec(name="hook", url=webhook.url, secret="k3y-Secret"))
    site_id, device_id = add_device(store, org, "hq", "TP-Link", "k1")
    emit(Event("indicator.new", org, "compromise indicator quad7-xlogin-7777", "critical",
               site_id=site_id, device_id=device_id, data={"rule": "quad7-xlogin-7777"}))
    run()
    wait_until(lambda: len(webhook.hits) == 1, what="the webhook")
    hit = webhook.hits[0]
    ts, sig = hit.headers["x-routerwatch-timestamp"], hit.headers["x-routerwatch-signature"]
    # a receiver's own check, written from the docs (not routerwatch's helper)
    expected = "v1=" + hmac.new(b"k3y-Secret", ts.encode() + b"." + hit.body,
                                hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig, expected)
    assert render.verify("k3y-Secret", ts, hit.body, sig)
    assert not render.verify("k3y-Secret", ts, hit.body + b" ", sig)  # tampered body
    assert not render.verify("other", ts, hit.body, sig)
    assert not render.verify("k3y-Secret", str(int(ts) - 3600), hit.body, sig)  # replayed
    body = json.loads(hit.body)
    assert body["kind"] == "event" and body["events"][0]["type"] == "indicator.new"
    assert body["events"][0]["device"]["vendor"] == "TP-Link"
    assert body["events"][0]["site"] == "hq"
    assert hit.headers["x-routerwatch-delivery"] == str(body["delivery"])
    run()
    run()
    time.sleep(0.3)
    assert len(webhook.hits) == 1, "an event is delivered once"
    [d] = deliveries(store, org)
    assert d.state == "sent" and d.attempts == 1 and d.sent_at is not None


def test_templates_slack_teams_ntfy(store, org, webhook, emit, run):
    for name, template in (("slack", "slack"), ("teams", "teams"), ("ntfy", "ntfy")):
        setup(store, org, al.WebhookSpec(name=name, url=webhook.url + "/" + name,
                                         template=template, ntfy_topic="rw-alerts"),
              name=name)
    emit(Event("device.new", org, f"new device {HOSTILE}", "low"))
    run()
    wait_until(lambda: len(webhook.hits) == 3, what="three webhooks")
    by = {h.path.rsplit("/", 1)[1]: json.loads(h.body) for h in webhook.hits}
    slack = by["slack"]
    assert "text" in slack and slack["blocks"][0]["type"] == "section"
    teams = by["teams"]
    assert teams["type"] == "message"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    ntfy = by["ntfy"]
    assert ntfy["topic"] == "rw-alerts" and 1 <= ntfy["priority"] <= 5 and ntfy["title"]
    for name, body in by.items():  # the hostile device string arrives inert
        text = json.dumps(body, ensure_ascii=False)
        assert "\x1b" not in text and "\u202e" not in text, name
        if name != "ntfy":  # ntfy shows plain text; Slack and Teams render markup
            assert "<script>" not in text, name
    assert "&lt;script&gt;" in json.dumps(slack)


def test_email_starttls_login(store, org, smtp, emit, run):
    setup(store, org, al.EmailSpec(
        name="mail", host=smtp.host, port=smtp.port, ca_pem=smtp.ca_pem, username=smtp.user,
        password=smtp.password, sender="alerts@example.org", to=["soc@example.org"]))
    emit(Event("finding.kev", org, "CVE-2023-50224 was added to CISA KEV", "critical",
               cve="CVE-2023-50224"))
    run()
    wait_until(lambda: len(smtp.mails) == 1, what="the mail")
    mail = smtp.mails[0]
    assert mail.tls and mail.login == smtp.user
    assert mail.rcpts == ["soc@example.org"]
    assert "finding.kev" in mail.message["Subject"]
    assert "CVE-2023-50224" in mail.message.get_payload()
    [d] = deliveries(store, org)
    assert d.state == "sent"


def test_email_untrusted_certificate_retries(store, org, smtp, emit, run):
    """Without the receiver's certificate the STARTTLS handshake fails: nothing is sent in
    clear, the delivery waits for a retry with the error recorded."""
    setup(store, org, al.EmailSpec(
        name="mail", host=smtp.host, port=smtp.port, username=smtp.user,
        password=smtp.password, sender="alerts@example.org", to=["soc@example.org"]))
    emit(Event("kb.stale", org, "stale", "low"))
    run()
    [d] = deliveries(store, org)
    assert d.state == "retrying" and d.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in (d.last_error or "")
    assert smtp.password not in (d.last_error or "")
    assert smtp.mails == []


_RFC5424 = re.compile(rb"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$", re.S)


def test_syslog_rfc5424_udp_and_cef_tcp(store, org, syslog_udp, syslog_tcp, emit, run):
    setup(store, org, al.SyslogSpec(name="udp", host="127.42.0.3", port=syslog_udp.port),
          name="a")
    setup(store, org, al.SyslogSpec(name="tcp", host="127.42.0.3", port=syslog_tcp.port,
                                    transport="tcp", format="cef"), name="b")
    site_id, device_id = add_device(store, org, "hq|branch", "ASUS", "k2")
    emit(Event("indicator.new", org, f"compromise {HOSTILE}", "critical", site_id=site_id,
               device_id=device_id, data={"rule": "x"}),
         Event("port.opened", org, "new open port 7777", "medium", site_id=site_id,
               device_id=device_id, data={"port": 7777}))
    run()
    wait_until(lambda: len(syslog_udp.messages) == 2 and len(syslog_tcp.messages) == 2,
               what="syslog messages")
    # one datagram / connection per delivery: the receiver threads may record them in any order
    [first] = [x for x in syslog_udp.messages if b" indicator.new " in x]
    m = _RFC5424.match(first)
    assert m, first
    pri = int(m.group(1))
    assert pri == 16 * 8 + 2  # local0.crit
    assert m.group(4) == b"routerwatch" and m.group(6) == b"indicator.new"
    assert b'site="hq|branch"' in m.group(7)
    assert m.group(8).startswith(b"\xef\xbb\xbf") and b"\n" not in m.group(8)
    assert b"\x1b" not in m.group(8)
    cef_lines = [_RFC5424.match(x).group(8)[3:].decode() for x in syslog_tcp.messages]
    parsed = sorted((pycef.parse(line) for line in cef_lines),
                    key=lambda p: p["DeviceEventClassID"])
    assert parsed[0]["DeviceVendor"] == "routerwatch"
    assert parsed[0]["DeviceEventClassID"] == "indicator.new"
    assert parsed[0]["Severity"] == "10"
    assert parsed[0]["site"] == "hq|branch" and parsed[0]["device"] == "ASUS X1"
    assert "\x1b" not in parsed[0]["msg"] and parsed[0]["deviceKey"] == "k2"
    assert parsed[1]["DeviceEventClassID"] == "port.opened" and parsed[1]["Severity"] == "5"
    assert {d.state for d in deliveries(store, org)} == {"sent"}


def test_digest_by_mail_and_syslog(store, org, smtp, syslog_tcp, emit, run):
    """A digest is one mail listing every event; syslog gets each event as its own line."""
    import sqlalchemy as sa

    from routerwatch.server.store import alerts as a

    mail_id, _ = setup(store, org, al.EmailSpec(
        name="mail", host=smtp.host, port=smtp.port, ca_pem=smtp.ca_pem, username=smtp.user,
        password=smtp.password, sender="alerts@example.org", to=["soc@example.org"]),
        name="m", digest_minutes=15)
    setup(store, org, al.SyslogSpec(name="tcp", host="127.42.0.3", port=syslog_tcp.port,
                                    transport="tcp"), name="s", digest_minutes=15)
    emit(*[Event("finding.new", org, f"finding {i}", "high", cve=f"CVE-2024-{1000 + i}")
           for i in range(4)])
    run()
    assert smtp.mails == [] and syslog_tcp.messages == []
    with store.write() as conn:  # the 15-minute period ends
        conn.execute(sa.update(a.deliveries).values(not_before=sa.func.current_timestamp()))
    run()
    wait_until(lambda: len(smtp.mails) == 1 and len(syslog_tcp.messages) == 4,
               what="one mail and four syslog lines")
    mail = smtp.mails[0].message
    assert "digest: 4 events" in mail["Subject"]
    assert all(f"CVE-2024-{1000 + i}" in mail.get_payload() for i in range(4))
    assert len(deliveries(store, org, channel_id=mail_id, state="sent")) == 4
