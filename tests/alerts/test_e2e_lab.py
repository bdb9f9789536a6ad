"""Proof, end to end: a lab router gets compromised → a signed webhook reaches a local HTTP
receiver and a mail reaches a local SMTP server (STARTTLS), within seconds, exactly once.

Day 1 scans the TP-Link TL-WR841N of the lab without its implant and uploads to a real
`routerwatch serve`; day 2 scans the same device (same serial and UPnP UUID, so the same
device key) now serving the Quad7 `xlogin:` backdoor on 7777 and SOCKS5 on 11288. The server
records `indicator.new`, and the alert rule sends it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import Counter

from receivers import wait_until
from server_helpers import make_token

from routerwatch.lab import Lab, load_profiles
from routerwatch.server.alerts import render

BASE = "127.42.2.0"
KEY = "e2e-hmac-key"
IMPLANT = (7777, 11288)


def _profiles():
    [quad7] = [p for p in load_profiles(False) if p.id == "tplink-tl-wr841n-v8-quad7"]
    clean = dataclasses.replace(quad7, services=tuple(
        s for s in quad7.services if s.port not in IMPLANT))
    return clean, quad7


def _scan_upload(lab, server, kb_url, token, tmp_path, day):
    address = lab.devices()[0].address
    env = dict(os.environ, ROUTERWATCH_TOKEN=token, ROUTERWATCH_HOME=str(tmp_path))
    cmd = [sys.executable, "-m", "routerwatch", "scan", address, "--db", kb_url, "-q",
           "-f", "json", "-o", str(tmp_path / f"{day}.json"), "--upload", server.url,
           "--site", "hq"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode in (0, 1), r.stderr  # 1: findings
    assert "uploaded run " in r.stdout, r.stdout + r.stderr


def test_compromised_router_alerts_once(db_url, kb_url, start_server, webhook, smtp, tmp_path):
    server = start_server(db_url, kb_url)
    admin, op = make_token(db_url, "acme", "admin"), make_token(db_url, "acme", "operator")
    with server.client(admin) as c:
        hook = c.post("/api/v1/alerts/channels", json={
            "kind": "webhook", "name": "soc-hook", "url": webhook.url, "secret": KEY}).json()
        mail = c.post("/api/v1/alerts/channels", json={
            "kind": "email", "name": "soc-mail", "host": smtp.host, "port": smtp.port,
            "ca_pem": smtp.ca_pem, "username": smtp.user, "password": smtp.password,
            "sender": "routerwatch@example.org", "to": ["soc@example.org"]}).json()
        assert c.post("/api/v1/alerts/rules", json={
            "name": "compromise", "channels": [hook["id"], mail["id"]],
            "match": {"types": ["indicator.new"], "min_severity": "critical"}},
        ).status_code == 201
    clean, quad7 = _profiles()
    with Lab(base=BASE, profiles=[clean]) as lab:
        _scan_upload(lab, server, kb_url, op, tmp_path, "day1")
    time.sleep(1.5)  # several alert rounds: a clean router alerts nobody
    assert webhook.hits == [] and smtp.mails == []
    with Lab(base=BASE, profiles=[quad7]) as lab:
        _scan_upload(lab, server, kb_url, op, tmp_path, "day2")
    uploaded = time.monotonic()
    wait_until(lambda: webhook.hits and smtp.mails, timeout=10, what="the webhook and mail")
    latency = time.monotonic() - uploaded
    assert latency < 5, f"alerts took {latency:.1f} s"
    time.sleep(2)  # more rounds: nothing arrives twice
    with server.client(admin) as c:
        events = c.get("/api/v1/events", params={"type": "indicator.new"}).json()["items"]
        deliveries = c.get("/api/v1/alerts/deliveries").json()["items"]
    critical = {e["id"]: e for e in events if e["severity"] == "critical"}
    assert "quad7-xlogin-7777" in {e["data"]["rule"] for e in critical.values()}
    hooked = Counter()
    for hit in webhook.hits:
        assert render.verify(KEY, hit.headers["x-routerwatch-timestamp"], hit.body,
                             hit.headers["x-routerwatch-signature"])
        for e in json.loads(hit.body)["events"]:
            hooked[e["id"]] += 1
            assert e["device"]["vendor"] == "TP-Link" and e["site"] == "hq"
    assert dict(hooked) == dict.fromkeys(critical, 1)  # every compromise event, once
    mailed = Counter(m.message["X-Routerwatch-Delivery"] for m in smtp.mails)
    assert len(smtp.mails) == len(critical) and max(mailed.values()) == 1
    assert all(m.tls and m.login == smtp.user for m in smtp.mails)
    assert any("quad7" in m.message.get_payload() for m in smtp.mails)
    assert len(deliveries) == 2 * len(critical)
    assert {d["state"] for d in deliveries} == {"sent"}
