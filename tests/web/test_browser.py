"""The dashboard in headless Chromium (Playwright driving Debian's /usr/bin/chromium) against a
real `routerwatch serve` with the recorded lab scan: login, overview, device page, triage,
reading without JavaScript, and a hostile device shown inert.

Screenshots of each page are written to $ROUTERWATCH_SCREENSHOTS when set
(``ROUTERWATCH_SCREENSHOTS=docs/screenshots pytest tests/web/test_browser.py`` regenerates the
committed ones), else into the test's temporary directory.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_helpers import PASSWORD, make_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1366, "height": 768}
# Every CSP violation becomes a console line naming the directive and where it happened.
REPORT_CSP = ("document.addEventListener('securitypolicyviolation', e => console.log("
              "'Content Security Policy violation', e.violatedDirective, e.sourceFile, "
              "e.columnNumber))")


class Watch:
    """Dialogs, page errors and CSP reports of a page: a hostile string that ran would show."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.console.append(f"{m.text} @ {page.url}"))
        page.add_init_script(REPORT_CSP)


def _login(page: Any, url: str, user: str) -> None:
    page.goto(url + "/ui/")
    assert "/ui/login" in page.url
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/ui/")


def _nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
    page.wait_for_load_state("load")


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
               && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 80))"""
UNTITLED_CHARTS = """() => [...document.querySelectorAll('svg.chart')]
  .filter(s => s.getAttribute('role') !== 'img' || !s.querySelector('title'))
  .map(s => s.outerHTML.slice(0, 80))"""


def _shot(page: Any, shots: Path, name: str) -> None:
    """A screenshot, after checking the page's accessibility basics: every control has a
    label, every chart is an image with a title."""
    assert page.evaluate(UNLABELLED) == [], page.url
    assert page.evaluate(UNTITLED_CHARTS) == [], page.url
    page.screenshot(path=str(shots / f"{name}.png"), full_page=False)


def test_login_overview_device_triage(fleet, browser, shots) -> None:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(fleet.url + "/ui/login")
    _shot(page, shots, "login")
    _login(page, fleet.url, "otto")
    # overview: the figures, charts with title + table fallback, keyboard access
    page.get_by_role("heading", name="Fleet overview").wait_for()
    compromised = page.locator(".cards li", has_text="compromised").locator("strong")
    assert int(compromised.inner_text()) >= 3
    chart = page.locator("#chart-risk-by-site svg[role=img]")
    assert chart.get_attribute("aria-label") == "Risk by site"
    assert page.locator("#chart-risk-by-site table caption").count() == 1
    _shot(page, shots, "overview")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # devices: search through HTMX (the URL follows), then the device page
    _nav(page, "Devices")
    page.get_by_label("Search").fill("TL-WR841N")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*q=TL-WR841N.*"))
    rows = page.locator("#device-results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2 and "TL-WR841N" in rows.first.inner_text()  # hq and branch
    _shot(page, shots, "devices")
    rows.first.get_by_role("link").first.click()
    page.get_by_role("heading", name="Findings").wait_for()
    assert "xlogin:" in page.locator(".indicator table.evidence").first.inner_text()
    assert page.locator("ol.actions li").count() >= 1
    why = page.locator("table.findings td.why").first.inner_text()
    assert len(why) > 20  # each finding says why it matched
    _shot(page, shots, "device")
    # triage: accept the first open finding's risk with a reason and an expiry (HTMX swap)
    row = page.locator("table.findings tbody tr.state-open").first
    row_id = row.get_attribute("id")
    row.locator("summary", has_text="Triage").click()
    row.get_by_role("radio", name="accept risk").check()
    row.get_by_label("Reason").fill("behind the isolated guest VLAN until replacement")
    until = (date.today() + timedelta(days=30)).isoformat()
    row.get_by_label("Accepted until (for accept risk)").fill(until)
    _shot(page, shots, "triage")
    row.get_by_role("button", name="Save").click()
    swapped = page.locator(f"#{row_id}")
    swapped.locator("text=by otto").wait_for()
    assert "accepted" in swapped.inner_text()
    fid = int(row_id.split("-")[1])
    token = make_token(fleet.db, "acme", "viewer")
    api = httpx.get(fleet.url + "/api/v1/findings", params={"state": "accepted"},
                    headers={"Authorization": f"Bearer {token}"}).json()
    hit = [f for f in api["items"] if f["id"] == fid]
    assert hit and hit[0]["triage_by"] == "otto"
    assert hit[0]["triage_reason"].startswith("behind the isolated")
    # the other pages render with their charts
    _nav(page, "Trends")
    page.locator("#chart-kev svg").wait_for()
    _shot(page, shots, "trends")
    _nav(page, "Phase-out")
    page.locator("table.data tbody tr").first.wait_for()
    _shot(page, shots, "phase-out")
    _nav(page, "Findings")
    page.locator("table.findings").wait_for()
    _shot(page, shots, "findings")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/ui/login$"))
    assert not watch.errors and not watch.dialogs
    csp = [m for m in watch.console if "Content Security Policy" in m]
    assert not csp, "\n".join(csp)
    ctx.close()


def test_reading_works_without_javascript(fleet, browser) -> None:
    ctx = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    page = ctx.new_page()
    _login(page, fleet.url, "vera")
    assert page.locator(".cards li").count() == 6
    page.goto(fleet.url + "/ui/devices")
    page.get_by_label("Vendor").select_option("ASUS")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*vendor=ASUS.*"))
    text = page.locator("#device-results tbody").inner_text()
    assert "RT-AC68U" in text and "TL-WR841N" not in text
    # a viewer sees findings but no triage form
    page.goto(fleet.url + "/ui/findings")
    assert page.locator("table.findings tbody tr").count() > 0
    assert page.locator("form.triage").count() == 0
    ctx.close()


def test_hostile_device_is_inert(fleet, browser, shots) -> None:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    watch = Watch(page)
    _login(page, fleet.url, "otto")
    page.goto(fleet.url + "/ui/devices?q=hostile&state=")
    link = page.locator("#device-results tbody a").first
    href = link.get_attribute("href")
    visited = [fleet.url + "/ui/", fleet.url + "/ui/devices?q=hostile&state=",
               fleet.url + href, fleet.url + "/ui/devices?flag=compromised",
               fleet.url + "/ui/findings?state=", fleet.url + "/ui/phase-out"]
    for url in visited:
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", url
        assert page.locator("img").count() == 0, url
        scripts = page.eval_on_selector_all("script", "els => els.map(e => e.src)")
        assert scripts == [fleet.url + "/ui/static/htmx.min.js"], url
    page.goto(fleet.url + href)
    title = page.locator("h1").inner_text()
    # shown as text: the markup literally, the escapes as visible \x1b / \u202e
    assert "<script>window.__pwned=1</script>" in title
    assert "\\x1b[2J" in title and "\\u202e" in title and "\\u2066" in title
    assert "\x1b" not in title and "\u202e" not in title
    banner = page.locator(".indicator table.evidence td code").first.inner_text()
    assert banner.startswith('<img src=x onerror="window.__pwned=2">\\x1b]0;title\\x07')
    _shot(page, shots, "hostile-device")
    assert not watch.dialogs and not watch.errors
    assert not [m for m in watch.console if "Content Security Policy" in m]
    ctx.close()
