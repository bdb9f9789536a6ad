"""`routerwatch scan --gateway` with a recorded route table (never the machine's real gateway)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.lab import Lab

# /proc/net/route layout; the gateway column is little-endian hex: 013F007F = 127.0.63.1.
# The second default route has a higher metric and must lose.
ROUTES = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t013F007F\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "wlan0\t00000000\t023F007F\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    "eth0\t003F007F\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
)


def test_gateway_scan_reads_the_route_table(tmp_path: Path) -> None:
    table = tmp_path / "route"
    table.write_text(ROUTES)
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    with Lab(base="127.0.63.0", include_hostile=False):
        result = CliRunner().invoke(
            app, ["scan", "--gateway", "--route-table", str(table), "-f", "json", "--db", db, "-q"]
        )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert [h["address"] for h in data["hosts"]] == ["127.0.63.1"]
    assert data["hosts"][0]["identity"]["vendor"] == "TP-Link"


def test_gateway_without_default_route_is_a_clear_error(tmp_path: Path) -> None:
    table = tmp_path / "route"
    table.write_text(ROUTES.splitlines(keepends=True)[0] + ROUTES.splitlines(keepends=True)[3])
    result = CliRunner().invoke(app, ["scan", "--gateway", "--route-table", str(table)])
    assert result.exit_code == 2
    assert "no IPv4 default gateway" in result.output


def test_gateway_with_unreadable_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["scan", "--gateway", "--route-table", str(tmp_path / "missing")]
    )
    assert result.exit_code == 2
    assert "cannot read the route table" in result.output


def test_scan_help_states_the_defaults_it_uses() -> None:
    from routerwatch.scan.scanner import ScanOptions

    out = CliRunner().invoke(app, ["scan", "--help"], terminal_width=200).output
    text = " ".join(out.replace("│", " ").split())  # the help is drawn in boxes
    o = ScanOptions()
    for value in (o.rate, o.host_concurrency, o.probe_timeout, o.host_timeout):
        assert f"(default {value:g})" in text
