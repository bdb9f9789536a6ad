r"""Typed models passed between the pipeline stages.

scan -> Observation -> fingerprint -> DeviceIdentity -> match -> Finding
                                   \-> checks -> Indicator -> assess -> Assessment -> report

Frozen msgspec Structs with no I/O and no imports from the stages, so every stage can depend
on this module and nothing else of its neighbours. (Structs, not dataclasses: measured 4x faster
to encode/decode and untracked by the garbage collector; see bench/RESULTS.md, issue 10.) Copy
with a change through :func:`replace` (``msgspec.structs.replace``), not ``dataclasses.replace``.

These classes are also the wire format: :mod:`routerwatch.schema` encodes and decodes them
(driven by the annotations below; the ``Annotated`` bounds are checked on every decode). To
extend a model add a field **with a default** at the end; see docs/schema/README.md for the
upgrade rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field
from msgspec.structs import replace as replace  # re-exported: copy a model with changes


class Model(Struct, frozen=True, gc=False):
    """Base of every model: immutable, compared by value, not tracked by the GC (no cycles)."""

# --------------------------------------------------------------------------- constrained types

Port = Annotated[int, Meta(ge=0, le=65535)]
Count = Annotated[int, Meta(ge=0, le=2**53)]  # a count (JSON-safe integer)
Priority = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
Fraction = Annotated[float, Meta(ge=0.0, le=1.0)]  # confidence, EPSS
Cvss = Annotated[float, Meta(ge=0.0, le=10.0)]
RiskScore = Annotated[float, Meta(ge=0.0, le=100.0)]
Seconds = Annotated[float, Meta(ge=0.0)]
HttpStatus = Annotated[int, Meta(ge=0, le=999)]
#: ISO 8601 timestamp with a time zone, e.g. "2026-12-03T18:00:00+00:00" or "...Z".
Timestamp = Annotated[
    str,
    Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$"),
]
IsoDate = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
#: A stable device key, "<basis>:<value>": what identifies the box, and what it was built from
#: (see routerwatch.schema.ids.device_key).
DEVICE_KEY_BASES = (
    "mac", "udn", "serial", "snmp-engine", "tls-key", "asset", "address", "description"
)
DeviceKey = Annotated[
    str, Meta(pattern=r"^(mac|udn|serial|snmp-engine|tls-key|asset|address|description):\S")
]
RiskLevel = Literal["critical", "high", "medium", "low", "none"]
ReportKind = Literal["scan", "check", "demo", "inventory", "audit-config", "agent"]

# --------------------------------------------------------------------------- knowledge base


class KevEntry(Model, frozen=True):
    """One CISA Known Exploited Vulnerabilities entry."""

    cve_id: str
    date_added: str  # ISO date
    due_date: str | None = None
    ransomware: str | None = None  # "Known" / "Unknown"
    vendor: str | None = None
    product: str | None = None
    name: str | None = None
    required_action: str | None = None


class CveRecord(Model, frozen=True):
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


class Evidence(Model, frozen=True):
    """One piece of evidence behind an identity or an indicator."""

    source: str  # e.g. "http.server:80", "upnp.modelName", "banner:21", "user"
    value: str  # what was seen (truncated, printable)
    rule: str | None = None  # id of the fingerprint/indicator rule that read it
    fields: tuple[tuple[str, str], ...] = ()  # what the rule extracted


class DeviceIdentity(Model, frozen=True):
    """What a device is. Every field may be unknown (None)."""

    vendor: str | None = None
    model: str | None = None
    hardware: str | None = None  # hardware revision, normalised ("8", "2.20", "a1")
    firmware: str | None = None  # vendor's firmware string as seen
    region: str | None = None
    confidence: Fraction = 0.0  # 0..1, how sure the identity is
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



# --------------------------------------------------------------------------- scan


class Target(Model, frozen=True):
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


class HttpObservation(Model, frozen=True):
    """One HTTP(S) exchange with a device (body bounded by the probe)."""

    port: Port
    scheme: Literal["http", "https"]
    method: str
    path: str
    status: HttpStatus
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


class Banner(Model, frozen=True):
    """A line-oriented service greeting (SSH, FTP, Telnet, or an unknown TCP service)."""

    port: Port
    protocol: str  # "ssh", "ftp", "telnet", "tcp", "socks5"
    text: str  # printable text (invalid bytes escaped), truncated
    raw_hex: str = ""  # first bytes as hex, for binary protocols


class TlsCertificate(Model, frozen=True):
    port: Port
    subject: str  # RFC 4514 string
    issuer: str
    not_after: str | None = None
    self_signed: bool = False
    key_sha256: str | None = None  # SHA-256 of the certificate's SubjectPublicKeyInfo, hex


class UpnpDescription(Model, frozen=True):
    location: str | None = None
    server: str | None = None  # SSDP SERVER header
    manufacturer: str | None = None
    model_name: str | None = None
    model_number: str | None = None
    model_description: str | None = None
    friendly_name: str | None = None
    serial_number: str | None = None
    device_type: str | None = None
    udn: str | None = None  # unique device name, "uuid:..."
    firmware: str | None = None  # TR-064 systemVersion/Display, softwareVersion, firmwareVersion
    embedded: tuple[UpnpDescription, ...] = ()  # devices of the deviceList tree, depth first


class Observation(Model, frozen=True):
    """Everything the scanner saw of one host. Pure data: the fingerprinter's input."""

    address: str
    open_ports: tuple[Port, ...] = ()
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
    elapsed: Seconds = 0.0
    observed_at: Timestamp | None = None  # when the scan of this host finished
    snmp_engine_id: str | None = None  # SNMP snmpEngineID, hex

    def banner(self, port: int) -> Banner | None:
        for b in self.banners:
            if b.port == port:
                return b
        return None


