"""The fleet-server step of `routerwatch demo`: a real `routerwatch serve` on loopback.

Starts the server as its own process on 127.0.0.1 (a free port, SQLite under the demo's output
folder, the demo's knowledge base), creates an operator token and a dashboard user, uploads the
demo's report through the same client `scan --upload` uses, reads back the inventory and the
event log over the REST API, logs into the web dashboard as a browser would (CSRF token, session
cookie) and saves its fleet overview page, and stops the server with SIGTERM (its graceful
shutdown). With a ``gateway`` (a lab router's loopback address) it also enrols a real
`routerwatch agent` for a "home-office" site and runs one agent round: the agent finds its
"default gateway" in recorded `ip`/`nmcli` outputs written here (never the machine's real
gateway), probes it and delivers the result. Before the upload it sets up an alert rule
(compromise indicators, critical) with a signed webhook channel whose receiver runs here on
127.0.0.1, and checks the HMAC signature of every delivery that arrives. Nothing leaves
loopback.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"


class FleetDemoError(Exception):
    """The demo's server could not be started or did not answer; the message is one line."""


@dataclass(frozen=True)
class FleetDemo:
    url: str
    devices: int
    events: dict[str, int]
    database: Path
    dashboard: Path | None = None
    agent: str | None = None  # what the enrolled agent's round did, one line
    alerts: str | None = None  # what the webhook receiver got, one line

    def line(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.events.items()))
        return (f"fleet server at {self.url}: {self.devices} devices in the inventory; "
                f"events: {kinds or 'none'} (database {self.database})"
                + (f"; dashboard overview saved to {self.dashboard}" if self.dashboard else "")
                + (f"\n{self.alerts}" if self.alerts else "")
                + (f"\n{self.agent}" if self.agent else ""))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


AGENT_SITE = "home-office"


def _token(db_url: str) -> tuple[str, str, str]:
    """An admin API token, the password of the dashboard user ``demo`` and a one-time
    agent enrolment token for the site "home-office" (all fresh)."""
    from routerwatch.server.agents import create_enrolment
    from routerwatch.server.auth import create_token
    from routerwatch.server.store import FleetStore
    from routerwatch.server.web.accounts import create_user

    password = secrets.token_urlsafe(18)
    store = FleetStore(db_url)
    try:
        with store.write() as conn:
            org_id = store.ensure_org(conn, "demo")
            # admin: the demo also sets up an alert rule and its channel
            made = create_token(conn, org_id, "demo", "admin", expires_in=timedelta(hours=1))
            create_user(conn, org_id, "demo", password, "operator")
            enrolment = create_enrolment(conn, store, org_id, AGENT_SITE, "agent",
                                         expires_in=timedelta(hours=1))
    finally:
        store.close()
    return str(made.token), password, enrolment.token


