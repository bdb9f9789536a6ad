"""Vendor policies (loading, errors, site summary) and the end-of-life data."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from routerwatch.assess import (
    PolicyError,
    assess,
    eol_for,
    load_policy,
    shipped_policies,
    site_summary,
)
from routerwatch.assess.eol import eol_candidates, eol_entries
from routerwatch.models import DeviceIdentity

TODAY = date(2026, 11, 24)


# --------------------------------------------------------------------------- policies


def test_shipped_examples_load_and_are_marked_as_examples() -> None:
    assert set(shipped_policies()) >= {"phase-out-tp-link", "us-restricted-example"}
    for name in shipped_policies():
        p = load_policy(name)
        # an illustration says so; dated regulations (us-fcc-..., us-ndaa-889, ...) cite sources
        assert p.example or all(r.sources for r in p.restricted), f"{name}: example or cited"
        assert p.restricted and all(r.reason and r.deadline for r in p.restricted)
    us = load_policy("us-restricted-example")
    assert {r.vendor for r in us.restricted} == {"Huawei", "ZTE"}
    assert all("fcc.gov" in (r.reference or "") for r in us.restricted)


def test_no_policy_is_applied_by_default() -> None:
    a = assess(DeviceIdentity(vendor="TP-Link", model="Archer AX21"), [], [], address="10.10.0.9")
    assert a.policy == () and a.site is None
    assert not any(x.kind == "replace" for x in a.actions)


def test_vendor_spelling_and_model_scope(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(
        "name: test\nrestricted:\n"
        "  - {vendor: tplink, reason: old models, deadline: 2026-01-01, models: [Archer C7]}\n"
        "  - {vendor: NETGEAR, reason: all of them, deadline: 2027-01-01}\n"
    )
    pol = load_policy(p)
    assert pol.restricted[0].vendor == "TP-Link" and not pol.example
    c7 = pol.violations(DeviceIdentity(vendor="TP-LINK", model="archer_c7"), TODAY)
    assert len(c7) == 1 and c7[0].overdue and "overdue since 2026-01-01" in c7[0].text()
    assert pol.violations(DeviceIdentity(vendor="TP-Link", model="Archer AX21"), TODAY) == []
    assert pol.violations(DeviceIdentity(vendor="TP-Link"), TODAY) == []  # model unknown
    ng = pol.violations(DeviceIdentity(vendor="Netgear", model="R7000"), TODAY)
    assert len(ng) == 1 and not ng[0].overdue


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nrestricted: [", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
        ("restricted: []\n", "name: missing"),
        ("name: x\n", "restricted: expected a list"),
        (
            "name: x\nrestricted:\n  - {vendor: ZTE, deadline: 2027-01-01}\n",
            r"restricted\[1\]\.reason",
        ),
        (
            "name: x\nrestricted:\n  - {vendor: ZTE, reason: r}\n",
            r"restricted\[1\]\.deadline: missing",
        ),
        (
            "name: x\nrestricted:\n  - {vendor: ZTE, reason: r, deadline: soon}\n",
            "'soon' is not a date",
        ),
        (
            "name: x\nrestricted:\n  - {vendor: ZTE, reason: r, deadline: 2027-13-01}\n",
            "not a valid date",
        ),
        (
            "name: x\nrestricted:\n"
            "  - {vendor: ZTE, reason: r, deadline: 2027-01-01, colour: red}\n",
            "unknown key",
        ),
        ("name: x\nrestricted: []\nsites: {not-a-net: HQ}\n", "not a network"),
        ("name: x\nrestricted: []\nsites: {10.0.0.0/8: ''}\n", "needs a site name"),
        ("name: x\nrestricted: []\nenforce: true\n", "unknown key"),
    ],
)
def test_policy_errors_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad-policy.yaml"
    p.write_text(text)
    with pytest.raises(PolicyError, match=message) as err:
        load_policy(p)
    assert str(err.value).startswith(f"policy {p}: ") and "\n" not in str(err.value)


def test_policy_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no such file or shipped example.*phase-out-tp-link"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyError, match="not a file"):
        load_policy(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(binary)


def test_site_summary_counts_and_lists_devices_to_replace() -> None:
    pol = load_policy("phase-out-tp-link")
    devices = [
        ("10.10.0.2", DeviceIdentity(vendor="TP-Link", model="TL-WR841N", hardware="8")),
        ("10.10.0.3", DeviceIdentity(vendor="ASUS", model="RT-AX88U")),
        ("10.20.5.1", DeviceIdentity(vendor="TP-Link", model="Archer AX21")),
        ("10.20.5.2", DeviceIdentity(vendor="D-Link", model="DIR-859")),
        ("192.0.2.10", DeviceIdentity(vendor="NETGEAR", model="R7000")),
    ]
    assessments = [assess(i, [], [], address=a, policy=pol, today=TODAY) for a, i in devices]
    assert [a.site for a in assessments] == [
        "Head office",
        "Head office",
        "Branch north",
        "Branch north",
        None,
    ]
    summary = site_summary(assessments, pol, today=date(2027, 1, 10))
    assert [(s.site, s.devices, s.replace_count) for s in summary] == [
        ("Head office", 2, 1),
        ("Branch north", 2, 2),
        ("unassigned", 1, 0),
    ]
    head = summary[0].to_replace[0]
    assert head.address == "10.10.0.2" and head.overdue and head.deadline == "2026-12-31"
    assert any("end-of-life" in r for r in head.reasons)
    north = summary[1]
    assert [r.address for r in north.to_replace] == [
        "10.20.5.2",
        "10.20.5.1",
    ]  # EOL only: no deadline
    assert north.to_replace[0].reasons == ("end-of-life (2025-06-25)",)
    data = json.loads(json.dumps([s.to_dict() for s in summary]))
    assert data[0]["replace"] == 1 and data[0]["overdue"] == 1


def test_site_summary_without_policy_uses_the_assessments() -> None:
    a = assess(DeviceIdentity(vendor="D-Link", model="DIR-820L"), [], [], address="192.0.2.1")
    (s,) = site_summary([a], None)
    assert (s.site, s.devices, s.replace_count) == ("unassigned", 1, 1)


def test_longest_prefix_wins(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(
        "name: s\nrestricted: []\nsites:\n  10.0.0.0/8: Corp\n  10.5.0.0/16: Lab\n"
        "  '2001:db8::/32': V6\n"
    )
    pol = load_policy(p)
    assert pol.site_for("10.5.1.1") == "Lab" and pol.site_for("10.6.1.1") == "Corp"
    assert pol.site_for("2001:db8::1") == "V6" and pol.site_for("192.0.2.1") is None
    assert pol.site_for("not-an-ip") is None


# --------------------------------------------------------------------------- end of life


@pytest.mark.parametrize(
    ("identity", "eol"),
    [
        (DeviceIdentity(vendor="TP-Link", model="TL-WR841N", hardware="8"), "2025-06-16"),
        (DeviceIdentity(vendor="TP-LINK", model="tl-wr841n", hardware="V10.0"), "2025-06-16"),
        (DeviceIdentity(vendor="TP-Link", model="TL-WR841N", hardware="11"), "2025-09-04"),
        (DeviceIdentity(vendor="TP-Link", model="TL-WR841N", hardware="14"), None),
        (DeviceIdentity(vendor="TP-Link", model="TL-WR841N"), None),  # revision unknown
        (DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2"), "2025-09-04"),
        (DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="5"), None),
        (DeviceIdentity(vendor="D-Link", model="DIR-859", hardware="A3"), "2025-06-25"),
        (DeviceIdentity(vendor="dlink", model="DIR-859"), "2025-06-25"),  # every revision
        (DeviceIdentity(vendor="Cisco", model="RV320"), "2023-04-05"),
        (DeviceIdentity(vendor="NETGEAR", model="R7000"), None),
        (DeviceIdentity(vendor="ASUS", model="DIR-859"), None),  # vendor must match too
        (DeviceIdentity(), None),
    ],
)
def test_eol_for(identity: DeviceIdentity, eol: str | None) -> None:
    entry = eol_for(identity)
    assert (entry.eol.isoformat() if entry else None) == eol


def test_unknown_revision_gives_a_note_not_a_verdict() -> None:
    ident = DeviceIdentity(vendor="TP-Link", model="TL-WR841N")
    assert eol_candidates(ident)
    a = assess(ident, [], [])
    assert a.eol is None
    assert any("hardware revision unknown" in n and "TL-WR841N" in n for n in a.notes)


def test_every_eol_entry_has_a_source_and_kev_dates_match_the_catalog(fixtures: Path) -> None:
    kev = json.loads((fixtures / "kev/known_exploited_vulnerabilities.json").read_text())
    added = {v["cveID"]: v["dateAdded"] for v in kev["vulnerabilities"]}
    checked = 0
    for e in eol_entries():
        assert e.source and e.url and e.url.startswith("https://"), e
        assert e.date_basis in ("announced", "stated")
        m = re.match(r"CISA KEV (CVE-\d{4}-\d+) \(added (\d{4}-\d\d-\d\d)\)", e.source)
        if m:
            assert added[m.group(1)] == m.group(2) == e.eol.isoformat(), e
            checked += 1
    assert checked >= 8
