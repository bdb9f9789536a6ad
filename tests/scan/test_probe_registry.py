"""The probe registry is the one list of probes: the scheduler follows it, the docs list it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerwatch.scan.scanner import (
    PROBES,
    SILENT_PORTS,
    ProbeSpec,
    ScanOptions,
    port_probe,
    register,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scanning.md"


def test_every_registered_probe_is_documented() -> None:
    table = DOCS.read_text(encoding="utf-8").split("### The probe registry", 1)[1]
    documented = set(re.findall(r"^\| `([a-z0-9_-]+)` \|", table, flags=re.M))
    assert documented == set(PROBES), "docs/scanning.md's probe table and PROBES disagree"


@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_probe_is_well_formed(name: str) -> None:
    spec = PROBES[name]
    assert spec.kind in ("host", "port") and spec.summary
    if spec.kind == "port":
        assert spec.label(ScanOptions(), 1234).endswith("/1234")


def test_the_plan_picks_one_probe_per_port_in_registration_order() -> None:
    o = ScanOptions()
    assert port_probe(o, 443) is PROBES["https"]
    assert port_probe(o, 80) is PROBES["http"]
    assert port_probe(o, 11288) is PROBES["socks"]
    assert port_probe(o, 22) is PROBES["banner"]
    for port in SILENT_PORTS:
        assert port_probe(o, port) is None
    moved = ScanOptions(http_ports=(18080,), https_ports=(18443,))  # tests move probes around
    assert port_probe(moved, 18080) is PROBES["http"]
    assert port_probe(moved, 80) is PROBES["banner"]


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(ProbeSpec("http", "port", "again", run=PROBES["http"].run,
                           label=PROBES["http"].label))
    with pytest.raises(ValueError, match="kind"):
        register(ProbeSpec("new-probe", "sideways", "x", run=PROBES["http"].run,
                           label=PROBES["http"].label))
    assert "new-probe" not in PROBES
