"""Collector parsers, allowlists and the identity merge (pure: no network)."""

from __future__ import annotations

import pytest

from routerwatch.creds.collectors.interface import CollectError, Facts, ForbiddenCall
from routerwatch.creds.collectors.routeros import RouterOsCollector
from routerwatch.creds.collectors.snmpv3 import Snmpv3Collector
from routerwatch.creds.collectors.ssh import (
    FAMILIES,
    SshCollector,
    family_for,
    parse_ddwrt,
    parse_draytek,
    parse_edgeos,
    parse_tomato,
    parse_zyxel,
)
from routerwatch.creds.collectors.tr064 import Tr064Collector
from routerwatch.fingerprint import Fingerprinter
from routerwatch.identity.credentialed import merge_credentialed
from routerwatch.models import DeviceIdentity, Evidence


def test_every_allowlist_holds_reads_only_and_refuses_the_rest() -> None:
    ssh = SshCollector()
    for cmds in FAMILIES.values():
        for c in cmds:
            assert ssh.allow(c) == c
            assert c.startswith(("cat ", "nvram get ", "show ", "sys version",
                                 "/opt/vyatta/bin/vyatta-op-cmd-wrapper show "))  # fmt: skip
    for bad in ("reboot", "nvram set sshd_port=22", "nvram commit", "uci set x=1",
                "uci show network", "cat /etc/shadow", "show version; reboot"):
        with pytest.raises(ForbiddenCall):
            ssh.allow(bad)
    ros = RouterOsCollector()
    assert all(w == "/login" or w.endswith("/print") for w in ros.ALLOWLIST)
    for bad in ("/system/reboot", "/ip/dns/set", "/user/add", "/system/resource/monitor"):
        with pytest.raises(ForbiddenCall):
            ros.allow(bad)
    assert all(a.split()[1].startswith(("Get", "X_AVM-DE_Get"))
               for a in Tr064Collector.ALLOWLIST)  # fmt: skip
    with pytest.raises(ForbiddenCall):
        Tr064Collector().allow("DeviceConfig1 Reboot")
    with pytest.raises(ForbiddenCall):
        Snmpv3Collector().allow("1.3.6.1.2.1.1.5.0")  # sysName: not on the list


def test_family_from_the_unauthenticated_identity() -> None:
    assert family_for(DeviceIdentity(vendor="ASUS")) == "asuswrt"
    assert family_for(DeviceIdentity(vendor="OpenWrt", os="OpenWrt")) == "openwrt"
    assert family_for(DeviceIdentity(vendor="Ubiquiti")) == "edgeos"
    assert family_for(DeviceIdentity(vendor="Linksys", os="DD-WRT")) == "ddwrt"
    assert family_for(DeviceIdentity(vendor="MikroTik")) is None  # RouterOS API instead
    assert family_for(DeviceIdentity()) == "openwrt"  # unknown: one harmless file read


def test_firmware_parsers() -> None:
    assert parse_ddwrt({"nvram get os_version": "54537\n",
                        "nvram get DD_BOARD": "Linksys WRT54GL\n"}) == {
        "os": "DD-WRT", "firmware": "r54537", "vendor": "Linksys", "model": "WRT54GL",
        "hardware": None, "mac": None}  # fmt: skip
    tomato = parse_tomato({"nvram get os_version": "2024.3 K26ARM7 USB AIO-64K\n",
                           "nvram get t_model_name": "Asus RT-AC68U\n"})  # fmt: skip
    assert (tomato["firmware"], tomato["vendor"], tomato["model"]) == (
        "2024.3", "ASUS", "RT-AC68U")
    ubnt = parse_edgeos({"/opt/vyatta/bin/vyatta-op-cmd-wrapper show version":
                         "Version:      v2.0.9-hotfix.7\nHW model:     EdgeRouter X 5-Port\n"
                         "HW S/N:       F09FC2A1B2C3\n"})  # fmt: skip
    assert (ubnt["model"], ubnt["firmware"], ubnt["serial"]) == (
        "EdgeRouter X", "v2.0.9-hotfix.7", "F09FC2A1B2C3")
    zyxel = parse_zyxel({"show version": "model : USG FLEX 100\n"
                         "firmware version: V5.21(ABUH.1) / 2021-11-19 10:41:25\n"})
    assert zyxel["firmware"] == "V5.21(ABUH.1)"
    dray = parse_draytek({"sys version": "Router Model: Vigor2927 Version: 4.4.3.1\n"})
    assert (dray["model"], dray["firmware"]) == ("Vigor2927", "4.4.3.1")
    with pytest.raises(CollectError) as err:
        parse_edgeos({})
    assert err.value.kind == "unsupported"


