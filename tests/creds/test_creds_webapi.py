"""The vendor web API collectors (TP-Link: tplinkrouterc6u, NETGEAR: pynetgear, ASUS:
asusrouter) against the credentialed lab on 127.54.5-7.x: the Archer AX21 answers the encrypted
LuCI login (RSA + AES), the R7000 the SOAP API, the RT-AX88U login.cgi/appGet.cgi, and every
server records every request it gets."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.creds.collect import collect
from routerwatch.creds.collectors.asus import AsusCollector
from routerwatch.creds.collectors.netgear import NetgearCollector
from routerwatch.creds.collectors.tplink import LOGIN_STEPS, TplinkCollector, call_key
from routerwatch.creds.model import Binding, Credential
from routerwatch.identity.credentialed import merge_credentialed, same
from routerwatch.lab.credlab import CredLab, CredLabDevice
from routerwatch.models import DeviceIdentity
from routerwatch.scan.scope import parse_scope

BASE = "127.54.5.0"
SCOPE = parse_scope(["127.54.5.0/24"])
WEB = ("http-tplink", "http-netgear", "http-asus")


@pytest.fixture(scope="module")
def lab() -> Iterator[CredLab]:
    with CredLab(base=BASE) as running:
        yield running


def _web(lab: CredLab) -> list[CredLabDevice]:
    return [d for d in lab.devices() if set(d.services) & set(WEB)]


def _cred(d: CredLabDevice, password: str | None = None) -> Credential:
    (c,) = [c for c in d.credentials() if c["kind"] in WEB]
    return Credential(name=d.profile_id, kind=c["kind"], binding=Binding(device=d.address),
                      user=c["user"], port=c.get("port"), password=password or c["password"])


def _hint(d: CredLabDevice) -> tuple[DeviceIdentity, tuple[str, ...]]:
    assert d.identity is not None
    return DeviceIdentity(vendor=d.identity.vendor, model=d.identity.model), ()


def _run(lab: CredLab, creds: list[Credential], devices: list[CredLabDevice]) -> dict[str, Any]:
    return collect(SCOPE, creds, {d.address: _hint(d) for d in devices}, timeout=5)


def test_each_web_api_reads_the_true_identity(lab: CredLab) -> None:
    devices = _web(lab)
    assert {k for d in devices for k in d.services} == set(WEB)
    lab.log.clear()
    got = _run(lab, [_cred(d) for d in devices], devices)
    for d in devices:
        r = got[d.address]
        assert not r.notes, r.notes
        (facts,) = r.facts
        merged, notes = merge_credentialed(DeviceIdentity(), r.facts, address=d.address)
        assert d.identity is not None and d.identity.firmware
        assert merged.firmware and same("firmware", merged.firmware, d.identity.firmware)
        assert merged.model and same("model", merged.model, d.identity.model or "")
        assert not notes
        assert facts.mac and facts.settings
    ax21 = got[next(d.address for d in devices if "http-tplink" in d.services)].facts[0]
    assert ax21.source == "read over the TP-Link web API as admin"
    assert ax21.hardware == "3.0" and same("hardware", ax21.hardware, "3")
    assert ("wan.dns.dynamic-servers", "198.51.100.1 198.51.100.2") in ax21.settings
    r7000 = got[next(d.address for d in devices if "http-netgear" in d.services)].facts[0]
    assert r7000.source == "read over the NETGEAR SOAP API as admin"
    assert r7000.serial == "4M31575A0B1C2"
    ax88u = got[next(d.address for d in devices if "http-asus" in d.services)].facts[0]
    assert ax88u.source == "read over the ASUS web API as admin"
    assert ax88u.firmware == "3.0.0.4.388_24243"  # extendno's "-g<commit>" dropped, as over SSH
    assert ("misc_http_x", "0") in ax88u.settings and ("wan0_dns", "198.51.100.1 198.51.100.2"
                                                       ) in ax88u.settings


def test_only_allowlisted_reads_reach_the_web_apis(lab: CredLab) -> None:
    devices = _web(lab)
    lab.log.clear()
    _run(lab, [_cred(d) for d in devices], devices)
    seen = lab.log.snapshot()
    tplink = [r for r in seen if r.protocol == "http-tplink"]
    netgear = [r for r in seen if r.protocol == "http-netgear"]
    # every request the TP-Link server received: the two key reads, one login, the reads,
    # and the logout that ends the session (the only operation=write, changing no setting)
    assert [r.what for r in tplink] == [
        *LOGIN_STEPS, "login?form=login", "admin/firmware?form=upgrade&operation=read",
        "admin/network?form=status_ipv4&operation=read",
        "admin/system?form=logout&operation=write",
    ]
    calls = {r.what for r in tplink if r.kind == "call"} - set(LOGIN_STEPS)
    assert calls <= TplinkCollector.ALLOWLIST
    assert [r.what for r in tplink if "write" in r.what] == [
        "admin/system?form=logout&operation=write"]
    assert [(r.kind, r.what) for r in netgear] == [
        ("login", "DeviceConfig:1 SOAPLogin"), ("call", "DeviceInfo:1 GetInfo"),
        ("call", "WANIPConnection:1 GetInfo"),
    ]
    assert {r.what for r in netgear} <= NetgearCollector.ALLOWLIST
    asus = [r for r in seen if r.protocol == "http-asus"]
    assert asus[0].what == "login.cgi" and asus[-1].what == "Logout.asp"
    assert {r.what for r in asus} <= AsusCollector.ALLOWLIST
    assert all(r.what.startswith("appGet.cgi nvram_get(") for r in asus[1:-1])
    assert all(r.ok for r in seen if r.kind == "login")
    assert len([r for r in seen if r.kind == "login"]) == 3


def test_a_write_call_is_refused_before_it_is_sent(
    lab: CredLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library method that writes (reboot) called in place of a read: refused in code, the
    device never sees it, the note says so."""
    import pynetgear
    from tplinkrouterc6u import TplinkRouter

    from routerwatch.creds.collectors import asus

    monkeypatch.setattr(TplinkRouter, "get_ipv4_status", lambda self: self.reboot())
    monkeypatch.setattr(pynetgear.Netgear, "get_wan_ip_con_info", lambda self: self.reboot())
    # asusrouter's own reboot is an applyapp.cgi action (rc_service=reboot)
    monkeypatch.setattr(asus, "HOOK", "hook=nvram_get(productid);nvram_set(misc_http_x)")
    devices = _web(lab)
    lab.log.clear()
    got = _run(lab, [_cred(d) for d in devices], devices)
    for d in devices:
        (note,) = got[d.address].notes
        assert ", refused): " in note and "is not an allowlisted read call; not sent" in note
    whats = [r.what for r in lab.log.snapshot()]
    assert not [w for w in whats if "reboot" in w.lower() or "nvram_set" in w], whats
    # the TP-Link and ASUS sessions are still closed after the refusal
    assert "admin/system?form=logout&operation=write" in whats and "Logout.asp" in whats
    assert call_key("admin/system?form=reboot", "operation=write") not in (
        TplinkCollector.ALLOWLIST)


