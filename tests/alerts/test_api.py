"""The alert REST API on a real `routerwatch serve`: roles, organisation scope, write-only
secrets (never answered, never logged), one-line errors; and delivery across a real server
restart (SIGTERM and SIGKILL) without loss or duplicates."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from receivers import WebhookReceiver, wait_until
from server_helpers import lab_report, make_token, upload_doc

from routerwatch.server.alerts import render

HMAC_KEY = "hmac-key-never-shown-4711"
SMTP_PW = "smtp-password-never-shown-0815"
FAST = {"max_attempts": 50, "base_seconds": 0.2, "max_seconds": 1.0}


def test_api_roles_scope_and_secrets(db_url, kb_url, start_server, webhook):
    server = start_server(db_url, kb_url)
    admin, viewer = make_token(db_url, "acme", "admin"), make_token(db_url, "acme", "viewer")
    operator = make_token(db_url, "acme", "operator")
    stranger = make_token(db_url, "globex", "admin")
    hook = {"kind": "webhook", "name": "soc", "url": webhook.url + "?token=url-secret",
            "secret": HMAC_KEY, "retry": FAST}
    mail = {"kind": "email", "name": "mail", "host": "127.42.0.2", "port": 2525,
            "username": "alerts", "password": SMTP_PW, "sender": "rw@example.org",
            "to": ["soc@example.org"]}
    with server.client(admin) as c, server.client(viewer) as v, \
            server.client(stranger) as s, server.client(operator) as op:
        assert v.post("/api/v1/alerts/channels", json=hook).status_code == 403
        assert op.post("/api/v1/alerts/channels", json=hook).status_code == 403
        r = c.post("/api/v1/alerts/channels", json=hook)
        assert r.status_code == 201, r.text
        hook_id = r.json()["id"]
        mail_id = c.post("/api/v1/alerts/channels", json=mail).json()["id"]
        # one-line errors naming what was wrong
        bad = c.post("/api/v1/alerts/channels", json={**hook, "name": "x", "url": "ftp://h/"})
        assert bad.status_code == 422 and "url" in bad.json()["detail"]
        clear = c.post("/api/v1/alerts/channels", json={**mail, "name": "m2", "tls": "none"})
        assert clear.status_code == 422 and "never in clear" in clear.json()["detail"]
        dup = c.post("/api/v1/alerts/channels", json=hook)
        assert dup.status_code == 422 and "exists already" in dup.json()["detail"]
        unknown = c.post("/api/v1/alerts/rules", json={
            "name": "r", "channels": [hook_id], "match": {"types": ["device.exploded"]}})
        assert unknown.status_code == 422 and "device.exploded" in unknown.json()["detail"]
        foreign = s.post("/api/v1/alerts/channels", json={**hook, "name": "theirs"}).json()
        assert c.post("/api/v1/alerts/rules", json={"name": "r", "channels": [foreign["id"]]}
                      ).json()["detail"] == f"no alert channel {foreign['id']}"
        r = c.post("/api/v1/alerts/rules", json={
            "name": "new devices", "channels": [hook_id],
            "match": {"types": ["device.new"], "sites": ["hq"]}})
        assert r.status_code == 201, r.text
        rule_id = r.json()["id"]
        # viewers read; secrets are never answered
        listed = v.get("/api/v1/alerts/channels")
        assert listed.status_code == 200
        text = listed.text + v.get(f"/api/v1/alerts/channels/{mail_id}").text
        assert HMAC_KEY not in text and SMTP_PW not in text and "url-secret" not in text
        shown = {ch["name"]: ch for ch in listed.json()["items"]}
        assert shown["soc"]["secret_set"] and shown["soc"]["config"]["url"].endswith("/…")
        assert "password" not in shown["mail"]["config"] and "secret" not in shown["soc"]["config"]
        assert v.get("/api/v1/alerts/rules").json()["items"][0]["match"]["sites"] == ["hq"]
        # organisation scope
        assert s.get(f"/api/v1/alerts/channels/{hook_id}").status_code == 404
        assert s.get(f"/api/v1/alerts/rules/{rule_id}").status_code == 404
        assert s.delete(f"/api/v1/alerts/rules/{rule_id}").status_code == 404
        assert [x["name"] for x in s.get("/api/v1/alerts/channels").json()["items"]] == ["theirs"]
        # updating without the secret keeps it
        keep = {k: v for k, v in hook.items() if k != "secret"}
        assert c.put(f"/api/v1/alerts/channels/{hook_id}", json=keep).status_code == 200
        # events reach the channel; the viewer reads the deliveries
        assert op.post("/api/v1/uploads", json=upload_doc("d1", lab_report())).status_code == 201
        hosts = len(lab_report()["hosts"])
        wait_until(lambda: len(webhook.hits) == hosts, what="a webhook per new device")
        for hit in webhook.hits:
            assert render.verify(HMAC_KEY, hit.headers["x-routerwatch-timestamp"], hit.body,
                                 hit.headers["x-routerwatch-signature"])
        wait_until(lambda: len(v.get("/api/v1/alerts/deliveries",
                                     params={"state": "sent"}).json()["items"]) == hosts)
        page = v.get("/api/v1/alerts/deliveries", params={"limit": 5}).json()
        assert len(page["items"]) == 5 and page["next_before"] == page["items"][-1]["id"]
        assert s.get("/api/v1/alerts/deliveries").json()["items"] == []
        assert v.get("/api/v1/alerts/deliveries", params={"state": "bogus"}).status_code == 422
        assert c.delete(f"/api/v1/alerts/rules/{rule_id}").status_code == 204
        assert c.get(f"/api/v1/alerts/rules/{rule_id}").status_code == 404
    log = server.log.read_text()
    assert HMAC_KEY not in log and SMTP_PW not in log and "url-secret" not in log


def _day2(report):
    """The next day's scan: every device's firmware changed (one event each)."""
    doc = copy.deepcopy(report)
    for h in doc["hosts"]:
        ident = h.get("identity") or {}
        if ident.get("firmware"):
            ident["firmware"] = ident["firmware"] + "-next"
    return doc


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_restart_loses_and_repeats_nothing(db_url, kb_url, start_server, how):
    """Events recorded while the receiver is down are delivered after a server restart,
    each exactly once; the cursors carry on where they stopped."""
    receiver = WebhookReceiver("127.42.0.1")
    try:
        receiver.statuses = [503] * 100_000  # down
        server = start_server(db_url, kb_url)
        admin, op = make_token(db_url, "acme", "admin"), make_token(db_url, "acme", "operator")
        with server.client(admin) as c:
            cid = c.post("/api/v1/alerts/channels", json={
                "kind": "webhook", "name": "hook", "url": receiver.url, "retry": FAST}).json()["id"]
            c.post("/api/v1/alerts/rules", json={"name": "all", "channels": [cid]})
            assert c.post("/api/v1/uploads", headers={"Authorization": f"Bearer {op}"},
                          json=upload_doc("d1", lab_report())).status_code == 201
            wait_until(lambda: c.get("/api/v1/alerts/deliveries",
                                     params={"state": "retrying"}).json()["items"],
                       what="a failed attempt")
            planned = c.get("/api/v1/alerts/deliveries", params={"limit": 1000}).json()["items"]
        if how == "stop":
            assert server.stop() in (0, -15)  # uvicorn re-raises SIGTERM after its shutdown
            assert '"server stopped"' in server.log.read_text()
        else:
            server.kill()
        receiver.statuses = []  # up again
        server.start()
        with server.client(admin) as c:
            assert c.post("/api/v1/uploads", headers={"Authorization": f"Bearer {op}"},
                          json=upload_doc("d2", _day2(lab_report()))).status_code == 201
            events = c.get("/api/v1/events", params={"limit": 1000}).json()["items"]
            wait_until(lambda: len(receiver.hits) >= len(events), timeout=60,
                       what="every event")
            wait_until(lambda: all(d["state"] == "sent" for d in c.get(
                "/api/v1/alerts/deliveries", params={"limit": 1000}).json()["items"]))
        got = Counter(json.loads(h.body)["events"][0]["id"] for h in receiver.hits)
        assert sorted(got) == sorted(e["id"] for e in events)  # none lost
        assert max(got.values()) == 1  # none twice
        assert len(planned) > 0 and len(events) > len(planned)  # day 2 added events
    finally:
        receiver.close()
