"""Gateway and network discovery from recorded outputs of each OS's commands (never the real
machine's), and the agent's hard guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerwatch.agent.gateway import (
    DiscoveryError,
    Network,
    discover,
    parse_arp,
    parse_get_netroute,
    parse_ip_json,
    parse_ip_neigh,
    parse_macos_ssid,
    parse_nmcli,
    parse_route_print,
    recorded,
)
from routerwatch.agent.runner import RefusedTarget, gateway_scope, refused_targets
from routerwatch.scan.scope import ScopeError

DATA = Path(__file__).parent / "data"

EXPECTED = {
    # dir: (os, gateway, gateway6, mac, ssid, interface)
    "linux-home": ("Linux", "192.168.178.1", "fe80::3a10:d5ff:fe2b:91c4", "38:10:d5:2b:91:c4",
                   "Home:Net 5G", "wlp0s20f3"),
    "linux-proc": ("Linux", "192.168.0.1", "fe80::1", None, None, "eth0"),
    "linux-v6only": ("Linux", None, "2001:db8:5::1", None, None, "eth0"),
    "macos-cafe": ("Darwin", "172.20.10.1", "fe80::4c1:2fff:fe3a:7b01%en0", "06:c1:2f:3a:7b:01",
                   "Cafe Central Guest", "en0"),
    "macos-netstat": ("Darwin", "192.168.0.254", "fe80::a691:b1ff:fe00:2ce7%en1",
                      "a4:91:b1:00:2c:e7", None, "en1"),
    "windows-office": ("Windows", "10.20.30.1", "fe80::1", "00:1a:8c:44:02:7e", None,
                       "Ethernet 2"),
    "windows-routeprint": ("Windows", "192.168.1.1", "fe80::1", "f4:06:8d:12:ab:cd",
                           "Home-Office", "192.168.1.23"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_outputs(name: str) -> None:
    system, gw, gw6, mac, ssid, iface = EXPECTED[name]
    net = discover(system, recorded(DATA / name))
    assert (net.gateway, net.gateway6, net.mac, net.ssid, net.interface) == (gw, gw6, mac, ssid,
                                                                             iface)
    assert net.sources  # says what it read


def test_the_probe_target_is_the_ipv4_gateway_else_a_routable_ipv6_one() -> None:
    assert discover("Linux", recorded(DATA / "linux-home")).target == "192.168.178.1"
    assert discover("Linux", recorded(DATA / "linux-v6only")).target == "2001:db8:5::1"
    assert Network(gateway=None, gateway6="fe80::1%en0").target is None  # link-local only


def test_lowest_metric_wins() -> None:
    # linux-home has a second default route (USB ethernet, metric 20100)
    routes = parse_ip_json((DATA / "linux-home" / "ip_-j_route_show_default.txt").read_text())
    assert [r.gateway for r in routes] == ["192.168.178.1", "10.8.0.1"]
    win = parse_get_netroute((DATA / "windows-office" /
                              "powershell_-NoProfile_-Command_Get-NetRoute.txt").read_text())
    assert min(win, key=lambda r: r.metric).gateway == "10.20.30.1"  # 0+25 beats 0+55


def test_route_print_ignores_persistent_routes() -> None:
    routes = parse_route_print((DATA / "windows-routeprint" / "route_print.txt").read_text())
    assert [(r.family, r.gateway) for r in routes] == [(4, "192.168.1.1"), (6, "fe80::1")]


def test_network_identity_separates_networks() -> None:
    home = discover("Linux", recorded(DATA / "linux-home"))
    cafe = discover("Darwin", recorded(DATA / "macos-cafe"))
    assert home.device_key() == "mac:38:10:d5:2b:91:c4"
    assert home.key != cafe.key and home.device_key() != cafe.device_key()
    # two homes behind the same address but different routers are different devices
    a = Network(gateway="192.168.1.1", ssid="A")
    b = Network(gateway="192.168.1.1", ssid="B")
    assert a.device_key() != b.device_key() and a.device_key().startswith("net:")
    # the same network seen twice is the same device
    assert discover("Linux", recorded(DATA / "linux-home")).key == home.key


def test_small_parsers() -> None:
    assert parse_ip_neigh("192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE\n",
                          "192.168.1.1") == "00:11:22:33:44:55"
    assert parse_ip_neigh("192.168.1.1 dev eth0  FAILED\n", "192.168.1.1") is None
    assert parse_ip_neigh('[{"dst":"192.168.1.1","state":["FAILED"]}]', "192.168.1.1") is None
    assert parse_arp("? (10.0.0.1) at (incomplete) on en0 ifscope [ethernet]", "10.0.0.1") is None
    assert parse_nmcli("no:Other\n") is None
    assert parse_macos_ssid("     agrCtlRSSI: -51\n           SSID: Office 5G\n") == "Office 5G"


def test_no_default_route_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ip_-j_route_show_default.txt").write_text("[]")
    with pytest.raises(DiscoveryError, match="no default gateway"):
        discover("Linux", recorded(tmp_path))
    with pytest.raises(DiscoveryError, match="not JSON"):
        parse_ip_json("{oops")
    with pytest.raises(DiscoveryError, match="not supported"):
        discover("Plan9", recorded(tmp_path))


def test_the_guard_refuses_everything_but_the_gateway() -> None:
    gw = "127.41.3.1"
    asked = ["gateway", gw, "127.41.3.2", "127.41.3.0/24", "10.0.0.1", "0:0:0:0:0:ffff:7f29:301"]
    assert refused_targets(asked, gw) == ["127.41.3.2", "127.41.3.0/24", "10.0.0.1",
                                          "0:0:0:0:0:ffff:7f29:301"]
    scope = gateway_scope(gw)
    assert len(scope) == 1 and gw in scope and "127.41.3.2" not in scope
    with pytest.raises(RefusedTarget):
        gateway_scope("127.41.3.0/30")
    # the OS's own next hop may be a global IPv6 address (one address, from the route table)
    assert len(gateway_scope("2001:db8:5::1")) == 1
    with pytest.raises(ScopeError, match="never scanned"):  # multicast stays refused
        gateway_scope("224.0.0.1")
