r"""Typed models passed between the pipeline stages.

scan -> Observation -> fingerprint -> DeviceIdentity -> match -> Finding
                                   \-> checks -> Indicator -> assess -> Assessment -> report

Frozen dataclasses with no I/O and no imports from the stages, so every stage
can depend on this module and nothing else of its neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

# --------------------------------------------------------------------------- knowledge base


@dataclass(frozen=True)
class KevEntry:
    """One CISA Known Exploited Vulnerabilities entry."""

    cve_id: str
    date_added: str  # ISO date
    due_date: str | None = None
    ransomware: str | None = None  # "Known" / "Unknown"
    vendor: str | None = None
    product: str | None = None
    name: str | None = None
    required_action: str | None = None


@dataclass(frozen=True)
class CveRecord:
    """What the matcher needs of one CVE, as the knowledge base holds it.

    ``configurations`` is the NVD API 2.0 ``configurations`` list unchanged;
    ``cve5_affected`` is the CVE JSON 5 ``affected`` list of the CNA container
    followed by those of the ADP containers, unchanged. Both stay raw JSON so the
    matcher reads exactly what the source said.
    """

    cve_id: str
    published: str | None = None
    last_modified: str | None = None
    vuln_status: str | None = None  # NVD vulnStatus: Analyzed, Awaiting Analysis, ...
    description: str = ""
    cvss_score: float | None = None  # best available: v4.0 > v3.1 > v3.0 > v2
    cvss_version: str | None = None
    cvss_vector: str | None = None
    severity: str | None = None  # CRITICAL / HIGH / MEDIUM / LOW / NONE
    configurations: tuple[Any, ...] = ()
    cve5_affected: tuple[Any, ...] = ()
    kev: KevEntry | None = None
    nvd_kev_date: str | None = None  # NVD's own cisaExploitAdd, may disagree with KEV
    epss: float | None = None
    epss_percentile: float | None = None
    references: tuple[str, ...] = ()
    cwes: tuple[str, ...] = ()

    @property
    def in_kev(self) -> bool:
        """True when either CISA's catalog or NVD's cisaExploitAdd lists the CVE."""
        return self.kev is not None or self.nvd_kev_date is not None


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence behind an identity or an indicator."""

    source: str  # e.g. "http.server:80", "upnp.modelName", "banner:21", "user"
    value: str  # what was seen (truncated, printable)
    rule: str | None = None  # id of the fingerprint/indicator rule that read it
    fields: tuple[tuple[str, str], ...] = ()  # what the rule extracted


@dataclass(frozen=True)
class DeviceIdentity:
    """What a device is. Every field may be unknown (None)."""

    vendor: str | None = None
    model: str | None = None
    hardware: str | None = None  # hardware revision, normalised ("8", "2.20", "a1")
    firmware: str | None = None  # vendor's firmware string as seen
    region: str | None = None
    confidence: float = 0.0  # 0..1, how sure the identity is
    evidence: tuple[Evidence, ...] = ()
    os: str | None = None  # firmware project, not the hardware maker's (OpenWrt, DD-WRT)

    def label(self) -> str:
        """Human-readable one-liner, e.g. 'TP-Link Archer C7 v2 (fw 3.15.1)'."""
        parts = [p for p in (self.vendor, self.model) if p]
        text = " ".join(parts) if parts else "unknown device"
        if self.hardware:
            text += f" v{self.hardware}"
        if self.firmware:
            text += f" (fw {self.firmware})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "model": self.model,
            "hardware": self.hardware,
            "firmware": self.firmware,
            "region": self.region,
            "confidence": round(self.confidence, 3),
            "evidence": [
                {"source": e.source, "value": e.value, "rule": e.rule, "fields": dict(e.fields)}
                for e in self.evidence
            ],
            **({"os": self.os} if self.os else {}),
        }


# --------------------------------------------------------------------------- scan


@dataclass(frozen=True)
class Target:
    address: str  # one IP address (v4 or v6) as text


_REALM = re.compile(
    r"""(?:^|[\s,])realm\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|"([^"]*)$|([^\s,"']+))""",
    re.I,
)


def www_authenticate_realms(value: str | None) -> list[str]:
    """Every realm in a WWW-Authenticate value, quotes and escapes undone, empty ones dropped.

    ``Basic realm="NETGEAR R7000"`` → ``["NETGEAR R7000"]``; also single quotes, no quotes,
    ``\\"`` escapes, a missing closing quote, and several challenges in one header.
    """
    out: list[str] = []
    for m in _REALM.finditer(value or ""):
        dq, sq, open_dq, bare = m.groups()
        if dq is not None:
            realm = re.sub(r"\\(.)", r"\1", dq)
        else:
            realm = sq if sq is not None else open_dq if open_dq is not None else bare or ""
        realm = realm.strip()
        if realm:
            out.append(realm)
    return out


@dataclass(frozen=True)
class HttpObservation:
    """One HTTP(S) exchange with a device (body bounded by the probe)."""

    port: int
    scheme: Literal["http", "https"]
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...] = ()  # (lower-case name, value), in order
    body: str = ""  # decoded text, truncated
    title: str | None = None
    favicon_md5: str | None = None
    truncated: bool = False
    favicon_mmh3: int | None = None  # Shodan/nuclei favicon hash (mmh3 of base64 with newlines)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None


