"""Data and servers for the dashboard tests: the recorded lab scan over several days, a hostile
device, dashboard users, and a real `routerwatch serve` on 127.43.0.0/16."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent / "server"))

from server_helpers import (  # noqa: F401 - server_fixtures, serving: for conftest
    Server,
    lab_report,
    make_token,
    server_fixtures,
    serving,
    upload_doc,
)

HOST = os.environ.get("ROUTERWATCH_TEST_SERVER_HOST", "127.43.0.1")
PASSWORD = "correct horse battery"
# What a hostile device says about itself: markup, ANSI escapes (clear screen, colour, an OSC
# title) and Unicode bidi overrides/isolates.
HOSTILE_MODEL = ("R7000<script>window.__pwned=1</script>\x1b[2J\x1b[31mOWNED\u202eevil"
                 "\u2066iso\u2069")
HOSTILE_BANNER = '<img src=x onerror="window.__pwned=2">\x1b]0;title\x07\u202bRTL'
HOSTILE_KEY = "hostile-device-1"

__all__ = ["HOST", "HOSTILE_BANNER", "HOSTILE_KEY", "HOSTILE_MODEL", "PASSWORD", "Server",
           "add_user", "fleet_days", "make_token", "upload_doc"]


def hostile_host() -> dict[str, Any]:
    """The recorded NETGEAR R7000 of the lab scan, renamed and with a banner by an attacker."""
    report = lab_report()
    host = copy.deepcopy(next(h for h in report["hosts"]
                              if (h["identity"].get("model") or "") == "R7000"))
    host["device_key"] = HOSTILE_KEY
    host["address"] = "127.6.1.250"
    host["identity"]["model"] = HOSTILE_MODEL
    host["identity"]["firmware"] = "V1.0.9.88\x1b[0m<b>x</b>"
    host["indicators"] = [{
        "rule": "hostile-banner", "kind": "compromise", "title": "banner " + HOSTILE_BANNER,
        "certainty": "high", "campaign": "<i>camp</i>\u202e", "port": 7777,
        "references": ["javascript:alert(1)"],
        "evidence": [{"source": "banner:7777", "value": HOSTILE_BANNER}],
    }]
    host["policy"] = ["=HYPERLINK(\"http://evil\")\u202e"]
    return host


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fleet_days(now: datetime | None = None) -> list[dict[str, Any]]:
    """Four uploads over six days (real lab scan data, derived as docs/dashboard.md says):

    * day -6: site ``hq`` (the lab scan plus the hostile device), site ``branch`` (its TP-Link
      routers);
    * day -3: ``hq`` again: the R7000 and the RT-AC68U updated to newer firmware, the
      Archer C80 and the Archer AX21 (6 open findings) missing;
    * day -1: ``hq`` again, both still missing (so they are gone: replaced).
    """
    # noon of today (UTC): every upload falls on the same calendar day whenever tests run
    now = now or datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    base = lab_report()
    day0 = copy.deepcopy(base)
    day0["hosts"].append(hostile_host())
    branch = copy.deepcopy(base)
    branch["hosts"] = [h for h in branch["hosts"] if h["identity"].get("vendor") == "TP-Link"]
    later = copy.deepcopy(day0)
    for h in later["hosts"]:
        if h["identity"].get("model") == "R7000" and "device_key" not in h:
            h["identity"]["firmware"] = "V1.0.11.216_2.0.23"
        if h["identity"].get("model") == "RT-AC68U":  # updated: most of its CVEs are fixed
            h["identity"]["firmware"] = "3.0.0.4.388_24198"
    later["hosts"] = [h for h in later["hosts"]
                      if h["identity"].get("model") not in ("Archer C80", "Archer AX21")]
    return [
        upload_doc("hq-day0", day0, site="hq", observed_at=_iso(now - timedelta(days=6))),
        upload_doc("branch-day0", branch, site="branch",
                   observed_at=_iso(now - timedelta(days=6, hours=-1))),
        upload_doc("hq-day3", later, site="hq", observed_at=_iso(now - timedelta(days=3))),
        upload_doc("hq-day5", later, site="hq", observed_at=_iso(now - timedelta(days=1))),
    ]


def add_user(db: str, username: str, org: str, role: str,
             password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """`routerwatch serve user add` with the password on stdin (the CLI path, for real)."""
    return subprocess.run(
        [sys.executable, "-m", "routerwatch", "serve", "user", "add", username, "--org", org,
         "--role", role, "--password-stdin", "--db", db],
        input=password + "\n", capture_output=True, text=True, timeout=120)
