"""The dashboard's alert page in headless Chromium against a real server: an admin creates a
rule for a webhook channel, a new scan makes events, the signed webhook arrives at a receiver
on loopback and the delivery shows as sent; viewers cannot create rules."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import httpx
import pytest
from test_browser import VIEWPORT, Watch, _login, _nav, _shot
from test_web_http import _csrf
from test_web_http import _login as http_login
from web_helpers import lab_report, make_token, upload_doc

sys.path.insert(0, str(Path(__file__).parent.parent / "alerts"))
from receivers import WebhookReceiver, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RECEIVER = "127.43.0.5"


@pytest.fixture
def receiver():
    r = WebhookReceiver(RECEIVER)
    yield r
    r.close()


def _channel(fleet, url: str) -> int:
    admin = make_token(fleet.db, "acme", "admin")
    r = httpx.post(fleet.url + "/api/v1/alerts/channels", timeout=30,
                   headers={"Authorization": f"Bearer {admin}"},
                   json={"kind": "webhook", "name": "SOC webhook", "url": url,
                         "secret": "hmac-key-for-test"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_admin_creates_rule_and_sees_delivery(fleet, browser, shots, receiver) -> None:
    channel = _channel(fleet, receiver.url)
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    watch = Watch(page)
    _login(page, fleet.url, "ada")
    _nav(page, "Alerts")
    page.get_by_label("Name").fill("Compromise at hq")
    page.get_by_label("Event types (none selected: every event)").select_option(
        ["indicator.new"])
    page.get_by_label("Sites (none selected: every site)").select_option(["hq"])
    page.get_by_label("Lowest severity").select_option("critical")
    page.get_by_role("checkbox", name="SOC webhook (webhook)").check()
    page.get_by_role("button", name="Create rule").click()
    row = page.locator("#rules tbody tr", has_text="Compromise at hq")
    row.wait_for()
    assert "indicator.new" in row.inner_text() and "SOC webhook" in row.inner_text()
    # a new compromised router at hq: one indicator.new event per indicator → the webhook
    report = lab_report()
    implant = copy.deepcopy(next(h for h in report["hosts"]
                                 if h["identity"].get("model") == "TL-WR841N"))
    implant["device_key"] = "new-implanted-router"
    implant["address"] = "127.6.1.240"
    report["hosts"] = [implant]
    op = make_token(fleet.db, "acme", "operator")
    r = httpx.post(fleet.url + "/api/v1/uploads", timeout=60,
                   headers={"Authorization": f"Bearer {op}"},
                   json=upload_doc("hq-new-router", report, site="hq", complete=False))
    assert r.status_code == 201, r.text
    compromise = [i for i in implant["indicators"] if i["kind"] == "compromise"]
    wait_until(lambda: len(receiver.hits) >= len(compromise), 30, "the webhook")
    hit = receiver.hits[0]
    assert any(k.startswith("x-routerwatch-signature") for k in hit.headers), hit.headers
    assert b"indicator.new" in hit.body
    page.goto(fleet.url + "/ui/alerts")
    sent = page.locator("#deliveries tbody tr.delivery-sent")
    sent.first.wait_for()
    assert sent.count() == len(compromise) == len(receiver.hits)
    assert "Compromise at hq" in sent.first.inner_text()
    assert "SOC webhook" in sent.first.inner_text()
    _shot(page, shots, "alerts")
    assert not watch.errors and not [m for m in watch.console if "Content Security" in m]
    ctx.close()
    assert channel


def test_rule_form_roles_csrf_and_errors(fleet) -> None:
    viewer, _ = http_login(fleet.url, "vera")
    page = viewer.get("/ui/alerts")
    assert page.status_code == 200 and "Create rule" not in page.text
    form = {"name": "x", "csrf_token": _csrf(page.text), "enabled": "on"}
    r = viewer.post("/ui/alerts/rules", data=form)
    assert r.status_code == 403 and "admins" in r.text
    admin, _ = http_login(fleet.url, "ada")
    page = admin.get("/ui/alerts")
    assert admin.post("/ui/alerts/rules", data={"name": "x"}).status_code == 403  # no token
    bad = admin.post("/ui/alerts/rules", data={"name": "too likely", "epss_min": "5",
                                               "csrf_token": _csrf(page.text)})
    assert bad.status_code == 422
    assert re.search(r"match\.epss_min: Input should be less than or equal to 1", bad.text)
    assert 'value="too likely"' in bad.text  # the form keeps what was typed
    none = admin.post("/ui/alerts/rules", data={"name": "nowhere",
                                                "csrf_token": _csrf(page.text)})
    assert none.status_code == 422 and "at least one channel" in none.text
    channel = _channel(fleet, "http://127.43.0.6:9/hook")
    ok = admin.post("/ui/alerts/rules", data={"name": "<b>all</b>", "types": ["finding."],
                                              "channels": [str(channel)],
                                              "csrf_token": _csrf(page.text)},
                    follow_redirects=False)
    assert ok.status_code == 303
    listing = admin.get("/ui/alerts").text
    assert "&lt;b&gt;all&lt;/b&gt;" in listing and "events finding." in listing
    dup = admin.post("/ui/alerts/rules", data={"name": "<b>all</b>", "channels": [str(channel)],
                                               "csrf_token": _csrf(page.text)})
    assert dup.status_code == 422 and "exists already" in dup.text
