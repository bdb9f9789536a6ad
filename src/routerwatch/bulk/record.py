"""What a reader yields: one Observation plus what scan datasets say beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from routerwatch.models import Observation, replace

MAX_EXTRA_KEYS = 32
MAX_EXTRA_VALUE = 512
MAX_ERRORS_KEPT = 20


@dataclass(frozen=True)
class ScanRecord:
    """One host (or one port of a host) as a scan dataset saw it.

    ``observation`` is the same model the scanner produces; ``extra`` is the bag of fields the
    reader did not map (JSON text, each value cut to ``MAX_EXTRA_VALUE`` characters).
    """

    observation: Observation
    source: str  # reader name: zgrab2, masscan, nmap, shodan, censys
    country: str | None = None  # ISO 3166 alpha-2 when the dataset says
    asn: str | None = None
    seen: str | None = None  # the dataset's timestamp, as written
    extra: dict[str, str] = field(default_factory=dict)


def bag(
    items: dict[str, Any] | None, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, str]:
    """The unknown fields of ``items`` as bounded JSON texts (at most MAX_EXTRA_KEYS)."""
    out: dict[str, str] = {}
    if not items:
        return out
    for key, value in items.items():
        if key in skip or value is None or value == "" or value == [] or value == {}:
            continue
        if len(out) >= MAX_EXTRA_KEYS:
            break
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out[str(key)[:64]] = text[:MAX_EXTRA_VALUE]
    return out


def merge_records(records: list[ScanRecord]) -> ScanRecord:
    """Records of one address (one per port in masscan/Shodan data) → one record.

    Ports are united; HTTP exchanges, banners and certificates are kept once each; the first
    non-empty UPnP/SNMP/MAC, country, ASN and timestamp win; bags are united, first value wins.
    """
    if len(records) == 1:
        return records[0]
    first = records[0]
    obs = [r.observation for r in records]
    ports = sorted({p for o in obs for p in o.open_ports})
    http = tuple(dict.fromkeys(h for o in obs for h in o.http))
    banners = tuple(dict.fromkeys(b for o in obs for b in o.banners))
    tls = tuple(dict.fromkeys(t for o in obs for t in o.tls))
    errors = tuple(dict.fromkeys(e for o in obs for e in o.errors))
    merged = replace(
        first.observation,
        open_ports=tuple(ports),
        http=http,
        banners=banners,
        tls=tls,
        upnp=next((o.upnp for o in obs if o.upnp is not None), None),
        upnp_more=tuple(dict.fromkeys(u for o in obs for u in o.upnp_more)),
        snmp_sysdescr=next((o.snmp_sysdescr for o in obs if o.snmp_sysdescr), None),
        snmp_sysobjectid=next((o.snmp_sysobjectid for o in obs if o.snmp_sysobjectid), None),
        mac=next((o.mac for o in obs if o.mac), None),
        mac_vendor=next((o.mac_vendor for o in obs if o.mac_vendor), None),
        errors=errors,
    )
    extra: dict[str, str] = {}
    for r in records:
        for k, v in r.extra.items():
            if k not in extra and len(extra) < MAX_EXTRA_KEYS:
                extra[k] = v
    sources = sorted({r.source for r in records})
    return ScanRecord(
        observation=merged,
        source="+".join(sources),
        country=next((r.country for r in records if r.country), None),
        asn=next((r.asn for r in records if r.asn), None),
        seen=next((r.seen for r in records if r.seen), None),
        extra=extra,
    )


@dataclass
class ReadStats:
    """What reading found: lines, records and malformed lines (all counted, a few kept)."""

    lines: int = 0
    records: int = 0
    malformed: int = 0
    errors: list[str] = field(default_factory=list)

    def bad(self, where: str, reason: str) -> None:
        self.malformed += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"{where}: {reason}"[:300])

    def add(self, other: ReadStats) -> None:
        self.lines += other.lines
        self.records += other.records
        self.malformed += other.malformed
        room = MAX_ERRORS_KEPT - len(self.errors)
        if room > 0:
            self.errors.extend(other.errors[:room])

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "records": self.records,
            "malformed": self.malformed,
            "errors": list(self.errors),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReadStats:
        return cls(
            lines=int(d.get("lines", 0)),
            records=int(d.get("records", 0)),
            malformed=int(d.get("malformed", 0)),
            errors=list(d.get("errors", [])),
        )
