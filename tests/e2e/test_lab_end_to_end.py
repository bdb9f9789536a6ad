"""Scan the emulated lab end to end: scanner + fingerprint + matcher + checks on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.fingerprint import Fingerprinter
from routerwatch.identity.hardware import model_key, normalize_hardware
from routerwatch.lab import Lab
from routerwatch.models import Observation
from routerwatch.scan.scanner import ScanOptions, scan
from routerwatch.scan.scope import parse_scope

BASE = "127.0.60.0"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(base=BASE) as running:
        yield running


@pytest.fixture(scope="module")
def observations(lab: Lab) -> dict[str, Observation]:
    scope = parse_scope([d.address for d in lab.devices()])
    started = time.monotonic()
    result = scan(scope, ScanOptions(host_timeout=8.0))
    assert time.monotonic() - started < 30, "the scan must finish on time despite hostile hosts"
    return {o.address: o for o in result}


def _same(field: str, got: str | None, true: str | None) -> bool:
    if field == "model":
        return got is not None and true is not None and model_key(got) == model_key(true)
    if field == "hardware":
        return normalize_hardware(got) == normalize_hardware(true)
    if field == "vendor":
        return got == true
    return got == true


def test_every_router_identified(lab: Lab, observations: dict[str, Observation]) -> None:
    """Each field a device shows without login must be found; nothing may be invented."""
    fp = Fingerprinter()
    wrong = []
    checked = 0
    for device in lab.devices():
        true = device.identity
        if true is None:
            continue
        obs = observations.get(device.address)
        assert obs is not None, f"{device.address} ({device.profile_id}) not reported"
        got = fp.identify(obs)
        problems = []
        for field in ("vendor", "model", "hardware", "firmware"):
            g, t = getattr(got, field), getattr(true, field)
            if field in device.reveals:
                checked += 1
                if not _same(field, g, t):
                    problems.append(f"{field} {g!r} != {t!r}")
            elif g is not None and not _same(field, g, t):
                problems.append(f"{field} {g!r} invented (true {t!r})")
        if problems:
            wrong.append(f"{device.profile_id}: " + "; ".join(problems))
    assert checked >= 40
    assert not wrong, "\n".join(wrong)


def test_snmp_community_reveals_more(lab: Lab) -> None:
    """With the owner's community, SNMP sysDescr adds what the web UI hides."""
    snmp_devices = [d for d in lab.devices() if d.reveals_with_snmp and d.identity]
    assert snmp_devices
    scope = parse_scope([d.address for d in snmp_devices])
    community = snmp_devices[0].snmp_community
    result = {o.address: o for o in scan(scope, ScanOptions(snmp_community=community))}
    fp = Fingerprinter()
    found = 0
    for device in snmp_devices:
        got = fp.identify(result[device.address])
        assert device.identity is not None
        for field in device.reveals_with_snmp:
            if _same(field, getattr(got, field), getattr(device.identity, field)):
                found += 1
    assert found == sum(len(d.reveals_with_snmp) for d in snmp_devices)


def test_hostile_hosts_do_not_break_the_scan(
    lab: Lab, observations: dict[str, Observation]
) -> None:
    hostile = [d for d in lab.devices() if d.hostile]
    assert hostile, "the lab must include hostile devices"
    fp = Fingerprinter()
    for device in hostile:
        obs = observations.get(device.address)
        if obs is not None:
            fp.identify(obs)  # never raises on garbage


def test_scan_cli_json(lab: Lab, tmp_path: Path) -> None:
    addresses = [d.address for d in lab.devices()]
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    result = CliRunner().invoke(
        app,
        [
            "scan",
            f"{addresses[0]}-{addresses[-1]}",
            "--format",
            "json",
            "--db",
            db,
            "-q",
            "--host-timeout",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    hosts = {h["address"]: h for h in data["hosts"]}
    for key in ("address", "open_ports", "identity", "findings"):
        assert all(key in h for h in hosts.values())
    infected = [
        d
        for d in lab.devices()
        if d.profile_id and 7777 in d.ports and d.identity and d.identity.vendor == "TP-Link"
    ]
    assert infected, "the lab has a Quad7-infected TP-Link"
    rules = {i["rule"] for i in hosts[infected[0].address]["indicators"]}
    assert any("quad7" in r or "7777" in r for r in rules), rules
