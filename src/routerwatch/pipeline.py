"""The pipeline that every front end (CLI, demo, later a server) shares.

scan → fingerprint → match + checks → assess → Report. Each stage is called through its
package's public API; this module only threads the data through and keeps time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from routerwatch import __version__
from routerwatch.models import Assessment, DeviceIdentity, Observation, Report
from routerwatch.progress import NullProgress, Progress

if TYPE_CHECKING:
    from routerwatch.assess.policy import Policy
    from routerwatch.fingerprint.engine import Fingerprinter
    from routerwatch.kb.store import KnowledgeBase
    from routerwatch.match.matcher import Matcher
    from routerwatch.scan.scanner import ScanOptions
    from routerwatch.scan.scope import Scope


@dataclass
class Engines:
    """The loaded, reusable parts: built once per run (or once per server process)."""

    matcher: Matcher
    fingerprinter: Fingerprinter
    kb_status: dict[str, Any]
    kb_warning: str | None = None


def load_engines(kb: KnowledgeBase) -> Engines:
    """A matcher over the KB's stored match index (each check reads only its candidate
    records) and the fingerprint rules."""
    from routerwatch.fingerprint import Fingerprinter
    from routerwatch.kb import stale_warning
    from routerwatch.match.matcher import Matcher

    return Engines(
        matcher=Matcher.from_index(kb.match_index()),
        fingerprinter=Fingerprinter(),
        kb_status=kb.status(),
        kb_warning=stale_warning(kb),
    )


def assess_identity(
    engines: Engines,
    identity: DeviceIdentity,
    *,
    observation: Observation | None = None,
    policy: Policy | None = None,
) -> Assessment:
    """Match and check one device, then assess it."""
    from routerwatch.assess import assess
    from routerwatch.checks import evaluate

    findings = engines.matcher.check(identity)
    indicators = evaluate(observation, identity) if observation is not None else []
    notes: tuple[str, ...] = observation.errors if observation is not None else ()
    result = assess(
        identity,
        findings,
        indicators,
        address=observation.address if observation is not None else None,
        open_ports=observation.open_ports if observation is not None else (),
        policy=policy,
    )
    if notes:
        result = _with_notes(result, notes)
    return result


def _with_notes(a: Assessment, notes: tuple[str, ...]) -> Assessment:
    from dataclasses import replace

    return replace(a, notes=tuple(a.notes) + notes)


def assess_observations(
    engines: Engines,
    observations: Sequence[Observation],
    *,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> list[Assessment]:
    progress = progress or NullProgress()
    progress.start("assessing", total=len(observations))
    out = []
    for obs in observations:
        identity = engines.fingerprinter.identify(obs)
        out.append(assess_identity(engines, identity, observation=obs, policy=policy))
        progress.advance()
    progress.finish()
    out.sort(key=lambda a: (-a.risk, _addr_key(a.address)))
    return out


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
    kind: str,
    engines: Engines,
    scope: Sequence[str] = (),
    policy: Policy | None = None,
    started: float | None = None,
    warnings: Sequence[str] = (),
) -> Report:
    warns = list(warnings)
    if engines.kb_warning:
        warns.append(engines.kb_warning)
    return Report(
        assessments=tuple(assessments),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        kind=kind,  # type: ignore[arg-type]
        scope=tuple(scope),
        kb=engines.kb_status,
        policy=getattr(policy, "name", None),
        elapsed=round(time.monotonic() - started, 3) if started is not None else 0.0,
        warnings=tuple(warns),
    )


def run_scan(
    scope: Scope,
    engines: Engines,
    *,
    targets: Sequence[str] = (),
    options: ScanOptions | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    kind: str = "scan",
) -> Report:
    """Scan the scope and return the assessed report."""
    from routerwatch.scan.scanner import scan

    started = time.monotonic()
    observations = scan(scope, options, progress)
    assessments = assess_observations(engines, observations, policy=policy, progress=progress)
    return make_report(
        assessments, kind=kind, engines=engines, scope=targets, policy=policy, started=started
    )
