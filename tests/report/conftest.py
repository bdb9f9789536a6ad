"""Realistic reports for the report-format tests, and the snapshot fixture.

Snapshots live in tests/report/snapshots/. To refresh them after an intended change:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/report
    git diff tests/report/snapshots     # read what changed before committing it
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from routerwatch.models import (
    Action,
    Assessment,
    DeviceIdentity,
    Evidence,
    Finding,
    Indicator,
    Report,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
GENERATED = "2026-11-24T09:30:00+00:00"

SCRIPT = '<script>alert("pwned")</script>'
ANSI = "\x1b[2J\x1b[31mRED\x1b[0m"
RLO = "\u202e"

# ------------------------------------------------------------------ 1: compromised TP-Link

QUAD7 = "CovertNetwork-1658 (Quad7)"
TPLINK = Assessment(
    address="192.168.1.1",
    identity=DeviceIdentity(
        vendor="TP-Link",
        model="TL-WR841N",
        hardware="8",
        firmware="3.16.9 Build 150310 Rel.56236n",
        confidence=0.93,
        evidence=(
            Evidence(
                source="http.realm:80",
                value='Basic realm="TP-LINK Wireless N Router WR841N"',
                rule="tplink-realm-model",
                fields=(("model", "TL-WR841N"),),
            ),
            Evidence(
                source="upnp.server",
                value="ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
                rule="tplink-upnp-server",
                fields=(("model", "TL-WR841N"), ("hardware", "8")),
            ),
        ),
    ),
    open_ports=(80, 1900, 7777, 11288),
    findings=(
        Finding(
            cve="CVE-2023-33538",
            status="affected",
            reason="TL-WR841N v8 is listed as vulnerable; no fixed firmware was released",
            kev=True,
            kev_date="2025-06-16",
            epss=0.41874,
            cvss=8.8,
            severity="HIGH",
            description=(
                "TP-Link TL-WR940N V2/V4, TL-WR841N V8/V10, and TL-WR740N V1/V2 was discovered "
                "to contain a command injection vulnerability via the component "
                "/userRpm/WlanNetworkRpm ."
            ),
            criteria=("cpe:2.3:o:tp-link:tl-wr841n_firmware:-:*:*:*:*:*:*:*",),
        ),
        Finding(
            cve="CVE-2023-50224",
            status="affected",
            reason="all TL-WR841N firmware up to 3.16.9 Build 201030 is affected",
            kev=True,
            kev_date="2025-09-03",
            epss=0.1745,
            cvss=6.5,
            severity="MEDIUM",
            description=(
                "TP-Link TL-WR841N dropbearpwd Improper Authentication Information Disclosure "
                "Vulnerability."
            ),
        ),
        Finding(
            cve="CVE-2025-9377",
            status="possible",
            source="cve5",
            reason="affects TL-WR841N/ND(MS) only; the region of this device is unknown",
            kev=True,
            kev_date="2025-09-03",
            epss=0.11788,
            cvss=7.2,
            severity="HIGH",
            description=(
                "TP-Link Archer C7(EU) and TL-WR841N/ND(MS) contain an OS command injection "
                "vulnerability that exists in the Parental Control page."
            ),
        ),
    ),
    indicators=(
        Indicator(
            rule="quad7-xlogin-7777",
            kind="compromise",
            title="Quad7 xlogin shell on TCP 7777",
            certainty="high",
            evidence=(Evidence(source="banner:7777", value="xlogin:"),),
            campaign=QUAD7,
            references=(
                "https://www.microsoft.com/en-us/security/blog/2024/10/31/"
                "chinese-threat-actor-storm-0940-uses-credentials-from-password-spray-attacks-"
                "from-a-covert-network/",
            ),
            port=7777,
        ),
        Indicator(
            rule="quad7-socks5-11288",
            kind="compromise",
            title="Open SOCKS5 proxy on TCP 11288",
            certainty="medium",
            evidence=(Evidence(source="socks5:11288", value="0500"),),
            campaign=QUAD7,
            port=11288,
        ),
    ),
    risk=98.0,
    risk_level="critical",
    actions=(
        Action(
            priority=1,
            kind="isolate",
            text="Disconnect this router from the internet and the LAN now: it shows signs of "
            "the Quad7 botnet.",
            clears=("quad7-xlogin-7777", "quad7-socks5-11288"),
        ),
        Action(
            priority=2,
            kind="replace",
            text="Replace the TL-WR841N v8: it is end of life and gets no fix for "
            "CVE-2023-33538 or CVE-2023-50224.",
            clears=("CVE-2023-33538", "CVE-2023-50224", "CVE-2025-9377"),
        ),
        Action(
            priority=3,
            kind="review",
            text="Change the admin and Wi-Fi passwords from a clean device.",
        ),
    ),
    eol="2019-12-31",
    policy=("vendor TP-Link is restricted by policy 'office': replace by 2026-12-31",),
    site="head office",
)

# ------------------------------------------------------------------ 2: clean NETGEAR

NETGEAR = Assessment(
    address="192.168.1.20",
    identity=DeviceIdentity(
        vendor="NETGEAR",
        model="R7000",
        firmware="V1.0.11.134_10.2.120",
        region="WW",
        confidence=0.97,
        evidence=(
            Evidence(
                source="http.currentsetting:80",
                value="Firmware=V1.0.11.134_10.2.120 RegionTag=R7000_WW Model=R7000",
                rule="netgear-currentsetting",
                fields=(("model", "R7000"), ("firmware", "V1.0.11.134_10.2.120")),
            ),
        ),
    ),
    open_ports=(80, 443),
    findings=(
        Finding(
            cve="CVE-2016-6277",
            status="not_affected",
            reason="firmware V1.0.11.134_10.2.120 is at or past the fixed version 1.0.7.6",
            kev=True,
            kev_date="2022-03-07",
            cvss=8.8,
            severity="HIGH",
            fixed_in="1.0.7.6",
        ),
        Finding(
            cve="CVE-2017-5521",
            status="not_affected",
            reason="firmware V1.0.11.134_10.2.120 is at or past the fixed version 1.0.9.26",
            cvss=8.1,
            severity="HIGH",
            fixed_in="1.0.9.26",
        ),
    ),
    risk=0.0,
    risk_level="none",
    actions=(
        Action(priority=5, kind="review", text="Keep automatic firmware updates switched on."),
    ),
)

# ------------------------------------------------------------------ 3: unknown device

UNKNOWN = Assessment(
    address="192.168.1.77",
    identity=DeviceIdentity(
        evidence=(Evidence(source="http.server:80", value="lighttpd/1.4.59"),),
    ),
    open_ports=(22, 80),
    risk=10.0,
    risk_level="low",
    actions=(
        Action(
            priority=4,
            kind="review",
            text="Find out what this device is: routerwatch could not identify it.",
        ),
    ),
    notes=("https:443 timed out after 2.0 s",),
)

# ------------------------------------------------------------------ 4: hostile strings

HOSTILE = Assessment(
    address="192.168.1.66",
    identity=DeviceIdentity(
        vendor="ASUS",
        model=f"RT-AX55{SCRIPT}",
        hardware=f"{RLO}A1",
        firmware='=HYPERLINK("http://evil.example/","update")',
        confidence=0.5,
        evidence=(
            Evidence(
                source="banner.ssh:53282",
                value=f"SSH-2.0-dropbear {ANSI}<img src=x onerror=alert(1)>",
                rule="asus-ssh",
            ),
            Evidence(source="upnp.modelName", value=f"RT-AX55{SCRIPT}"),
        ),
    ),
    open_ports=(22, 80, 53282),
    findings=(
        Finding(
            cve="CVE-2023-39780",
            status="affected",
            reason="+SUM(1,2) firmware =1+1 is before the fixed 3.0.0.4.386_51529",
            kev=True,
            kev_date="2025-06-02",
            epss=0.02,
            cvss=8.8,
            severity="HIGH",
            fixed_in="3.0.0.4.386_51529",
            description=f"@SUM(A1) command injection {SCRIPT}",
        ),
    ),
    indicators=(
        Indicator(
            rule="ayysshush-ssh-53282",
            kind="compromise",
            title="SSH backdoor on TCP 53282 (AyySSHush)",
            certainty="high",
            evidence=(Evidence(source="banner.ssh:53282", value=f"-2+3 {SCRIPT} {ANSI}"),),
            campaign="AyySSHush",
            references=("javascript:alert(1)", "https://www.greynoise.io/blog/ayysshush"),
            port=53282,
        ),
        Indicator(
            rule="telnet-open",
            kind="exposure",
            title="Telnet console reachable",
            certainty="low",
            port=23,
        ),
    ),
    risk=91.5,
    risk_level="critical",
    actions=(
        Action(
            priority=1,
            kind="isolate",
            text=f"Isolate the device {SCRIPT}",
            clears=("ayysshush-ssh-53282",),
        ),
        Action(
            priority=2,
            kind="update",
            text="Update the firmware to 3.0.0.4.386_51529 or later.",
            clears=("CVE-2023-39780",),
        ),
    ),
    site="=cmd|' /C calc'!A0",
    notes=(f"banner had {ANSI}",),
)

KB = {  # the shape of `KnowledgeBase.status()`
    "sources": {
        "nvd": {"records": 412, "newest": "2026-11-20T04:00:00.000", "last_sync": None},
        "cve5": {"records": 120, "newest": "2026-11-20T04:05:00.000", "last_sync": None},
        "kev": {"records": 1403, "catalog_version": "2025.08.25", "newest": "2026-11-20"},
        "epss": {"records": 1403, "newest": "2026-11-19"},
    },
    "age_days": 4,
}


def make_report(**changes: object) -> Report:
    base: dict[str, object] = {
        "assessments": (TPLINK, HOSTILE, UNKNOWN, NETGEAR),
        "generated": GENERATED,
        "tool_version": "0.1.0",
        "kind": "scan",
        "scope": ("192.168.1.0/24",),
        "kb": KB,
        "policy": "office",
        "elapsed": 12.345,
        "warnings": (
            "CISA KEV 2025.08.25 lacks CVE-2023-50224 and CVE-2025-9377; NVD lists them as "
            "exploited",
        ),
    }
    base.update(changes)
    return Report(**base)  # type: ignore[arg-type]


@pytest.fixture
def report() -> Report:
    """Four devices: compromised TP-Link, hostile ASUS, unknown device, clean NETGEAR."""
    return make_report()


@pytest.fixture
def empty_report() -> Report:
    return make_report(assessments=(), warnings=(), kb={}, policy=None, scope=())


@pytest.fixture
def check_report() -> Report:
    """A `check` run: devices given by identity, no addresses; plus an IPv6 host."""
    from routerwatch.models import replace

    return make_report(
        kind="check",
        scope=(),
        assessments=(
            replace(TPLINK, address=None, open_ports=()),
            replace(NETGEAR, address="fd00::1"),
        ),
    )


@pytest.fixture
def snapshot() -> Callable[[str, str], None]:
    """Compare text with tests/report/snapshots/NAME (UPDATE_SNAPSHOTS=1 rewrites it)."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            return
        assert path.exists(), (
            f"snapshot {path} is missing: run UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/report"
        )
        expected = path.read_bytes().decode("utf-8")
        assert text == expected, (
            f"output differs from snapshot {path.name}; if the change is intended, refresh it "
            "with UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/report and review the diff"
        )

    return check