# --------------------------------------------------------------------------- match / checks


FindingStatus = Literal["affected", "possible", "not_affected"]


class Finding(Model, frozen=True):
    """One CVE judged against one device, with the reason that decided it."""

    cve: str
    status: FindingStatus
    reason: str
    source: Literal["nvd", "cve5", "kev"] = "nvd"  # kev: only CISA KEV names the device
    kev: bool = False
    kev_date: str | None = None
    epss: Fraction | None = None
    cvss: Cvss | None = None
    severity: str | None = None
    fixed_in: str | None = None
    description: str = ""
    criteria: tuple[str, ...] = ()  # CPE criteria that decided it
    exploited_by: tuple[str, ...] = ()  # campaigns known to exploit the CVE (assess/data)
    # why the device and the record were joined: the device's model key and the KB product
    # name (NVD CPE, CVE 5 product, KEV product) that resolved to it, through which rule
    joined: str = ""



Certainty = Literal["high", "medium", "low"]


class Remediation(Model, frozen=True):
    """What to do about an indicator: an action kind ("isolate", "disable", ...) and text."""

    kind: str
    text: str


class Indicator(Model, frozen=True):
    """A compromise or exposure indicator that fired for one device."""

    rule: str  # rule id, e.g. "quad7-xlogin-7777"
    kind: Literal["compromise", "exposure"]
    title: str
    certainty: Certainty
    evidence: tuple[Evidence, ...] = ()
    campaign: str | None = None
    references: tuple[str, ...] = ()
    port: Port | None = None
    # What the assessment needs travels with the indicator, so a user's rule set assesses
    # exactly like a shipped one: the exposure weight added to the risk score, and the fix.
    # None: not given (the shipped rule of that id decides, else the default weight).
    risk_weight: RiskScore | None = None
    remediation: Remediation | None = None


# --------------------------------------------------------------------------- assess


class Action(Model, frozen=True):
    priority: Priority  # 1 = do first
    kind: str  # "isolate", "update", "disable", "replace", "review"
    text: str
    clears: tuple[str, ...] = ()  # CVE ids or indicator rules this action resolves


ReadinessStatus = Literal["affected", "excepted", "exception-expired", "unknown"]


class ReadinessItem(Model, frozen=True):
    """One restriction (ban, covered list, phase-out) that catches or may catch a device."""

    policy: str  # policy name, e.g. "us-fcc-covered-list-2026"
    restriction: str  # the restriction's id within the policy
    status: ReadinessStatus
    reason: str
    scope: str = ""  # whom it binds
    effective: IsoDate | None = None  # the date it took effect
    deadline: IsoDate | None = None  # the date to act by
    updates_until: IsoDate | None = None  # no more firmware updates after this date
    detail: str = ""  # what decided it (inventory attribute, or what is missing)
    exception: str = ""  # the exception that covers it, or expired
    source: str = ""  # citation


