"""The pipeline API: the only way in for every front end (CLI, demo, later the server/workers).

scan → fingerprint → match + checks → assess → Report. Each function takes its inputs
explicitly (the loaded Engines, the vendor policy, the ``today`` the assessment is for) and
returns models of routerwatch.models; none prints, prompts or reads settings::

    engines = load_engines(kb)                          # matcher + fingerprinter, once
    run_scan(scope, engines, options=..., policy=..., today=...)       -> Report
    check_device(engines, identity, today=...)                         -> CheckResult
    check_inventory(engines, rows, policy=..., today=...)              -> Report
    assess_observations(engines, observations, ...)                    -> [Assessment]
    audit_config(path, dns_allow=..., ...)                             -> AuditResult
    make_report(assessments, kind=..., engines=...)                    -> Report
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routerwatch import __version__
from routerwatch.models import (
    Assessment,
    DeviceCoverage,
    DeviceIdentity,
    Finding,
    Indicator,
    KbSnapshot,
    Observation,
    Report,
    ReportKind,
    replace,
)
from routerwatch.progress import NullProgress, Progress

if TYPE_CHECKING:
    from routerwatch.assess.policy import Policy
    from routerwatch.assess.readiness import ReadinessInputs
    from routerwatch.checks.config_audit import ConfigAudit
    from routerwatch.creds.collect import CredentialOptions
    from routerwatch.fingerprint.engine import Fingerprinter
    from routerwatch.inventory import InventoryRow
    from routerwatch.kb.store import KnowledgeBase
    from routerwatch.match.index import IndexSource
    from routerwatch.match.matcher import Matcher
    from routerwatch.scan.scanner import ScanOptions
    from routerwatch.scan.scope import Scope


@dataclass
class Engines:
    """The loaded, reusable parts: built once per run (or once per server process).

    The matcher reads candidate records from the KB as it checks, so ``kb`` stays open as long
    as the engines are used (its errors surface as routerwatch.kb.KBError)."""

    matcher: Matcher
    loaded_fingerprinter: Fingerprinter | None
    kb_status: dict[str, Any]
    kb_warning: str | None = None
    kb_snapshot: KbSnapshot = field(default_factory=lambda: KbSnapshot(id="kb-none"))
    kb: KnowledgeBase | None = None

    @property
    def fingerprinter(self) -> Fingerprinter:
        """The fingerprint engine, loaded on first use (checks of described devices need
        none)."""
        if self.loaded_fingerprinter is None:
            from routerwatch.fingerprint import Fingerprinter

            self.loaded_fingerprinter = Fingerprinter()
        return self.loaded_fingerprinter


def load_engines(kb: KnowledgeBase, *, fingerprints: bool = True) -> Engines:
    """A matcher over the KB's stored match index (each check reads only its candidate
    records) and the fingerprint rules (``fingerprints`` False: loaded on first use only)."""
    return _engines(kb.match_index(), kb.status(), fingerprints, kb)


def load_engines_lean(url: str | None, *, fingerprints: bool = True) -> Engines | None:
    """The same engines over an up-to-date SQLite KB read without SQLAlchemy or Alembic
    (routerwatch.kb.lean), or None when the KB needs the full path (``load_engines``:
    migration, index rebuild, starter import, status counting)."""
    from routerwatch import config
    from routerwatch.kb.lean import open_lean

    lean = open_lean(config.db_url(url))
    if lean is None:
        return None
    return _engines(lean.match_index(), lean.status(), fingerprints, None)


def _engines(source: IndexSource, status: dict[str, Any], fingerprints: bool,
             kb: KnowledgeBase | None) -> Engines:
    from routerwatch.kb.freshness import warning_text
    from routerwatch.match.matcher import Matcher

    fingerprinter = None
    if fingerprints:
        from routerwatch.fingerprint import Fingerprinter

        fingerprinter = Fingerprinter()
    plain = _plain(status)
    return Engines(
        matcher=Matcher.from_index(source),
        loaded_fingerprinter=fingerprinter,
        kb_status=plain,
        kb_warning=warning_text(status),
        kb_snapshot=kb_snapshot(plain),
        kb=kb,
    )


def kb_snapshot(status: Mapping[str, Any]) -> KbSnapshot:
    """Which KB a result was made with, from its ``kb status``: ``id`` is a digest of every
    source's content hash (every record's id and modification date, KEV date, EPSS score:
    routerwatch.kb.status.content_digests), record count, newest date and catalog version, so
    two runs on the same KB content carry the same id and any import or sync that changes a
    record changes it."""
    sources = status.get("sources") or {}
    digest: dict[str, Any] = {}
    newest: dict[str, str | None] = {}
    records = 0
    for name in sorted(sources):
        src = sources[name]
        if not isinstance(src, Mapping):
            continue
        kept = {k: src[k] for k in sorted(src) if k not in ("last_import", "last_sync")}
        digest[name] = kept
        newest[str(name)] = None if src.get("newest") is None else str(src["newest"])
        if isinstance(src.get("records"), int):
            records += src["records"]
    text = json.dumps(digest, sort_keys=True, default=str)
    return KbSnapshot(
        id="kb-" + hashlib.sha256(text.encode()).hexdigest()[:16], records=records, newest=newest
    )


def _plain(value: Any) -> Any:
    """The KB status as plain JSON data (dates as ISO text, tuples as lists, no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


# --------------------------------------------------------------------------- one device


def assess_identity(
    engines: Engines,
    identity: DeviceIdentity,
    *,
    observation: Observation | None = None,
    policy: Policy | None = None,
    today: date | None = None,
    key: str | None = None,
    address: str | None = None,
    site: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
    include_unaffected: bool = False,
    more_indicators: Sequence[Indicator] = (),
    more_notes: Sequence[str] = (),
) -> Assessment:
    """Match and check one device, then assess it. ``key`` defaults to the observation's
    device key (routerwatch.schema.device_key). ``more_indicators``/``more_notes``: what
    credentialed reads added (config facts through the audit-config checks, failures)."""
    from routerwatch.assess import assess
    from routerwatch.checks import evaluate
    from routerwatch.schema import device_key

    findings = engines.matcher.check(identity, include_unaffected=include_unaffected)
    indicators = evaluate(observation, identity) if observation is not None else []
    indicators = [*indicators, *more_indicators]
    if observation is not None:
        address = observation.address
        key = key or device_key(observation)
    result = assess(
        identity,
        findings,
        indicators,
        address=address,
        open_ports=observation.open_ports if observation is not None else (),
        policy=policy,
        today=today,
    )
    changes: dict[str, Any] = {"key": key, "coverage": device_coverage(engines, identity)}
    if observation is not None:
        changes["observed_at"] = observation.observed_at
        if observation.errors or more_notes:
            changes["notes"] = tuple(result.notes) + observation.errors + tuple(more_notes)
    if site is not None and result.site is None:
        changes["site"] = site
    if extra:
        changes["extra"] = extra
    return replace(result, **changes)


@dataclass(frozen=True)
class CheckResult:
    """``check_device``'s answer: the assessment, and why there are no findings when the KB
    cannot say (``message``; None when the device was matched)."""

    assessment: Assessment
    message: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.assessment.findings


def device_coverage(engines: Engines, identity: DeviceIdentity) -> DeviceCoverage:
    """Whether the KB covers the device (yes / partly / no, from which sources): the
    matcher's coverage as the model every report carries."""
    if identity.vendor is None or identity.model is None:
        what = "vendor" if identity.vendor is None else "model"
        return DeviceCoverage(level="no", note=f"the device's {what} is unknown: no CVE "
                              "can be said to apply or not (routerwatch does not guess)")
    c = engines.matcher.coverage(identity)
    level, sources = c["level"], c["sources"]
    assert level in ("yes", "partly", "no") and isinstance(sources, list)
    return DeviceCoverage(level=level, key=str(c["key"]) if c["key"] else None,
                          sources=tuple(map(str, sources)), note=str(c["note"]))


def unmatched_reason(engines: Engines | None, identity: DeviceIdentity) -> str | None:
    """Why a described device cannot be matched (None when it can): routerwatch never guesses."""
    if identity.vendor is None:
        return "routerwatch could not tell the vendor; no CVEs listed (it does not guess)"
    if identity.model is None:
        return f"no {identity.vendor} model given; no CVEs listed (routerwatch does not guess)"
    if engines is None:
        return None
    coverage = engines.matcher.coverage(identity)
    if not coverage["model"]:  # "not covered by this knowledge base: ..." and what to do
        return str(coverage["note"])
    return None


def check_device(
    engines: Engines,
    identity: DeviceIdentity,
    *,
    policy: Policy | None = None,
    today: date | None = None,
    include_unaffected: bool = False,
    key: str | None = None,
    address: str | None = None,
    site: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> CheckResult:
    """The CVEs of one described device (``check``), assessed (risk, actions, EOL, policy)."""
    from routerwatch.assess import assess
    from routerwatch.schema import asset_key

    key = key or asset_key(identity, address=address)
    message = unmatched_reason(engines, identity)
    if message is not None:
        bare = assess(identity, [], [], address=address, policy=policy, today=today)
        changes: dict[str, Any] = {"key": key, "extra": extra,
                                   "coverage": device_coverage(engines, identity)}
        if site is not None and bare.site is None:
            changes["site"] = site
        return CheckResult(replace(bare, **changes), message)
    a = assess_identity(
        engines, identity, policy=policy, today=today, key=key, address=address, site=site,
        extra=extra, include_unaffected=include_unaffected,
    )
    return CheckResult(a)


# --------------------------------------------------------------------------- many devices


def assess_observations(
    engines: Engines,
    observations: Sequence[Observation],
    *,
    policy: Policy | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    credentials: CredentialOptions | None = None,
    scope: Scope | None = None,
) -> list[Assessment]:
    """Fingerprint, match, check and assess scanned hosts; riskiest first.

    With ``credentials`` (and the ``scope`` their addresses must be in) the devices they are
    bound to are read once each over SSH/SNMPv3/RouterOS API/TR-064; what is read outranks the
    fingerprint guesses and its config facts go through the audit-config checks
    (routerwatch.creds, docs/credentials.md)."""
    progress = progress or NullProgress()
    from routerwatch.schema import device_keys

    keys = device_keys(observations)
    identities = [engines.fingerprinter.identify(obs) for obs in observations]
    reads: dict[str, Any] = {}
    if credentials is not None and credentials.creds:
        if scope is None:
            raise ValueError("credentialed reads need the scan scope")
        from routerwatch.creds.collect import collect

        progress.start("credentialed reads", total=1)
        reads = collect(
            scope, credentials.creds,
            {o.address: (i, (k,)) for o, i, k in zip(observations, identities, keys, strict=True)},
            timeout=credentials.timeout, concurrency=credentials.concurrency,
        )  # fmt: skip
        progress.advance()
        progress.finish()
    progress.start("assessing", total=len(observations))
    out = []
    for obs, key, identity in zip(observations, keys, identities, strict=True):
        more_indicators: list[Indicator] = []
        more_notes: list[str] = []
        device_reads = reads.get(obs.address)
        if device_reads is not None:
            from routerwatch.creds.collect import audit_reads
            from routerwatch.identity.credentialed import merge_credentialed

            identity, mismatch = merge_credentialed(
                identity, device_reads.facts, address=obs.address,
                fingerprint=engines.fingerprinter.identify,
            )  # fmt: skip
            assert credentials is not None
            more_indicators, audit_notes = audit_reads(device_reads, credentials)
            more_notes = [*mismatch, *device_reads.notes, *audit_notes]
        out.append(assess_identity(engines, identity, observation=obs, policy=policy,
                                   today=today, key=key, more_indicators=more_indicators,
                                   more_notes=more_notes))
        progress.advance()
    progress.finish()
    out.sort(key=lambda a: (-a.risk, _addr_key(a.address)))
    return out


def check_inventory(
    engines: Engines,
    rows: Sequence[InventoryRow],
    *,
    policy: Policy | None = None,
    today: date | None = None,
    include_unaffected: bool = False,
    progress: Progress | None = None,
    scope: Sequence[str] = (),
    started: float | None = None,
) -> Report:
    """Batch check: every row of an asset list, one report (rows keep their extra columns)."""
    started = time.monotonic() if started is None else started
    today = today or date.today()
    progress = progress or NullProgress()
    progress.start("checking", total=len(rows))
    out: list[Assessment] = []
    warnings: list[str] = []
    unmatched = 0  # rows with no vendor/model, or not covered by the KB (their note says which)
    for row in rows:
        result = check_device(
            engines,
            row.identity,
            policy=policy,
            today=today,
            include_unaffected=include_unaffected,
            key=row.key,
            address=row.address,
            site=row.site,
            extra=row.extra,
        )
        a = replace(result.assessment, line=row.line)
        if result.message:
            unmatched += 1
            a = replace(a, notes=(result.message, *a.notes))
        out.append(a)
        progress.advance()
    progress.finish()
    if unmatched:
        warnings.append(f"{unmatched} of {len(rows)} rows could not be matched (see their notes)")
    return make_report(
        out, kind="inventory", engines=engines, scope=scope, policy=policy, started=started,
        warnings=warnings, today=today,
    )


def _addr_key(address: str | None) -> tuple[int, ...]:
    if not address:
        return (1 << 30,)
    try:
        return tuple(int(p) for p in address.split("."))
    except ValueError:
        return (1 << 29,)


def make_report(
    assessments: Sequence[Assessment],
    *,
    kind: ReportKind,
    engines: Engines | None,
    scope: Sequence[str] = (),
    policy: Policy | None = None,
    started: float | None = None,
    warnings: Sequence[str] = (),
    today: date | None = None,
    run_id: str | None = None,
    partial: bool = False,
) -> Report:
    """The Report of one run: a fresh run id, the KB snapshot, the date assessed for."""
    from routerwatch.schema import new_run_id

    warns = list(warnings)
    if engines is not None and engines.kb_warning:
        warns.append(engines.kb_warning)
    now = datetime.now(UTC)
    return Report(
        assessments=tuple(assessments),
        generated=now.isoformat(timespec="seconds"),
        tool_version=__version__,
        kind=kind,
        scope=tuple(scope),
        kb=engines.kb_status if engines is not None else {},
        policy=getattr(policy, "name", None),
        elapsed=round(time.monotonic() - started, 3) if started is not None else 0.0,
        warnings=tuple(warns),
        run_id=run_id or new_run_id(now),
        kb_snapshot=engines.kb_snapshot if engines is not None else None,
        today=(today or date.today()).isoformat(),
        partial=partial,
    )


class ScanInterrupted(Exception):
    """The scan was interrupted (Ctrl-C, SIGTERM): ``report`` holds the hosts that finished,
    assessed, marked ``partial``."""

    def __init__(self, report: Report, finished: int, total: int) -> None:
        super().__init__(f"interrupted after {finished} of {total} hosts answered")
        self.report = report
        self.finished = finished
        self.total = total


def run_scan(
    scope: Scope,
    engines: Engines,
    *,
    targets: Sequence[str] = (),
    options: ScanOptions | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    kind: ReportKind = "scan",
    today: date | None = None,
    readiness: ReadinessInputs | None = None,
    credentials: CredentialOptions | None = None,
) -> Report:
    """Scan the scope and return the assessed report (with ban readiness when inputs given;
    with ``credentials``, read the devices they are bound to: see assess_observations).

    Interrupted (KeyboardInterrupt: Ctrl-C, or SIGTERM turned into one by the front end), it
    assesses the hosts that finished and raises :class:`ScanInterrupted` with that report,
    marked ``partial``."""
    from routerwatch.scan.scanner import scan

    started = time.monotonic()
    collected: list[Observation] = []
    partial = False
    try:
        observations = scan(scope, options, progress, collected)
    except KeyboardInterrupt:
        partial = True
        observations = sorted(collected, key=lambda o: _addr_key(o.address))
        if progress is not None:
            progress.finish()
    warnings = []
    if partial:
        warnings.append(
            f"partial report: the scan was interrupted; {len(observations)} host(s) that "
            f"answered before it stopped are in it, the rest of the {len(scope)} addresses "
            "were not (all) scanned"
        )
    assessments = assess_observations(
        engines, observations, policy=policy, progress=progress, today=today,
        credentials=credentials, scope=scope,
    )
    if readiness is not None:
        import dataclasses

        from routerwatch.assess.readiness import apply_readiness

        if policy is not None and policy.name not in {p.name for p in readiness.policies}:
            readiness = dataclasses.replace(readiness, policies=(*readiness.policies, policy))
        assessments = apply_readiness(assessments, readiness, today=today)
    if credentials is not None and credentials.creds:
        read = sum(any(e.source.startswith("read over ") for e in a.identity.evidence)
                   for a in assessments)  # fmt: skip
        failed = sum(any(n.startswith(("credentialed read (", "credentials not sent"))
                         for n in a.notes) for a in assessments)  # fmt: skip
        warnings.append(f"credentialed reads: {read} device(s) read, {failed} with a failed "
                        "read (see their notes)")  # fmt: skip
    report = make_report(
        assessments, kind=kind, engines=engines, scope=targets, policy=policy, started=started,
        today=today, warnings=warnings, partial=partial,
    )
    if partial:
        raise ScanInterrupted(report, len(observations), len(scope))
    return report


# --------------------------------------------------------------------------- config audit


@dataclass(frozen=True)
class AuditResult:
    """``audit_config``'s answer: the audit as read, and the same as a one-device Report."""

    audit: ConfigAudit
    report: Report


def audit_config(
    path: Path | str,
    *,
    dns_allow: Sequence[str] = (),
    isp_dns: Sequence[str] = (),
    known_keys: Sequence[str] = (),
    today: date | None = None,
) -> AuditResult:
    """Audit a router's configuration export (the file only: nothing is contacted).

    Raises routerwatch.checks.config_audit.ConfigAuditError naming the file on bad input."""
    from routerwatch.assess import assess
    from routerwatch.checks.config_audit import run_audit
    from routerwatch.schema import description_key

    started = time.monotonic()
    result = run_audit(path, dns_allow=dns_allow, isp_dns=isp_dns, known_keys=known_keys)
    identity = DeviceIdentity()
    a = assess(identity, [], result.indicators, today=today)
    a = replace(
        a,
        key="asset:" + Path(result.name).name if result.name else description_key(identity),
        notes=(f"{result.name}: {result.format}, {result.settings} settings", *result.notes,
               *a.notes),
    )
    report = make_report(
        [a], kind="audit-config", engines=None, scope=[str(path)], started=started, today=today
    )
    return AuditResult(result, report)
