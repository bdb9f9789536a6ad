"""Issue 19 item 1: a hostile SNMP host must not rewrite the identity of the other hosts.

The lab's ``hostile-snmp-spoof`` device answers every GetRequest with garbage and a spray
of GetResponses for the request ids around the one it saw (to the requester's port and its
neighbours). Scanning the lab's SNMP devices with and without it must give the same answers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from routerwatch.lab import Lab, LabDevice
from routerwatch.models import Observation
from routerwatch.scan.guard import Guard
from routerwatch.scan.probes import snmp
from routerwatch.scan.scanner import ScanOptions, scan
from routerwatch.scan.scope import parse_scope

BASE = "127.1.1.0"
COMMUNITY = "routerwatch-lab"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(base=BASE) as running:
        yield running


def _snmp_hosts(lab: Lab) -> tuple[list[LabDevice], LabDevice, LabDevice]:
    devices = lab.devices()
    agents = [d for d in devices if d.snmp_community and not d.hostile]
    spoofer = next(d for d in devices if d.hostile == "snmp-spoof")
    tarpit = next(d for d in devices if d.hostile == "tarpit")
    return agents, spoofer, tarpit


def _scan(addresses: list[str]) -> dict[str, Observation]:
    options = ScanOptions(ports=(80,), upnp=False, snmp_community=COMMUNITY,
                          probe_timeout=1.5, host_timeout=8.0, arp_table=None)
    return {o.address: o for o in scan(parse_scope(addresses), options)}


def _identity(o: Observation | None) -> tuple[str | None, str | None]:
    return (o.snmp_sysdescr, o.snmp_sysobjectid) if o else (None, None)


def test_spoofing_host_changes_nobody_else(lab: Lab) -> None:
    agents, spoofer, tarpit = _snmp_hosts(lab)
    assert len(agents) >= 5
    clean = _scan([d.address for d in agents] + [tarpit.address])
    for d in agents:
        assert clean[d.address].snmp_sysdescr, d.profile_id
    # the DrayTek's sysObjectID names its IANA enterprise (7367)
    draytek = next(d for d in agents if d.profile_id.startswith("draytek"))
    assert clean[draytek.address].snmp_sysobjectid == "1.3.6.1.4.1.7367"
    for _ in range(3):  # the spray lands on a different request each time: try a few
        attacked = _scan([d.address for d in agents] + [tarpit.address, spoofer.address])
        for d in agents:
            assert _identity(attacked.get(d.address)) == _identity(clean[d.address]), d.profile_id
        # the silent tarpit gains no identity, the spoofer none of its own
        assert _identity(attacked.get(tarpit.address)) == (None, None)
        assert attacked[spoofer.address].snmp_sysdescr is None
        assert any("stray or malformed" in e for e in attacked[spoofer.address].errors)


def test_spoofer_answers_garbage_and_foreign_ids(lab: Lab) -> None:
    """The device really does what it claims: garbage first, then GetResponses for other ids."""
    _, spoofer, _ = _snmp_hosts(lab)

    async def exchange() -> tuple[list[bytes], int]:
        guard = Guard(parse_scope([spoofer.address]))
        request = snmp.build_request(COMMUNITY, snmp.V2C, 1000)
        return await guard.udp_conversation(spoofer.address, 161, request, 1.0,
                                            want=500, max_ignored=500)

    replies, _ = asyncio.run(exchange())
    assert len(replies) > 50
    assert all(snmp.read_reply(r, COMMUNITY, snmp.V2C, 1000) is None for r in replies)
    assert any(snmp.read_reply(r, COMMUNITY, snmp.V2C, 1001) for r in replies)
    with pytest.raises(snmp.SnmpError):
        snmp.parse_response(replies[0])


def test_cli_scan_next_to_spoofer_prints_no_traceback(lab: Lab) -> None:
    agents, spoofer, tarpit = _snmp_hosts(lab)
    targets = [d.address for d in agents] + [tarpit.address, spoofer.address]
    env = {**os.environ, "ROUTERWATCH_HOME": os.environ.get("ROUTERWATCH_HOME", "")}
    done = subprocess.run(
        [sys.executable, "-m", "routerwatch", "scan", *targets, "-p", "80", "--quiet",
         "--snmp-community", COMMUNITY, "--timeout", "1.5", "--format", "json",
         "--db", "sqlite://"],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode in (0, 1, 2, 3), done.stderr[-500:]
    assert "SPOOFED" not in done.stdout