@dataclass(frozen=True)
class Banner:
    """A line-oriented service greeting (SSH, FTP, Telnet, or an unknown TCP service)."""

    port: int
    protocol: str  # "ssh", "ftp", "telnet", "tcp", "socks5"
    text: str  # printable text (invalid bytes escaped), truncated
    raw_hex: str = ""  # first bytes as hex, for binary protocols


@dataclass(frozen=True)
class TlsCertificate:
    port: int
    subject: str  # RFC 4514 string
    issuer: str
    not_after: str | None = None
    self_signed: bool = False


@dataclass(frozen=True)
class UpnpDescription:
    location: str | None = None
    server: str | None = None  # SSDP SERVER header
    manufacturer: str | None = None
    model_name: str | None = None
    model_number: str | None = None
    model_description: str | None = None
    friendly_name: str | None = None
    serial_number: str | None = None
    device_type: str | None = None
    udn: str | None = None
    firmware: str | None = None  # TR-064 systemVersion/Display, softwareVersion, firmwareVersion
    embedded: tuple[UpnpDescription, ...] = ()  # devices of the deviceList tree, depth first


@dataclass(frozen=True)
class Observation:
    """Everything the scanner saw of one host. Pure data: the fingerprinter's input."""

    address: str
    open_ports: tuple[int, ...] = ()
    http: tuple[HttpObservation, ...] = ()
    banners: tuple[Banner, ...] = ()
    tls: tuple[TlsCertificate, ...] = ()
    upnp: UpnpDescription | None = None
    snmp_sysdescr: str | None = None
    snmp_sysobjectid: str | None = None  # dotted OID (1.3.6.1.4.1.<IANA PEN>...) from SNMP
    upnp_more: tuple[UpnpDescription, ...] = ()  # further descriptions (TR-064 tr64desc.xml)
    mac: str | None = None
    mac_vendor: str | None = None
    errors: tuple[str, ...] = ()  # probe failures worth telling the user (timeouts, bad XML)
    elapsed: float = 0.0

    def banner(self, port: int) -> Banner | None:
        for b in self.banners:
            if b.port == port:
                return b
        return None


# --------------------------------------------------------------------------- match / checks


FindingStatus = Literal["affected", "possible", "not_affected"]


@dataclass(frozen=True)
class Finding:
    """One CVE judged against one device, with the reason that decided it."""

    cve: str
    status: FindingStatus
    reason: str
    source: Literal["nvd", "cve5", "kev"] = "nvd"  # kev: only CISA KEV names the device
    kev: bool = False
    kev_date: str | None = None
    epss: float | None = None
    cvss: float | None = None
    severity: str | None = None
    fixed_in: str | None = None
    description: str = ""
    criteria: tuple[str, ...] = ()  # CPE criteria that decided it
    exploited_by: tuple[str, ...] = ()  # campaigns known to exploit the CVE (assess/data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cve": self.cve,
            "status": self.status,
            "kev": self.kev,
            "kev_date": self.kev_date,
            "exploited_by": list(self.exploited_by),
            "epss": self.epss,
            "cvss": self.cvss,
            "severity": self.severity,
            "fixed_in": self.fixed_in,
            "source": self.source,
            "reason": self.reason,
            "criteria": list(self.criteria),
            "description": self.description,
        }


Certainty = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Indicator:
    """A compromise or exposure indicator that fired for one device."""

    rule: str  # rule id, e.g. "quad7-xlogin-7777"
    kind: Literal["compromise", "exposure"]
    title: str
    certainty: Certainty
    evidence: tuple[Evidence, ...] = ()
    campaign: str | None = None
    references: tuple[str, ...] = ()
    port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "title": self.title,
            "certainty": self.certainty,
            "campaign": self.campaign,
            "port": self.port,
            "references": list(self.references),
            "evidence": [{"source": e.source, "value": e.value} for e in self.evidence],
        }


# --------------------------------------------------------------------------- assess


@dataclass(frozen=True)
class Action:
    priority: int  # 1 = do first
    kind: str  # "isolate", "update", "disable", "replace", "review"
    text: str
    clears: tuple[str, ...] = ()  # CVE ids or indicator rules this action resolves


@dataclass(frozen=True)
class Assessment:
    """The verdict on one device: what it is, what is wrong, what to do."""

    address: str | None
    identity: DeviceIdentity
    open_ports: tuple[int, ...] = ()
    findings: tuple[Finding, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    risk: float = 0.0  # 0..100
    risk_level: str = "none"  # critical / high / medium / low / none
    actions: tuple[Action, ...] = ()
    eol: str | None = None  # end-of-life date when the model is EOL
    policy: tuple[str, ...] = ()  # policy violations, e.g. "vendor tp-link restricted: ..."
    site: str | None = None
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Report:
    """One run's result: what every report format renders and `report FILE` reads back."""

    assessments: tuple[Assessment, ...]
    generated: str  # ISO timestamp
    tool_version: str
    kind: Literal["scan", "check", "demo"] = "scan"
    scope: tuple[str, ...] = ()  # targets as the user gave them
    kb: dict[str, Any] = field(default_factory=dict)  # KB status summary (sources, dates)
    policy: str | None = None  # name of the vendor policy applied
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()
