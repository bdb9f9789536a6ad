"""Stable identities: device keys say what they were built from, and prefer what moves least."""

from __future__ import annotations

import re

import pytest

from routerwatch.models import DEVICE_KEY_BASES, DeviceIdentity, Observation, TlsCertificate
from routerwatch.models import UpnpDescription as Upnp
from routerwatch.pipeline import kb_snapshot
from routerwatch.schema import asset_key, device_key, finding_id, new_run_id, normalise_mac

CERT = TlsCertificate(443, "CN=a", "CN=a", key_sha256="AB" * 32)
FULL = Observation(
    address="192.0.2.1",
    mac="50-C7-BF-01-02-03",
    upnp=Upnp(udn="uuid:1234-5678", serial_number="SN998877", manufacturer="TP-Link",
              model_name="Archer C7"),
    snmp_engine_id="80001f8880e9630000d61ff449",
    tls=(CERT,),
)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({}, "mac:50:c7:bf:01:02:03"),
        ({"mac": None}, "udn:uuid:1234-5678"),
        ({"mac": None, "upnp": Upnp(serial_number="SN998877", manufacturer="TP-Link",
                                    model_name="Archer C7")}, "serial:tp-link/archer c7/SN998877"),
        ({"mac": None, "upnp": None}, "snmp-engine:80001f8880e9630000d61ff449"),
        ({"mac": None, "upnp": None, "snmp_engine_id": None}, "tls-key:" + "ab" * 32),
        ({"mac": None, "upnp": None, "snmp_engine_id": None, "tls": ()}, "address:192.0.2.1"),
        # placeholders identify nothing: all-zero MAC/UDN/engine id, serial "00000000"
        ({"mac": "00:00:00:00:00:00", "upnp": Upnp(udn="uuid:00000000-0000-0000-0000-000000000000",
                                                   serial_number="00000000"),
          "snmp_engine_id": "0000", "tls": ()}, "address:192.0.2.1"),
    ],
)
def test_device_key_prefers_what_identifies_the_box(changes: dict[str, object], key: str) -> None:
    from routerwatch.models import replace

    obs = replace(FULL, **changes)
    assert device_key(obs) == key
    # the key survives an address change unless the address is all there is
    moved = device_key(replace(obs, address="192.0.2.99"))
    assert (moved == key) is (not key.startswith("address:"))
    assert key.split(":", 1)[0] in DEVICE_KEY_BASES


def test_mac_normalisation() -> None:
    assert normalise_mac("aabb.ccdd.eef0") == "aa:bb:cc:dd:ee:f0"
    assert normalise_mac("AA:BB:CC:DD:EE:F0") == "aa:bb:cc:dd:ee:f0"
    assert normalise_mac("01:00:5e:00:00:01") is None  # multicast
    assert normalise_mac("ff:ff:ff:ff:ff:ff") is None
    assert normalise_mac("not a mac") is None


def test_asset_keys_and_finding_ids() -> None:
    ident = DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2", firmware="3.15")
    assert asset_key(ident, asset=" A-17 ") == "asset:A-17"
    assert asset_key(ident, mac="50:c7:bf:01:02:03", address="10.0.0.1") == "mac:50:c7:bf:01:02:03"
    assert asset_key(ident, address="10.0.0.1") == "address:10.0.0.1"
    same = asset_key(DeviceIdentity(vendor="tp-link ", model="ARCHER C7", hardware="2",
                                    firmware="3.15"))
    assert asset_key(ident) == same and re.fullmatch(r"description:[0-9a-f]{16}", same)
    assert finding_id("mac:50:c7:bf:01:02:03", "CVE-2023-1389") == (
        "mac:50:c7:bf:01:02:03#CVE-2023-1389"
    )


def test_run_ids_sort_by_time_and_differ() -> None:
    a, b = new_run_id(), new_run_id()
    assert a != b and re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", a)


def test_kb_snapshot_id_follows_the_content_not_the_clock() -> None:
    status = {"generated": "2026-12-01T00:00:00", "sources": {
        "nvd": {"records": 10, "newest": "2026-11-20", "last_sync": None,
                "last_import": "2026-12-01T00:00:00"},
        "kev": {"records": 5, "newest": "2026-11-19", "catalog_version": "2026.11.19"}}}
    snap = kb_snapshot(status)
    assert snap.records == 15 and snap.newest == {"kev": "2026-11-19", "nvd": "2026-11-20"}
    later = {**status, "generated": "2026-12-02T00:00:00"}
    later["sources"] = {**status["sources"], "nvd": {**status["sources"]["nvd"],
                                                     "last_import": "2026-12-02T00:00:00"}}
    assert kb_snapshot(later).id == snap.id
    grown = {"sources": {**status["sources"], "nvd": {"records": 11, "newest": "2026-11-20"}}}
    assert kb_snapshot(grown).id != snap.id


def test_keys_shared_by_two_hosts_of_a_scan_identify_neither() -> None:
    """Firmware that ships one TLS key on every unit (the lab does too) must not merge two
    routers into one device: each falls back to its next key, and every key is unique."""
    from routerwatch.models import replace
    from routerwatch.schema import device_keys

    bare = replace(FULL, mac=None, upnp=None, snmp_engine_id=None)
    twin = replace(bare, address="192.0.2.2")
    other = replace(bare, address="192.0.2.3", tls=(TlsCertificate(443, "CN=b", "CN=b",
                                                                   key_sha256="CD" * 32),))
    keys = device_keys([bare, twin, other])
    assert keys == ["address:192.0.2.1", "address:192.0.2.2", "tls-key:" + "cd" * 32]
    assert device_keys([FULL]) == [device_key(FULL)]