class _Receiver:
    """A webhook receiver on 127.0.0.1 (a thread): keeps each delivery's headers and body."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.got: list[tuple[dict[str, str], bytes]] = []
        got = self.got

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = min(int(self.headers.get("Content-Length") or 0), 1 << 22)
                got.append(({k: v for k, v in self.headers.items()}, self.rfile.read(size)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hooks/routerwatch"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _alert_rule(url: str, headers: dict[str, str], receiver: _Receiver, secret: str) -> None:
    """A signed webhook channel to ``receiver`` and a rule: compromise indicators, critical."""
    channel = httpx.post(url + "/api/v1/alerts/channels", headers=headers, timeout=10, json={
        "kind": "webhook", "name": "demo-soc", "url": receiver.url, "secret": secret})
    channel.raise_for_status()
    rule = httpx.post(url + "/api/v1/alerts/rules", headers=headers, timeout=10, json={
        "name": "compromise", "channels": [channel.json()["id"]],
        "match": {"types": ["indicator.new"], "min_severity": "critical"}})
    rule.raise_for_status()


def _alerts_received(receiver: _Receiver, secret: str, expected: int, wait: float) -> str:
    """Wait for the deliveries of ``expected`` events; check every signature."""
    from routerwatch.server.alerts.render import verify

    deadline = time.monotonic() + wait
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        events = [e for _h, body in list(receiver.got)
                  for e in json.loads(body).get("events", [])]
        if len(events) >= expected:
            break
        time.sleep(0.2)
    signed = sum(1 for h, body in receiver.got if verify(
        secret, h.get("X-Routerwatch-Timestamp", ""), body,
        h.get("X-Routerwatch-Signature", "")))
    if signed != len(receiver.got):
        raise FleetDemoError(f"{len(receiver.got) - signed} webhook deliveries failed the "
                             "HMAC check")
    names = sorted({str((e.get("data") or {}).get("rule") or e.get("type")) for e in events})
    return (f"alerts: rule 'compromise' sent {len(receiver.got)} signed webhook deliveries "
            f"(HMAC verified) for {len(events)} of {expected} critical indicator.new events to "
            f"a receiver on {receiver.url.split('/hooks')[0]}"
            + (f" ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})" if names else ""))


def _recorded_home(folder: Path, gateway: str) -> Path:
    """Recorded Linux outputs (`ip -j route/neigh`, `nmcli`) of a laptop at home whose
    default gateway is the lab router ``gateway``; the agent reads these, not the OS."""
    folder.mkdir(parents=True, exist_ok=True)
    route = [{"dst": "default", "gateway": gateway, "dev": "wlan0", "protocol": "dhcp",
              "metric": 600, "flags": []}]
    neigh = [{"dst": gateway, "dev": "wlan0", "lladdr": "02:00:5e:10:00:01",
              "state": ["REACHABLE"]}]
    (folder / "ip_-j_route_show_default.txt").write_text(json.dumps(route))
    (folder / f"ip_-j_neigh_show_{gateway}.txt").write_text(json.dumps(neigh))
    (folder / "nmcli_-t_-f_active_ssid_dev_wifi.txt").write_text("yes:demo-home\n")
    return folder


def _agent_step(url: str, enrol_token: str, gateway: str, folder: Path, kb_url: str | None,
                headers: dict[str, str]) -> str:
    """Enrol a `routerwatch agent` and run one round against the lab router ``gateway``."""
    home = folder / "agent"
    shutil.rmtree(home, ignore_errors=True)
    env = dict(os.environ, ROUTERWATCH_HOME=str(home))

    def agent(*args: str) -> dict[str, Any]:
        try:
            done = subprocess.run([sys.executable, "-m", "routerwatch", "agent", *args,
                                   "--json"], env=env, capture_output=True, text=True,
                                  timeout=120)
        except subprocess.TimeoutExpired:
            raise FleetDemoError(f"agent {args[0]} did not finish in 120 s") from None
        try:
            out: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise FleetDemoError(f"agent {args[0]} failed: {tail}") from None
        return out

    agent("enroll", url, enrol_token, "--name", "demo-laptop")
    extra = ["--db", kb_url] if kb_url else []
    rounds = agent("run-once", "--recorded", str(_recorded_home(home / "recorded", gateway)),
                   "--os", "linux", *extra)
    if not rounds.get("probed") or rounds.get("error"):
        raise FleetDemoError(f"the agent's round failed: {rounds.get('error') or rounds}")
    page = httpx.get(url + "/api/v1/devices", params={"site": AGENT_SITE, "limit": 5},
                     headers=headers, timeout=10)
    page.raise_for_status()
    items = page.json().get("items", [])
    seen = ", ".join(" ".join(str(d.get(k) or "") for k in ("vendor", "model", "firmware")
                              ).strip() or "unidentified" for d in items) or "nothing yet"
    return (f"agent demo-laptop enrolled for site {AGENT_SITE}, found its gateway {gateway} "
            f"(recorded `ip` output), probed it and delivered the result: {seen}")


def _dashboard(url: str, password: str, target: Path) -> Path:
    """Log into the dashboard like a browser (login form's CSRF token, session cookie) and
    save the fleet overview page."""
    with httpx.Client(base_url=url, timeout=15, follow_redirects=True) as client:
        form = client.get("/ui/login")
        form.raise_for_status()
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if found is None:
            raise FleetDemoError("the dashboard's login page carries no CSRF token")
        done = client.post("/ui/login", data={"csrf_token": found.group(1), "next": "/ui/",
                                              "username": "demo", "password": password})
        done.raise_for_status()
        if "/ui/login" in str(done.url):
            raise FleetDemoError("the dashboard refused the demo user's login")
        target.write_text(done.text, encoding="utf-8")
    return target


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FleetDemoError(f"the fleet server exited with code {proc.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise FleetDemoError(f"the fleet server did not answer on {url} in time")


def _events(url: str, headers: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    after: int | None = None
    for _ in range(100):  # bounded: 100 pages
        params: dict[str, Any] = {"limit": 500}
        if after is not None:
            params["after"] = after
        page = httpx.get(url + "/api/v1/events", params=params, headers=headers, timeout=10)
        page.raise_for_status()
        body = page.json()
        for item in body["items"]:
            counts[item["type"]] = counts.get(item["type"], 0) + 1
        after = body.get("next_after")
        if after is None:
            break
    return counts


def fleet_step(report_dict: dict[str, Any], folder: Path, kb_url: str | None,
               *, timeout: float = 30.0, gateway: str | None = None) -> FleetDemo:
    """Run the server, upload ``report_dict`` (a report document), read back what it holds;
    with ``gateway`` (a running lab router's loopback address), one enrolled agent's round."""
    from routerwatch.server.client import UploadError, upload_report

    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "fleet.db"
    database.unlink(missing_ok=True)  # each demo run starts a fresh fleet
    db_url = f"sqlite:///{database}"
    token, password, enrol_token = _token(db_url)
    port = _free_port()
    url = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "routerwatch", "serve", "--host", HOST, "--port", str(port),
           "--db", db_url, "--log-level", "warning"]
    if kb_url:
        cmd += ["--kb-db", kb_url]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    receiver = _Receiver()
    secret = secrets.token_urlsafe(24)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        _wait_healthy(url, proc, time.monotonic() + timeout)
        try:
            _alert_rule(url, headers, receiver, secret)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise FleetDemoError(f"cannot set up the demo's alert rule: {exc}") from None
        try:
            upload_report(report_dict, url, token, site="lab", kind="scan")
        except UploadError as exc:
            raise FleetDemoError(str(exc)) from None
        try:
            devices = httpx.get(url + "/api/v1/devices", params={"limit": 1}, headers=headers,
                                timeout=10)
            devices.raise_for_status()
            total = int(devices.json().get("total", len(devices.json().get("items", []))))
            events = _events(url, headers)
            dashboard = _dashboard(url, password, folder / "dashboard.html")
            # the server rates a compromise indicator critical: one event per host and rule
            critical = sum(len({i.get("rule") for i in h.get("indicators", [])
                                if i.get("kind") == "compromise"})
                           for h in report_dict.get("hosts", []))
            alerts = _alerts_received(receiver, secret, critical, 10.0) if critical else None
            agent = (_agent_step(url, enrol_token, gateway, folder, kb_url, headers)
                     if gateway else None)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise FleetDemoError(f"the fleet server's API answered badly: {exc}") from None
    finally:
        receiver.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return FleetDemo(url=url, devices=total, events=events, database=database,
                     dashboard=dashboard, agent=agent, alerts=alerts)