class ReplacementPlan(Model, frozen=True):
    """What replaces a device, at what cost, by when (from the owner's plan file)."""

    target_model: str | None = None
    cost: Annotated[float, Meta(ge=0.0)] | None = None
    currency: str = ""
    deadline: IsoDate | None = None
    owner: str | None = None


CoverageLevel = Literal["yes", "partly", "no"]


class DeviceCoverage(Model, frozen=True):
    """Whether the knowledge base covers a device, so "no known CVEs" means something.

    ``yes``: NVD or CVE 5 records name the model; ``partly``: only KEV names it (a family or
    series word), or the KB knows the vendor but not this model; ``no``: not even the vendor.
    """

    level: CoverageLevel
    key: str | None = None  # the normalised model key(s) the KB was searched under
    sources: tuple[str, ...] = ()  # which sources name the model: "nvd", "cve5", "kev"
    note: str = ""


class Assessment(Model, frozen=True):
    """The verdict on one device: what it is, what is wrong, what to do."""

    address: str | None
    identity: DeviceIdentity
    open_ports: tuple[Port, ...] = ()
    findings: tuple[Finding, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    risk: RiskScore = 0.0  # 0..100
    risk_level: RiskLevel = "none"
    actions: tuple[Action, ...] = ()
    eol: str | None = None  # end-of-life date when the model is EOL
    policy: tuple[str, ...] = ()  # policy violations, e.g. "vendor tp-link restricted: ..."
    site: str | None = None
    notes: tuple[str, ...] = ()
    key: DeviceKey | None = None  # stable device key (routerwatch.schema.ids.device_key)
    observed_at: Timestamp | None = None  # when the device was seen (scans)
    extra: tuple[tuple[str, str], ...] = ()  # inventory columns (ban readiness reads some)
    readiness: tuple[ReadinessItem, ...] = ()  # ban readiness (routerwatch.assess.readiness)
    replacement: ReplacementPlan | None = None
    coverage: DeviceCoverage | None = None  # does the KB cover this device (match.coverage)
    line: Count | None = None  # the asset list's row (line) it was read from (check --inventory)


# --------------------------------------------------------------------------- report


class KbSnapshot(Model, frozen=True):
    """Which knowledge base a report was made with: a content hash and the newest dates.

    ``id`` is ``"kb-" + the first 16 hex digits of a SHA-256`` over every record's id, last
    modification, KEV date and EPSS score; two runs with the same id saw the same data.
    """

    id: str
    records: Count = 0
    newest: dict[str, str | None] = field(default_factory=dict)  # source -> newest date


class ScanRun(Model, frozen=True):
    """The header of one run: what a batch of observations (an agent's upload) or a report
    came from. ``id`` is unique per run (``routerwatch.schema.ids.new_run_id``)."""

    id: str
    kind: ReportKind = "scan"
    started: Timestamp | None = None
    tool_version: str = ""
    scope: tuple[str, ...] = ()
    site: str | None = None
    agent: str | None = None  # the remote agent's name, for uploads


class Report(Model, frozen=True):
    """One run's result: what every report format renders and `report FILE` reads back."""

    assessments: tuple[Assessment, ...]
    generated: str  # ISO timestamp
    tool_version: str
    kind: ReportKind = "scan"
    scope: tuple[str, ...] = ()  # targets as the user gave them
    kb: dict[str, Any] = field(default_factory=dict)  # KB status summary (sources, dates)
    policy: str | None = None  # name of the vendor policy applied
    elapsed: Seconds = 0.0
    warnings: tuple[str, ...] = ()
    run_id: str | None = None  # ScanRun.id of the run that made it
    kb_snapshot: KbSnapshot | None = None
    today: IsoDate | None = None  # the date the assessment was made for (EOL, policy)
    partial: bool = False  # interrupted (Ctrl-C, SIGTERM): only the hosts that finished
