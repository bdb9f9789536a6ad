"""Config audits of MikroTik /export (verbose, compact, terse) and OpenWrt uci export fixtures:
every rule that should fire does, the clean export stays quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerwatch.checks.config_audit import audit_config, port_forwards
from routerwatch.checks.config_parse import ConfigAuditError, parse_text, read_config

CONFIGS = Path(__file__).parents[1] / "fixtures/configs"


def _rules(name: str) -> dict[str, str]:
    return {i.rule: i.certainty for i in audit_config(CONFIGS / name)}


def test_compromised_mikrotik_export() -> None:
    got = _rules("mikrotik-compromised.rsc")
    assert got["mikrotik-socks-enabled"] == "medium"
    assert got["mikrotik-web-proxy-enabled"] == "low"
    assert got["mikrotik-fetch-import-ip"] == "medium"
    assert "mikrotik-fetch-import" not in got  # the specific rule wins
    assert got["mikrotik-telnet-service"] == "high"
    assert got["mikrotik-service-odd-port"] == "low"  # telnet 2323 and ssh 20022
    assert got["mikrotik-www-open"] == "medium"
    assert got["config-port-forward-odd"] == "medium"  # dst-nat of TCP 7777


def test_clean_mikrotik_export_in_terse_form() -> None:
    got = _rules("mikrotik-clean.rsc")
    assert got == {"mikrotik-fetch-import": "low"}  # an HTTPS blocklist import: review only


def test_mikrotik_records_and_forwards() -> None:
    cfg = read_config(CONFIGS / "mikrotik-compromised.rsc")
    services = [r.fields for r in cfg.records if r.path == "ip.service"]
    assert {"name": "telnet", "disabled": "no", "port": "2323"} in services
    (fwd,) = port_forwards(cfg)
    assert fwd.external == (7777, 7777) and fwd.destination == "192.168.88.20"
    eth = parse_text("/interface ethernet\nset [ find default-name=ether1 ] name=wan\n", "x")
    assert eth.records[0].fields == {"name": "wan"}  # the [find ...] selector is not a field


def test_openwrt_uci_export() -> None:
    cfg = read_config(CONFIGS / "openwrt-uci-export.uci")
    assert cfg.format == "text"
    paths = [r.path for r in cfg.records]
    assert paths.count("firewall.rule") == 2 and "dropbear.dropbear" in paths
    zone = next(r for r in cfg.records if r.path == "firewall.zone")
    assert zone.fields["network"] == "wan wan6"  # list values are joined
    got = _rules("openwrt-uci-export.uci")
    assert got["openwrt-firewall-wan-admin"] == "high"  # Allow-Telnet-WAN, not Allow-Ping
    assert got["openwrt-dropbear-odd-port"] == "low"
    assert got["config-port-forward-odd"] == "medium"  # redirect of the Quad7 SOCKS port


def test_bad_uci_is_one_line() -> None:
    with pytest.raises(ConfigAuditError, match="uci export line 3 is not package/config"):
        parse_text("package network\nconfig interface 'lan'\n  bogus line here\n", "n.uci")
    with pytest.raises(ConfigAuditError, match="outside a config section"):
        parse_text("package network\noption proto 'dhcp'\n", "n.uci")
