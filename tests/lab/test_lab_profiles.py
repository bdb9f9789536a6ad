"""The lab's device profiles (data files) and address allocation, without any network."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routerwatch.lab import ProfileError, lab_addresses, load_profiles
from routerwatch.lab.profiles import HOSTILE_KINDS, page_text, parse_profile

VENDORS = {
    "TP-Link", "NETGEAR", "ASUS", "D-Link", "Zyxel", "Linksys", "DrayTek", "Cisco", "MikroTik",
    "Ubiquiti",
}  # fmt: skip


def routers():
    return [p for p in load_profiles() if p.identity is not None]


def test_at_least_twelve_routers_across_every_vendor() -> None:
    found = routers()
    assert len(found) >= 12
    emulated = [p for p in found if not p.id.startswith("replay-")]
    assert {p.identity.vendor for p in emulated if p.identity} == VENDORS
    # Devices replaying captures of real devices (tests/captures) add vendors of their own.
    assert len(found) - len(emulated) >= 5


def test_identities_follow_the_naming_conventions() -> None:
    for p in routers():
        ident = p.identity
        assert ident is not None and ident.model and ident.vendor
        replay = p.id.startswith("replay-")
        assert ident.vendor in VENDORS or replay, p.id
        assert ident.vendor.lower() not in ident.model.lower(), f"{p.id}: vendor in model"
        assert not re.search(r"\s[vV]\d+$", ident.model), f"{p.id}: revision glued to model"
        if ident.hardware is not None:
            assert not re.match(r"(?i)(v|ver|rev)", ident.hardware), f"{p.id}: {ident.hardware}"
        # A replayed capture labels firmware only where the capture proves it.
        assert ident.firmware or replay, f"{p.id}: a lab router has a known firmware"
        if p.reveals_with_snmp:
            assert p.snmp is not None, f"{p.id}: reveals_with_snmp without an SNMP agent"
            assert set(p.reveals) <= set(p.reveals_with_snmp), p.id
        assert "vendor" in p.reveals, f"{p.id}: every router shows at least its vendor"


def test_tp_link_line_up_and_the_indicator_devices() -> None:
    by_id = {p.id: p for p in load_profiles()}
    tplink = [p for p in routers() if p.identity and p.identity.vendor == "TP-Link"]
    models = {p.identity.model for p in tplink if p.identity}
    assert {"TL-WR841N", "Archer AX21", "Deco M5", "ER605"} <= models
    quad7 = by_id["tplink-tl-wr841n-v8-quad7"]
    kinds = {s.port: s.kind for s in quad7.services}
    assert kinds[7777] == "xlogin" and kinds[11288] == "socks5"
    assert 53282 in by_id["asus-rt-ax55-ayysshush"].tcp_ports
    decoy = by_id["decoy-esp-wifi-repeater"]
    assert decoy.decoy and decoy.identity is None and 7777 in decoy.tcp_ports
    banner = next(s for s in decoy.services if s.port == 7777)
    assert not banner.greeting.startswith(b"xlogin")


def test_old_and_current_firmware_as_asked() -> None:
    firmware = {p.id: p.identity.firmware for p in routers() if p.identity}
    assert firmware["tplink-archer-ax21-v3-old"] == "1.1.2 Build 20220714 rel.46227"
    assert firmware["asus-rt-ax55-ayysshush"] == "3.0.0.4.386_51529"
    assert firmware["netgear-r7000-old"] == "V1.0.9.88_10.2.88"
    assert any(pid.endswith("-current") for pid in firmware)


def test_hostile_set_is_complete_and_carries_no_identity() -> None:
    hostile = [p for p in load_profiles() if p.hostile]
    assert {p.hostile for p in hostile} == HOSTILE_KINDS
    assert all(p.identity is None for p in hostile)
    assert all(p.hostile is None for p in load_profiles(include_hostile=False))
    order = [bool(p.hostile) for p in load_profiles()]
    assert order == sorted(order), "hostile profiles come last"


def test_every_body_file_is_shipped() -> None:
    for p in load_profiles():
        for site in p.sites.values():
            for route in (*site.routes, site.default):
                if route.body_file:
                    assert page_text(route.body_file), f"{p.id}: {route.body_file} empty"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"id": "x", "services": [{"port": 80, "kind": "http", "site": "web"}]},
            "needs an identity",
        ),
        (
            {"id": "x", "hostile": "tarpit", "services": [{"port": 0, "kind": "tarpit"}]},
            "not a TCP port",
        ),
        (
            {"id": "x", "hostile": "tarpit", "services": [{"port": 80, "kind": "telepathy"}]},
            "kind 'telepathy'",
        ),
        (
            {
                "id": "x",
                "hostile": "tarpit",
                "services": [{"port": 80, "kind": "http", "site": "a"}],
            },
            "site 'a' is not defined",
        ),
        (
            {
                "id": "x",
                "hostile": "tarpit",
                "services": [{"port": 443, "kind": "https", "site": "w"}],
                "sites": {"w": {}},
            },
            "needs the profile's tls subject",
        ),
        (
            {
                "id": "x",
                "identity": {"vendor": "ASUS", "model": "RT-AX55", "colour": "black"},
                "services": [{"port": 80, "kind": "silent"}],
            },
            "identity must map only",
        ),
        (
            {
                "id": "x",
                "hostile": "tarpit",
                "services": [{"port": 80, "kind": "http", "site": "w"}],
                "sites": {"w": {"routes": [{"path": "/", "body_file": "nope/missing.html"}]}},
            },
            "not found under lab/pages",
        ),
        ({"id": "Bad Id", "services": []}, "must be lower-case"),
    ],
)
def test_malformed_profiles_are_refused_with_a_clear_message(data: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)):
        parse_profile(data, "lab/devices/test.yaml")


def test_page_text_refuses_paths_outside_pages() -> None:
    with pytest.raises(ProfileError):
        page_text("../profiles.py")


@given(
    third=st.integers(0, 255),
    fourth=st.integers(0, 255),
    count=st.integers(1, 600),
)
def test_lab_addresses_stay_on_loopback_and_skip_0_and_255(
    third: int, fourth: int, count: int
) -> None:
    base = f"127.0.{third}.{fourth}"
    try:
        addresses = lab_addresses(base, count)
    except ValueError as exc:
        assert "leave 127.0.0.0/8" in str(exc)
        return
    assert len(addresses) == count == len(set(addresses))
    values = [int(ipaddress.IPv4Address(a)) for a in addresses]
    assert values == sorted(values) and values[0] > int(ipaddress.IPv4Address(base))
    for a in addresses:
        ip = ipaddress.IPv4Address(a)
        assert ip in ipaddress.ip_network("127.0.0.0/8")
        assert a.rsplit(".", 1)[1] not in ("0", "255")


@pytest.mark.parametrize("base", ["10.0.0.0", "192.168.1.0", "8.8.8.0", "::1", "not-an-ip"])
def test_lab_refuses_bases_outside_loopback(base: str) -> None:
    with pytest.raises(ValueError):
        lab_addresses(base, 3)


def test_254_hosts_fill_one_24_exactly() -> None:
    addresses = lab_addresses("127.0.20.0", 254)
    assert addresses[0] == "127.0.20.1" and addresses[-1] == "127.0.20.254"
    assert lab_addresses("127.0.20.250", 6)[-2:] == ["127.0.21.1", "127.0.21.2"]