def _facts(**kw: object) -> Facts:
    base: dict[str, object] = {"protocol": "ssh", "source": "read over SSH as root"}
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_credentialed_facts_outrank_guesses_and_mismatches_are_reported() -> None:
    guessed = DeviceIdentity(vendor="ASUS", model="RT-AX55", firmware="3.0.0.4.386_40000",
                             confidence=0.7,
                             evidence=(Evidence(source="http.title:80", value="x"),))
    read = _facts(vendor="ASUS", model="RT-AX55", firmware="3.0.0.4.386_51529",
                  evidence=(("ssh nvram get firmver", "3.0.0.4"),))
    merged, notes = merge_credentialed(guessed, [read], address="192.0.2.1")
    assert merged.firmware == "3.0.0.4.386_51529"
    assert merged.confidence == 0.98
    assert merged.evidence[0].source == "read over SSH as root"
    assert merged.evidence[0].rule == "credentialed.ssh"
    assert merged.evidence[-1].source == "http.title:80"  # the guesses stay as evidence
    assert notes == ["firmware mismatch: the unauthenticated scan saw '3.0.0.4.386_40000', "
                     "read over SSH as root reads '3.0.0.4.386_51529' (the credentialed "
                     "value is used)"]
    same, none = merge_credentialed(merged, [read], address="192.0.2.1")
    assert same.firmware == "3.0.0.4.386_51529" and none == []


def test_other_vendor_read_drops_the_guessed_details() -> None:
    guessed = DeviceIdentity(vendor="Netgear", model="R7000", hardware="1", firmware="1.0")
    merged, notes = merge_credentialed(
        guessed, [_facts(vendor="ASUS", model="RT-AC68U", firmware="3.0.0.4.386_49703")],
        address="192.0.2.1")  # fmt: skip
    assert (merged.vendor, merged.model, merged.hardware) == ("ASUS", "RT-AC68U", None)
    assert any(n.startswith("vendor mismatch") for n in notes)


def test_snmp_sysdescr_read_goes_through_the_fingerprint_rules() -> None:
    read = _facts(protocol="snmpv3", source="read over SNMPv3 as mon",
                  sysdescr="DrayTek Corporation, Router Model: Vigor2960, Version: "
                           "1.5.1.4_Beta/1.5.1.4, Build Date/Time: 2024-02-23 05:29:35",
                  sysobjectid="1.3.6.1.4.1.7367")
    merged, _ = merge_credentialed(DeviceIdentity(vendor="DrayTek"), [read],
                                   address="192.0.2.1", fingerprint=Fingerprinter().identify)
    assert (merged.model, merged.firmware) == ("Vigor2960", "1.5.1.4_Beta/1.5.1.4")


def test_tplink_call_key_and_hardware_revision() -> None:
    from routerwatch.creds.collectors.tplink import (
        FIRMWARE,
        LOGOUT,
        TplinkCollector,
        call_key,
        hardware_revision,
    )

    # tplinkrouterc6u's JSON client moves the form fields into the query: the key is what the
    # router receives, so a write cannot hide in the body
    assert call_key("admin/firmware?form=upgrade", "operation=read") == FIRMWARE
    assert call_key("admin/system?form=logout", "operation=write") == LOGOUT
    assert call_key("admin/firmware?form=upgrade&operation=read", "operation=read") == FIRMWARE
    assert call_key("admin/system?form=reboot", "operation=write") not in TplinkCollector.ALLOWLIST
    assert call_key("admin/firmware?form=upgrade", "operation=write") not in (
        TplinkCollector.ALLOWLIST)
    assert hardware_revision("Archer AX21 v3.0") == "3.0"
    assert hardware_revision("Archer C6U v1.0") == "1.0"
    assert hardware_revision("V2") == "2"
    assert hardware_revision("Archer AX21") is None
