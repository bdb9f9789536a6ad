"""Credentialed reads against the credentialed lab on 127.54.3.x: real SSH, RouterOS API,
SNMPv3 and TR-064 servers that record every request they receive."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routerwatch.creds.collect import DeviceReads, collect
from routerwatch.creds.collectors import ssh as ssh_collector
from routerwatch.creds.collectors.interface import ForbiddenCall
from routerwatch.creds.collectors.routeros import RouterOsCollector, _guarded_protocol
from routerwatch.creds.collectors.snmpv3 import OIDS
from routerwatch.creds.collectors.tr064 import Tr064Collector
from routerwatch.creds.model import Binding, Credential
from routerwatch.fingerprint import Fingerprinter
from routerwatch.identity.credentialed import merge_credentialed, same
from routerwatch.lab.credlab import CredLab, CredLabDevice
from routerwatch.lab.credservers import Request
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard
from routerwatch.scan.scope import parse_scope

BASE = "127.54.3.0"
SCOPE = parse_scope(["127.54.3.0/24"])


@pytest.fixture(scope="module")
def lab() -> Iterator[CredLab]:
    with CredLab(base=BASE) as running:
        yield running


def _creds(d: CredLabDevice, **override: str) -> list[Credential]:
    out = []
    for i, c in enumerate(d.credentials()):
        kw = {k: c[k] for k in ("password", "auth_key", "priv_key", "auth_protocol",
                                "priv_protocol") if k in c}  # fmt: skip
        kw.update({k: v for k, v in override.items() if k in kw})
        out.append(Credential(name=f"{d.profile_id}-{i}", kind=c["kind"],
                              binding=Binding(device=d.address), user=c["user"],
                              port=c.get("port"), **kw))  # fmt: skip
    return out


def _hint(d: CredLabDevice) -> tuple[DeviceIdentity, tuple[str, ...]]:
    # what the unauthenticated scan would know: the vendor (OpenWrt shows none)
    vendor = d.identity.vendor if d.identity and not d.profile_id.startswith("openwrt") else None
    return DeviceIdentity(vendor=vendor), ()


def _by_profile(lab: CredLab, prefix: str) -> CredLabDevice:
    return next(d for d in lab.devices() if d.profile_id.startswith(prefix))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def reads(lab: CredLab) -> dict[str, Any]:
    """One credentialed run over every device, with every logger at DEBUG captured."""
    lab.log.clear()
    devices = [d for d in lab.devices() if d.services and not d.profile_id.startswith("ubiquiti")]
    creds = [c for d in devices for c in _creds(d)]
    capture = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        got = collect(SCOPE, creds, {d.address: _hint(d) for d in devices}, timeout=5)
    finally:
        root.removeHandler(capture)
        root.setLevel(old)
    return {"reads": got, "devices": devices, "creds": creds, "log": capture.lines,
            "requests": lab.log.snapshot()}


def test_every_protocol_reads_the_true_firmware(reads: dict[str, Any]) -> None:
    fp = Fingerprinter()
    protocols = set()
    for d in reads["devices"]:
        r: DeviceReads = reads["reads"][d.address]
        assert not r.notes, (d.profile_id, r.notes)
        assert len(r.facts) == 1
        protocols.add(r.facts[0].protocol)
        merged, _notes = merge_credentialed(DeviceIdentity(), r.facts, address=d.address,
                                           fingerprint=fp.identify)  # fmt: skip
        assert d.identity is not None and d.identity.firmware and merged.firmware
        assert same("firmware", merged.firmware, d.identity.firmware), d.profile_id
        assert merged.model and same("model", merged.model, d.identity.model or ""), d.profile_id
        assert merged.evidence[0].source.startswith("read over ")
    assert protocols == {"ssh", "routeros", "snmpv3", "tr064", "http-tplink", "http-netgear",
                         "http-asus"}
    ax55 = reads["reads"][next(d.address for d in reads["devices"]
                               if d.profile_id.startswith("asus-rt-ax55"))]  # fmt: skip
    assert ax55.facts[0].source == "read over SSH as admin"
    assert ("sshd_port", "53282") in ax55.facts[0].settings


def test_only_allowlisted_reads_reached_the_devices(reads: dict[str, Any]) -> None:
    calls = [r for r in reads["requests"] if r.kind == "call"]
    assert calls
    by_proto: dict[str, list[Request]] = {}
    for r in calls:
        by_proto.setdefault(r.protocol, []).append(r)
    assert {r.what for r in by_proto["ssh"]} <= ssh_collector.SshCollector.ALLOWLIST
    assert {r.what for r in by_proto["routeros"]} <= RouterOsCollector.ALLOWLIST - {"/login"}
    for r in by_proto["snmpv3"]:
        assert r.what.startswith("GET ") and set(r.what.split()[1:]) <= set(OIDS)
    posts = [r.what for r in by_proto["tr064"] if r.what.startswith("POST ")]
    assert posts and all(p.split("#")[-1] == "GetInfo" for p in posts), posts
    assert all(r.what.startswith(("GET ", "POST ")) for r in by_proto["tr064"])
    # one login per device and protocol (TR-064 authenticates each of its two GetInfo posts)
    for d in reads["devices"]:
        logins = [r for r in reads["requests"] if r.kind == "login" and r.address == d.address]
        expected = 2 if "tr064" in d.services else 0 if "snmpv3" in d.services else 1
        assert len(logins) == expected and all(r.ok for r in logins), d.profile_id


def test_no_secret_in_any_log_record(reads: dict[str, Any]) -> None:
    secrets = [s for c in reads["creds"] for s in c.secrets()]
    assert len(secrets) >= 10
    assert reads["log"], "DEBUG logging was on: the libraries did log"
    text = "\n".join(reads["log"]) + repr(reads["reads"])
    assert [s for s in secrets if s in text] == []


def test_a_call_outside_the_allowlist_is_refused_before_it_is_sent(
    lab: CredLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    mikrotik = _by_profile(lab, "mikrotik")
    cred = _creds(mikrotik)[0]
    lab.log.clear()

    async def try_reboot() -> None:
        from librouteros.api import AsyncApi
        from librouteros.connections import AsyncSocketTransport
        from librouteros.login import async_plain

        guard = Guard(SCOPE)
        reader, writer = await guard.open_stream(mikrotik.address, 8728, 5)
        collector = RouterOsCollector()
        proto = _guarded_protocol(collector)(
            transport=AsyncSocketTransport(reader=reader, writer=writer), encoding="UTF-8",
            timeout=5,
        )  # fmt: skip
        api = AsyncApi(protocol=proto)
        await async_plain(api, cred.user, cred.password or "")
        try:
            with pytest.raises(ForbiddenCall):
                [r async for r in api("/system/reboot")]
            with pytest.raises(ForbiddenCall):
                [r async for r in api.path("/ip/dns")("set", servers="203.0.113.53")]
        finally:
            writer.close()

    asyncio.run(try_reboot())
    seen = [r.what for r in lab.log.snapshot() if r.address == mikrotik.address]
    assert seen == ["/login"]  # logged in, and nothing else reached the device

    # an SSH command set with a write in it is refused before even connecting
    asus = _by_profile(lab, "asus-rt-ac68u")
    monkeypatch.setitem(ssh_collector.FAMILIES, "asuswrt",
                        (*ssh_collector.FAMILIES["asuswrt"], "nvram set sshd_port=22"))
    got = collect(SCOPE, _creds(asus), {asus.address: _hint(asus)}, timeout=5)
    assert got[asus.address].notes and "refused" in got[asus.address].notes[0]
    assert not [r for r in lab.log.snapshot() if r.address == asus.address]
    with pytest.raises(ForbiddenCall):
        Tr064Collector().allow("DeviceConfig1 Reboot")


def test_wrong_passwords_cost_one_attempt_each_and_the_scan_goes_on(lab: CredLab) -> None:
    wrong = [_by_profile(lab, p) for p in ("asus-rt-ax55", "mikrotik", "replay-fritz",
                                            "cisco-rv340", "zyxel")]
    good = _by_profile(lab, "openwrt")
    creds = [c for d in wrong for c in _creds(d, password="wrong-password-1",
                                                auth_key="wrong-auth-key-1")]
    creds += _creds(good)
    lab.log.clear()
    started = time.monotonic()
    got = collect(SCOPE, creds, {d.address: _hint(d) for d in [*wrong, good]}, timeout=3)
    assert time.monotonic() - started < 20
    requests = lab.log.snapshot()
    for d in wrong:
        notes = got[d.address].notes
        assert len(notes) == 1 and not got[d.address].facts, (d.profile_id, notes)
        assert "(" in notes[0] and ", auth)" in notes[0], notes[0]
        assert "wrong-password-1" not in notes[0]
        if "snmpv3" in d.services:
            packets = [r for r in requests if r.address == d.address and r.kind == "packet"]
            assert len(packets) == 2  # USM discovery + the one authenticated GET, no retry
        else:
            logins = [r for r in requests if r.address == d.address and r.kind == "login"]
            assert len(logins) == 1 and not logins[0].ok, (d.profile_id, logins)
    assert got[good.address].facts and got[good.address].facts[0].firmware == "23.05.3"


def test_timeouts_unsupported_models_and_the_scope_guard_are_notes(lab: CredLab) -> None:
    silent = socket.socket()
    silent.bind(("127.54.3.200", 2222))
    silent.listen(8)  # accepts (backlog) and never says a word: the SSH banner never comes
    try:
        tarpit = Credential(name="tarpit", kind="ssh", binding=Binding(device="127.54.3.200"),
                            user="root", password="pw-tarpit", port=2222)  # fmt: skip
        mikrotik = _by_profile(lab, "mikrotik")
        ssh_on_ros = Credential(name="ros-ssh", kind="ssh",
                                binding=Binding(device=mikrotik.address), user="admin",
                                password="pw-ros")  # fmt: skip
        outside = _by_profile(lab, "asus-rt-ax55")
        narrow = parse_scope(["127.54.3.200", mikrotik.address])
        lab.log.clear()
        started = time.monotonic()
        got = collect(narrow, [tarpit, ssh_on_ros, *_creds(outside)], {
            "127.54.3.200": (DeviceIdentity(), ()),
            mikrotik.address: (DeviceIdentity(vendor="MikroTik"), ()),
            outside.address: (DeviceIdentity(vendor="ASUS"), ()),
        }, timeout=1.0)  # fmt: skip
        assert time.monotonic() - started < 10
    finally:
        silent.close()
    assert "(tarpit, timeout): SSH: no answer within 1 s" in got["127.54.3.200"].notes[0]
    assert "(ros-ssh, unsupported)" in got[mikrotik.address].notes[0]
    assert "refused by the scope guard" in got[outside.address].notes[0]
    assert got[outside.address].attempts == []
    assert not [r for r in lab.log.snapshot()
                if r.address in (mikrotik.address, outside.address)]  # fmt: skip


def test_a_locked_account_is_reported_as_locked(lab: CredLab) -> None:
    erx = _by_profile(lab, "ubiquiti")  # locks after 3 failed logins
    devices = {erx.address: (DeviceIdentity(vendor="Ubiquiti"), ())}
    lab.log.clear()
    for _ in range(3):
        got = collect(SCOPE, _creds(erx, password="guess"), devices, timeout=3)
        assert ", auth)" in got[erx.address].notes[0]
    got = collect(SCOPE, _creds(erx), devices, timeout=3)  # the right password, too late
    assert ", locked): SSH: the account ubnt is locked" in got[erx.address].notes[0]
    assert len(lab.log.logins(erx.address)) == 4  # one per run


def test_ssh_private_key_login(lab: CredLab, tmp_path: Any) -> None:
    import asyncssh

    openwrt = _by_profile(lab, "openwrt")
    key = asyncssh.generate_private_key("ssh-ed25519")
    lab.authorize_key(openwrt.address, key.export_public_key("openssh").decode())
    cred = Credential(name="c7-key", kind="ssh", binding=Binding(device=openwrt.address),
                      user="root", key=key.export_private_key("openssh").decode())  # fmt: skip
    lab.log.clear()
    got = collect(SCOPE, [cred], {openwrt.address: _hint(openwrt)}, timeout=5)
    assert not got[openwrt.address].notes
    assert got[openwrt.address].facts[0].firmware == "23.05.3"
    methods = {r.what for r in lab.log.logins(openwrt.address)}
    assert methods == {"publickey"}  # the key only: no password was tried
    other = asyncssh.generate_private_key("ssh-ed25519")
    wrong = Credential(name="c7-other", kind="ssh", binding=Binding(device=openwrt.address),
                       user="root", key=other.export_private_key("openssh").decode())
    got = collect(SCOPE, [wrong], {openwrt.address: _hint(openwrt)}, timeout=5)
    assert "(c7-other, auth)" in got[openwrt.address].notes[0]


def test_the_lab_would_see_a_write(lab: CredLab) -> None:
    """The recorders are not blind: a write sent around the collectors (plain librouteros,
    pysnmp's SET) is recorded and refused, so "no write seen" above means none was sent."""
    import librouteros
    import pysnmp.hlapi.v3arch.asyncio as h
    from librouteros.exceptions import TrapError

    mikrotik = _by_profile(lab, "mikrotik")
    spec = mikrotik.services["routeros"]
    lab.log.clear()
    api = librouteros.connect(mikrotik.address, spec["user"], spec["password"], timeout=5)
    try:
        with pytest.raises(TrapError, match="no such command"):
            tuple(api("/system/reboot"))
    finally:
        api.close()
    rv340 = _by_profile(lab, "cisco-rv340")
    snmp = rv340.services["snmpv3"]

    async def set_name() -> Any:
        engine = h.SnmpEngine()
        try:
            return await h.set_cmd(
                engine,
                h.UsmUserData(snmp["user"], snmp["auth_key"], snmp["priv_key"],
                              authProtocol=h.usmHMACSHAAuthProtocol,
                              privProtocol=h.usmAesCfb128Protocol),
                await h.UdpTransportTarget.create((rv340.address, 161), timeout=3, retries=0),
                h.ContextData(),
                h.ObjectType(h.ObjectIdentity("1.3.6.1.2.1.1.5.0"), h.OctetString("pwned")),
            )  # fmt: skip
        finally:
            engine.close_dispatcher()

    indication, status, _index, _binds = asyncio.run(set_name())
    assert indication or status  # refused
    seen = [(r.address, r.what) for r in lab.log.snapshot() if r.kind == "call"]
    assert (mikrotik.address, "/system/reboot") in seen
    assert (rv340.address, "SET") in seen


def test_a_site_credential_goes_to_every_device_of_the_site_once(lab: CredLab) -> None:
    mikrotik, openwrt = _by_profile(lab, "mikrotik"), _by_profile(lab, "openwrt")
    spec = mikrotik.services["routeros"]
    site = Credential(name="site-ros", kind="routeros", binding=Binding(site="127.54.3.0/24"),
                      user=spec["user"], password=spec["password"])  # fmt: skip
    lab.log.clear()
    got = collect(SCOPE, [site], {mikrotik.address: (DeviceIdentity(vendor="MikroTik"), ()),
                                  openwrt.address: (DeviceIdentity(), ())}, timeout=3)
    assert got[mikrotik.address].facts[0].firmware == "6.48.6"
    assert "(site-ros, unreachable): RouterOS API: port 8728 refused" in (
        got[openwrt.address].notes[0])
    assert got[openwrt.address].attempts == [("site-ros", "routeros")]
    assert len(lab.log.logins(mikrotik.address)) == 1
