"""Packet-level proof that nothing outside the scope receives a packet.

The scanner runs inside a new network namespace (``unshare -n``) that holds only ``lo``;
a raw AF_PACKET socket there sees every frame. See netns_child.py for the phases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).parent / "netns_child.py"


def _unshare_reason() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def netns_run() -> dict[str, Any]:
    reason = _unshare_reason()
    if reason:
        pytest.skip(f"network-namespace test needs unshare -n (root): {reason}")
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(CHILD)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_namespace_has_only_loopback(netns_run: dict[str, Any]) -> None:
    names = [line.split(":")[1].strip() for line in netns_run["links"].splitlines()]
    assert names == ["lo"]


def test_refused_targets_emit_zero_packets(netns_run: dict[str, Any]) -> None:
    refused = netns_run["refused"]
    # 4 parse_scope refusals + 5 targets x 3 probe kinds + the multicast discovery
    assert len(refused["refusals"]) == 4 + 5 * 3 + 1
    assert refused["sent"] == 0
    assert refused["packets"] == []


def test_scan_packets_stay_inside_the_scope(netns_run: dict[str, Any]) -> None:
    scan = netns_run["scan"]
    packets = scan["packets"]
    assert packets, "the capture saw nothing: it would prove nothing"
    endpoints = {(src, dst) for src, dst, _proto, _iface in packets}
    allowed = {"127.0.0.1", "127.0.200.1"}
    stray = [p for p in packets if p[0] not in allowed or p[1] not in allowed]
    assert stray == [], f"packets outside the scope: {stray[:5]}"
    assert ("127.0.0.1", "127.0.200.1") in endpoints
    assert scan["outside_contacts"] == 0
    assert scan["inside_contacts"] > 0
    errors = "\n".join(scan["observations"][0]["errors"])
    assert "not followed (not this host)" in errors
    assert "not fetched (not this host)" in errors
