"""`routerwatch demo`: the README's main job, end to end on loopback, in under 60 s."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.report import from_dict


def test_demo_writes_every_report_quickly(tmp_path: Path) -> None:
    out = tmp_path / "report"
    db = f"sqlite:///{tmp_path / 'kb.db'}"  # empty: the demo must import the starter KB
    started = time.monotonic()
    result = CliRunner().invoke(
        app, ["demo", "--output", str(out), "--base", "127.0.62.0", "--db", db, "-q"]
    )
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert took < 60, f"demo took {took:.1f} s"
    for name in (
        "routerwatch-report.html",
        "routerwatch-report.json",
        "routerwatch-report.csv",
        "routerwatch-report.cdx.json",
        "routerwatch-report.sarif",
    ):
        assert (out / name).stat().st_size > 0, name
    report = from_dict(json.loads((out / "routerwatch-report.json").read_text()))
    assert report.kind == "demo" and len(report.assessments) >= 20
    compromised = {
        a.address for a in report.assessments if any(i.kind == "compromise" for i in a.indicators)
    }
    assert len(compromised) >= 3  # Quad7 TP-Link, Quad7 ASUS, AyySSHush ASUS
    # the decoy's telnet console on 7777 is not Quad7
    assert all(
        not any(i.rule.startswith("quad7") for i in a.indicators)
        for a in report.assessments
        if a.identity.vendor is None and 7777 in a.open_ports and 11288 not in a.open_ports
    )
    assert "identified vendor and model of" in result.output
    # the demo grows with the product: bulk assessment and the fleet server, for real
    assert "bulk:" in result.output, result.output
    assert list((out / "bulk").rglob("*.parquet")), "no Parquet tables from the bulk step"
    assert "fleet server at http://127.0.0.1:" in result.output, result.output
    assert "device.new" in result.output
    assert (out / "fleet" / "fleet.db").stat().st_size > 0
    # ... and its web dashboard, logged into like a browser: the overview lists the fleet
    overview = (out / "fleet" / "dashboard.html").read_text(encoding="utf-8")
    assert "dashboard overview saved to" in result.output
    assert "Log in" not in overview and "TP-Link" in overview, overview[:2000]
    # ... and a real agent, enrolled with a one-time token, whose recorded home gateway is a
    # lab router: it probed it and the server holds what it found under the agent's site
    flat = " ".join(result.output.split())
    assert "agent demo-laptop enrolled for site home-office" in flat, flat[-1500:]
    assert "delivered the result: TP-Link" in flat, flat[-1500:]
    # ... and credentialed reads: the Archer AX21's firmware, read over its web API with the
    # owner's login, turns its KEV CVE-2023-1389 from possible into affected
    found = re.search(r"credentialed reads: (\d+) lab routers .*? firmware known (\d+)/\d+ -> "
                      r"(\d+)/\d+", flat)
    assert found is not None, flat[-2500:]
    assert int(found.group(3)) == int(found.group(1)) > int(found.group(2))
    assert "now affected and in CISA KEV: CVE-2023-1389" in flat
    # ... and an alert rule whose signed webhooks reached a receiver on loopback, every one
    # of the critical compromise events, each signature checked
    found = re.search(r"alerts: rule 'compromise' sent (\d+) signed webhook deliveries "
                      r"\(HMAC verified\) for (\d+) of (\d+) critical", flat)
    assert found is not None, flat[-1500:]
    assert int(found.group(2)) == int(found.group(3)) > 0
    assert "step skipped" not in result.output
    keys = [a.key for a in report.assessments]
    assert len(keys) == len(set(keys)), "two hosts of one scan share a device key"


def test_demo_refuses_a_base_outside_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--output", str(tmp_path / "r"), "--base", "192.168.1.0", "-q"]
    )
    assert result.exit_code != 0
    assert "127.0.0.0/8" in result.output or "loopback" in result.output