def test_wrong_password_is_one_attempt_and_a_note(lab: CredLab) -> None:
    devices = _web(lab)
    ax21 = next(d for d in devices if "http-tplink" in d.services)
    r7000 = next(d for d in devices if "http-netgear" in d.services)
    lab.log.clear()
    # a wrong TP-Link password beside a right NETGEAR one: a note for one, a read for the other
    got = _run(lab, [_cred(ax21, "guess-1"), _cred(r7000)], [ax21, r7000])
    (note,) = got[ax21.address].notes
    assert note.startswith(f"credentialed read ({ax21.profile_id}, auth): TP-Link web API: "
                           "login as admin refused")
    assert got[r7000.address].facts and not got[r7000.address].notes
    logins = lab.log.logins(ax21.address)
    assert [r.ok for r in logins] == [False]
    assert not [r for r in lab.log.snapshot() if r.address == ax21.address
                and r.what.startswith("admin/")]  # fmt: skip
    lab.log.clear()
    got = _run(lab, [_cred(r7000, "guess-2")], [r7000])
    (note,) = got[r7000.address].notes
    assert note == (f"credentialed read ({r7000.profile_id}, auth): NETGEAR SOAP API: login as "
                    "admin refused (wrong password)")
    # pynetgear alone would re-try, then fall back to login v1: one SOAPLogin, nothing else
    assert [(r.kind, r.what, r.ok) for r in lab.log.snapshot()] == [
        ("login", "DeviceConfig:1 SOAPLogin", False)]
    ax88u = next(d for d in devices if "http-asus" in d.services)
    lab.log.clear()
    got = _run(lab, [_cred(ax88u, "guess-3")], [ax88u])
    assert got[ax88u.address].notes == [
        f"credentialed read ({ax88u.profile_id}, auth): ASUS web API: login as admin refused "
        "(wrong password)"]
    assert [(r.kind, r.what, r.ok) for r in lab.log.snapshot()] == [
        ("login", "login.cgi", False)]
    for secret in ("guess-1", "guess-2", "guess-3"):
        assert not any(secret in n for r in got.values() for n in r.notes)


