"""The credentialed step of `routerwatch demo`: the same lab routers scanned without and with
their owners' credentials (read-only reads, issue 17), to show what a known firmware changes.

Starts the credentialed lab (``routerwatch.lab.credlab``) on loopback, builds in-memory
credentials for three of its routers — a TP-Link Archer AX21 (TP-Link web API), a NETGEAR
R7000 (SOAP API) and a MikroTik hEX (RouterOS API) — and runs the one scan pipeline twice. No
credential is stored anywhere and none leaves loopback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routerwatch.models import Report
    from routerwatch.pipeline import Engines

DEMO_BASE = "127.0.31.0"
#: credlab profile -> what the demo line calls its login
DEMO_DEVICES = {
    "tplink-archer-ax21-v3-old": "TP-Link web API",
    "netgear-r7000-old": "NETGEAR SOAP API",
    "mikrotik-hex-6.48.6": "RouterOS API",
}


@dataclass(frozen=True)
class CredsDemo:
    devices: int
    firmware_before: int
    firmware_after: int
    affected_before: int
    affected_after: int
    kev_before: tuple[str, ...]
    kev_after: tuple[str, ...]
    logins: tuple[str, ...]

    def line(self) -> str:
        new_kev = [c for c in self.kev_after if c not in self.kev_before]
        return (
            f"credentialed reads: {self.devices} lab routers scanned without and with their "
            f"owners' credentials (read-only, one login each: {', '.join(self.logins)}): "
            f"firmware known {self.firmware_before}/{self.devices} -> "
            f"{self.firmware_after}/{self.devices}, affected findings {self.affected_before} "
            f"-> {self.affected_after}"
            + (f"; now affected and in CISA KEV: {', '.join(new_kev)}" if new_kev else "")
        )


def _counts(report: Report) -> tuple[int, int, tuple[str, ...]]:
    firmware = sum(1 for a in report.assessments if a.identity.firmware)
    affected = [f for a in report.assessments for f in a.findings if f.status == "affected"]
    kev = tuple(sorted({f.cve for f in affected if f.kev}))
    return firmware, len(affected), kev


def creds_step(engines: Engines, base: str = DEMO_BASE) -> CredsDemo:
    """Scan the demo's credentialed routers twice; OSError/ValueError when the lab can't
    start (an address in use)."""
    from routerwatch.creds.collect import CredentialOptions
    from routerwatch.creds.model import Binding, Credential
    from routerwatch.lab.credlab import CredLab
    from routerwatch.pipeline import run_scan
    from routerwatch.scan.scanner import ScanOptions
    from routerwatch.scan.scope import parse_scope

    with CredLab(base=base) as lab:
        chosen = [d for d in lab.devices() if d.profile_id in DEMO_DEVICES]
        creds = tuple(
            Credential(name=f"demo-{d.profile_id}-{c['kind']}", kind=c["kind"],
                       binding=Binding(device=d.address), user=c["user"], port=c["port"],
                       password=c.get("password"))
            for d in chosen for c in d.credentials() if c["kind"] != "snmpv3"
        )
        addresses = [d.address for d in chosen]
        scope = parse_scope(addresses)
        options = ScanOptions(host_timeout=8.0)
        before = run_scan(scope, engines, targets=addresses, options=options, kind="demo")
        after = run_scan(scope, engines, targets=addresses, options=options, kind="demo",
                         credentials=CredentialOptions(creds=creds))
    fw0, aff0, kev0 = _counts(before)
    fw1, aff1, kev1 = _counts(after)
    return CredsDemo(len(chosen), fw0, fw1, aff0, aff1, kev0, kev1,
                     tuple(DEMO_DEVICES[d.profile_id] for d in chosen))
