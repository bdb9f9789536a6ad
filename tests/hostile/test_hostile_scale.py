"""Issue 19 item 7: CycloneDX rendering and audit-config de-duplication are linear.

Before the fix: CycloneDX for 8,000 hosts took 96 s and 12,000 more than 300 s (the library's
dependency registration and bom-ref discrimination are linear searches); audit-config of
50,000 key lines more than 120 s (evidence de-duplicated with a list). The direct CycloneDX
writer must produce exactly what the library wrote (the library renderer is kept as the
oracle in cdx_oracle.py) and stay schema-valid.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import cdx_oracle

from routerwatch.checks.config_audit import audit_text
from routerwatch.models import Assessment, Finding, Report, replace
from routerwatch.report import from_dict
from routerwatch.report.cyclonedx import render_cyclonedx

SNAPSHOT = Path(__file__).resolve().parents[1] / "report" / "snapshots" / "report.json"
BASE: Report = from_dict(json.loads(SNAPSHOT.read_text()))


def _many(hosts: int) -> Report:
    first = BASE.assessments[0]
    return replace(BASE, assessments=tuple(
        replace(first, address=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}")
        for i in range(hosts)
    ))


TEXT = st.one_of(st.none(), st.text(max_size=12),
                 st.sampled_from(["R7000", "\u202eA1", "Archer C7", "x" * 40, "é😀"]))


@st.composite
def findings(draw: st.DrawFn, base: Finding) -> Finding:
    return replace(
        base,
        status=draw(st.sampled_from(["affected", "possible", "not_affected"])),
        cvss=draw(st.one_of(st.none(), st.sampled_from([0.0, 5.0, 7, 9.8, 10.0]))),
        fixed_in=draw(TEXT),
        kev=draw(st.booleans()),
        epss=draw(st.one_of(st.none(), st.floats(0, 1))),
        description=draw(st.one_of(st.just(""), st.text(max_size=20))),
        exploited_by=tuple(draw(st.lists(st.sampled_from(["Quad7", "Mirai", "Ballista"]),
                                         max_size=2, unique=True))),
    )


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    a = draw(st.sampled_from(BASE.assessments))
    ident = replace(
        a.identity, vendor=draw(TEXT), model=draw(TEXT), hardware=draw(TEXT),
        firmware=draw(TEXT),
    )
    pool = [f for b in BASE.assessments for f in b.findings]
    chosen = draw(st.lists(st.sampled_from(pool), max_size=5)) if pool else []
    found = tuple(draw(findings(f)) for f in chosen)
    return replace(a, identity=ident, findings=found,
                               address=draw(st.one_of(st.none(), st.sampled_from(
                                   ["192.168.1.1", "192.168.1.2", "fd00::1"]))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(assessments(), max_size=6), st.sampled_from(["scan", "check", "demo"]))
def test_direct_writer_matches_the_library_byte_for_byte(
    devices: list[Assessment], kind: str
) -> None:
    report = replace(BASE, assessments=tuple(devices), kind=kind)
    assert render_cyclonedx(report) == cdx_oracle.render_cyclonedx(report)


def test_big_report_is_schema_valid_and_linear() -> None:
    text = render_cyclonedx(_many(300))
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert not errors
    doc = json.loads(text)
    assert len(doc["components"]) == 300 and len(doc["dependencies"]) == 300
    assert len({v["bom-ref"] for v in doc["vulnerabilities"]}) == len(doc["vulnerabilities"])


def _seconds(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


@pytest.mark.slow
def test_cyclonedx_time_grows_linearly() -> None:
    small = min(_seconds(render_cyclonedx, _many(1000)) for _ in range(2))
    large = min(_seconds(render_cyclonedx, _many(8000)) for _ in range(2))
    # 8x the hosts: linear is ~8x; the old quadratic renderer took ~100x (96 s at 8,000)
    assert large < max(20 * small, 2.0), (small, large)
    assert large < 60


def _config(lines: int) -> str:
    out = []
    for i in range(lines):
        if i % 2:
            out.append(f"wan{i}_dns=198.51.100.{i % 250 + 1} 203.0.113.{i % 200 + 1}")
        else:
            out.append(f"sshd_authkeys{i}=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{i:020d} u{i}")
    return "\n".join(out) + "\n"


@pytest.mark.slow
def test_audit_config_evidence_deduplication_is_linear() -> None:
    small_text, large_text = _config(5000), _config(40000)
    small = _seconds(audit_text, small_text)
    started = time.perf_counter()
    audit = audit_text(large_text)
    large = time.perf_counter() - started
    # 8x the lines; the old de-duplication compared every evidence item with every other
    assert large < max(20 * small, 3.0), (small, large)
    evidence = sum(len(i.evidence) for i in audit.indicators)
    assert evidence >= 40000  # nothing lost: one item per DNS server and per key
    # duplicates still collapse: the same line twice gives the same evidence once
    twice = audit_text(_config(50) + _config(50))
    once = audit_text(_config(50))
    assert [len(i.evidence) for i in twice.indicators] == [len(i.evidence) for i in once.indicators]