def test_locked_and_unreachable_are_notes() -> None:
    over = {"tplink-archer-ax21-v3-old": {"http-tplink": {"lockout_after": 1}},
            "asus-rt-ax88u-current": {"http-asus": {"lockout_after": 1}},
            "netgear-r7000-old": {"http-netgear": {"port": 5001}}}
    with CredLab(base="127.54.6.0", overrides=over) as small:
        devices = _web(small)
        ax21 = next(d for d in devices if "http-tplink" in d.services)
        r7000 = next(d for d in devices if "http-netgear" in d.services)
        scope = parse_scope(["127.54.6.0/24"])
        hints = {d.address: _hint(d) for d in devices}
        ax88u = next(d for d in devices if "http-asus" in d.services)
        collect(scope, [_cred(ax21, "guess"), _cred(ax88u, "guess")], hints, timeout=5)
        closed = Credential(name="closed", kind="http-netgear", port=5000, user="admin",
                            binding=Binding(device=r7000.address), password="x")
        got = collect(scope, [_cred(ax21), _cred(ax88u), closed], hints, timeout=5)
        assert got[ax88u.address].notes == [
            f"credentialed read ({ax88u.profile_id}, locked): ASUS web API: logins are blocked "
            "for a while after failed attempts"]
        assert got[ax21.address].notes == [
            f"credentialed read ({ax21.profile_id}, locked): TP-Link web API: login blocked "
            "after too many failed attempts"]
        # port 5000 is the UPnP description's only (the SOAP API moved to 5001 here)
        (note,) = got[r7000.address].notes
        assert note.startswith("credentialed read (closed, ")
        assert "NETGEAR SOAP API" in note


def test_scan_reports_a_firmware_mismatch_end_to_end(tmp_path: Path) -> None:
    """The R7000's currentsetting.htm (read without login) claims one firmware, the SOAP API
    after login another: `routerwatch scan --creds` uses the read one and says so."""
    claimed, read = "V1.0.9.88_10.2.88", "V1.0.11.116_10.2.100"
    over = {"netgear-r7000-old": {"http-netgear": {"actions": {
        "DeviceInfo#GetInfo": {"ModelName": "R7000", "Firmwareversion": read,
                               "SerialNumber": "4M31575A0B1C2"},
    }}}}
    env = {"ROUTERWATCH_CREDS_BACKEND": "file", "ROUTERWATCH_CREDS_PASSPHRASE": "mm-pass",
           "ROUTERWATCH_HOME": os.environ["ROUTERWATCH_HOME"]}  # fmt: skip
    runner = CliRunner()
    with CredLab(base="127.54.7.0", overrides=over) as small:
        r7000 = next(d for d in small.devices() if "http-netgear" in d.services)
        c = _cred(r7000)
        r = runner.invoke(app, ["creds", "add", "r7000", "--kind", "http-netgear", "--device",
                                r7000.address, "--user", c.user, "--stdin", "--replace"],
                          input=f"{c.password}\n", env=env)  # fmt: skip
        assert r.exit_code == 0, r.output
        out = tmp_path / "scan.json"
        r = runner.invoke(app, ["scan", r7000.address, "--creds", "-q", "-f", "json", "-o",
                                str(out)], env=env)  # fmt: skip
        assert r.exit_code in (0, 1), r.output
        page = tmp_path / "scan.html"
        html = runner.invoke(app, ["scan", r7000.address, "--creds", "-q", "-f", "html", "-o",
                                   str(page)], env=env)  # fmt: skip
        assert html.exit_code in (0, 1), html.output
    (host,) = json.loads(out.read_text())["hosts"]
    assert host["identity"]["firmware"] == read
    expected = (f"firmware mismatch: the unauthenticated scan saw {claimed!r}, read over the "
                f"NETGEAR SOAP API as admin reads {read!r} (the credentialed value is used)")
    assert expected in host["notes"], host["notes"]
    # the HTML report (the format that lists notes for people) shows it too
    assert "firmware mismatch: the unauthenticated scan saw" in page.read_text()
    assert c.password and c.password not in out.read_text() + page.read_text() + html.output


def test_an_environment_proxy_never_gets_the_password(
    lab: CredLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP(S)_PROXY would send the login to the proxy: NETGEAR (our own post) ignores it,
    TP-Link (the library's post honours it) refuses before sending; aiohttp (ASUS) ignores
    the environment by default."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.54.99.1:9")  # nothing listens there
    devices = _web(lab)
    lab.log.clear()
    got = _run(lab, [_cred(d) for d in devices], devices)
    for d in devices:
        r = got[d.address]
        if "http-tplink" in d.services:
            assert r.notes == [f"credentialed read ({d.profile_id}, refused): TP-Link web API: "
                               "an HTTP proxy is set in the environment for this address "
                               "(NO_PROXY it); nothing sent"]
            assert not [q for q in lab.log.snapshot() if q.address == d.address]
        else:
            assert r.facts and not r.notes, (d.profile_id, r.notes)
