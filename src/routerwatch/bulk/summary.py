"""The summary of a bulk run, built from mergeable partial summaries (one per partition):
counts per vendor/model/firmware and country, KEV exposure, indicator hits, top CVEs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from routerwatch.bulk.record import ScanRecord
from routerwatch.models import Assessment

_COUNTERS = (
    "vendors",
    "models",
    "firmware",
    "countries",
    "risk_levels",
    "affected_by_cve",
    "possible_by_cve",
    "kev_by_cve",
    "indicators",
    "campaigns",
    "sources",
)
SEP = " | "
_SCALARS = (
    "partitions", "hosts", "routers", "with_model", "with_firmware", "vulnerable",
    "kev_exposed", "compromised", "findings",
)  # fmt: skip


@dataclass
class Summary:
    """Counts that add up: ``a.merge(b)`` equals the summary of both partitions' hosts."""

    partitions: int = 0
    hosts: int = 0
    routers: int = 0  # hosts with an identified vendor
    with_model: int = 0
    with_firmware: int = 0
    vulnerable: int = 0  # routers with at least one affected CVE
    kev_exposed: int = 0  # routers with at least one affected CVE in KEV
    compromised: int = 0  # hosts with a compromise indicator
    findings: int = 0
    counters: dict[str, Counter[str]] = field(
        default_factory=lambda: {name: Counter() for name in _COUNTERS}
    )
    cves: dict[str, dict[str, Any]] = field(default_factory=dict)  # cve → cvss, severity, kev

    def add(self, record: ScanRecord, a: Assessment) -> None:
        ident = a.identity
        c = self.counters
        self.hosts += 1
        c["sources"][record.source] += 1
        c["countries"][record.country or "unknown"] += 1
        c["risk_levels"][a.risk_level] += 1
        if ident.vendor:
            self.routers += 1
            c["vendors"][ident.vendor] += 1
            if ident.model:
                self.with_model += 1
                c["models"][f"{ident.vendor}{SEP}{ident.model}"] += 1
                if ident.firmware:
                    self.with_firmware += 1
                    c["firmware"][f"{ident.vendor}{SEP}{ident.model}{SEP}{ident.firmware}"] += 1
        affected = [f for f in a.findings if f.status == "affected"]
        self.findings += len(a.findings)
        if affected:
            self.vulnerable += 1
        if any(f.kev for f in affected):
            self.kev_exposed += 1
        for f in a.findings:
            (c["affected_by_cve"] if f.status == "affected" else c["possible_by_cve"])[f.cve] += 1
            if f.kev and f.status == "affected":
                c["kev_by_cve"][f.cve] += 1
            if f.cve not in self.cves:
                self.cves[f.cve] = {"cvss": f.cvss, "severity": f.severity, "kev": f.kev}
        if any(i.kind == "compromise" for i in a.indicators):
            self.compromised += 1
        for i in a.indicators:
            c["indicators"][i.rule] += 1
            if i.campaign:
                c["campaigns"][i.campaign] += 1

    def merge(self, other: Summary) -> Summary:
        for name in _SCALARS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, counter in other.counters.items():
            self.counters.setdefault(name, Counter()).update(counter)
        for cve, info in other.cves.items():
            self.cves.setdefault(cve, info)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in _SCALARS},
            "counters": {k: dict(sorted(v.items())) for k, v in sorted(self.counters.items())},
            "cves": dict(sorted(self.cves.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        s = cls()
        for name in _SCALARS:
            setattr(s, name, int(d.get(name, 0)))
        for name, values in (d.get("counters") or {}).items():
            s.counters[name] = Counter({str(k): int(v) for k, v in values.items()})
        s.cves = dict(d.get("cves") or {})
        return s

    def top(self, name: str, n: int = 10) -> list[tuple[str, int]]:
        """The n largest counts of one counter, ties by name (deterministic)."""
        return sorted(self.counters.get(name, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))[
            :n
        ]

    def top_cves(self, n: int = 10) -> list[dict[str, Any]]:
        out = []
        for cve, count in self.top("affected_by_cve", n):
            info = self.cves.get(cve, {})
            out.append(
                {
                    "cve": cve,
                    "devices": count,
                    "kev": bool(info.get("kev")),
                    "cvss": info.get("cvss"),
                    "severity": info.get("severity"),
                }
            )
        return out
