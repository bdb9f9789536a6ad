"""``--fail-on``: whether a result crosses the threshold a CI job or script gates on.

The exit-code contract of every command (docs/cli.md)::

    0  clean: nothing at or above the --fail-on threshold (or no --fail-on given)
    1  findings at or above the threshold
    2  usage: a bad flag, argument, input file or output path (before any work is done)
    3  runtime: the work could not be done (knowledge base, network, writing the output)
    130 interrupted (SIGINT/SIGTERM): what finished was written, marked partial

Thresholds (any number, e.g. ``--fail-on high --fail-on kev``):

- ``critical`` / ``high`` / ``medium`` / ``low``: an ``affected`` finding whose severity is that
  or worse (low includes medium, high and critical), or a compromise indicator (a compromised
  router counts as critical). ``possible`` findings (firmware unknown) do not fail a run.
- ``kev``: an ``affected`` finding listed in CISA KEV.
- ``compromised``: a compromise indicator of any certainty.
- ``policy``: a vendor-policy violation, or a ban-readiness restriction that catches a device
  (``affected`` or an expired exception).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from routerwatch.models import Report

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3
EXIT_INTERRUPTED = 130

SEVERITY_ORDER = ("critical", "high", "medium", "low")
FAIL_ON: tuple[str, ...] = (*SEVERITY_ORDER, "kev", "compromised", "policy")


class GateError(ValueError):
    """A --fail-on value that is not one of FAIL_ON."""


def parse_fail_on(values: Iterable[str]) -> tuple[str, ...]:
    """The thresholds from ``--fail-on`` values (repeatable, or comma-separated)."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in FAIL_ON:
                raise GateError(f"--fail-on: {part.strip()!r} is not one of {', '.join(FAIL_ON)}")
            if name not in out:
                out.append(name)
    return tuple(out)


@dataclass
class Facts:
    """What the thresholds look at, counted over a result (a Report or a bulk summary)."""

    affected: Mapping[str, int] = field(default_factory=dict)  # severity -> affected findings
    kev: int = 0  # devices with an affected KEV finding
    compromised: int = 0  # devices with a compromise indicator
    policy: int = 0  # devices a policy or restriction catches


def report_facts(report: Report) -> Facts:
    from routerwatch.report.summary import by_severity, has_kev, is_compromised

    return Facts(
        affected=by_severity(report, "affected"),
        kev=sum(1 for a in report.assessments if has_kev(a)),
        compromised=sum(1 for a in report.assessments if is_compromised(a)),
        policy=sum(
            1 for a in report.assessments
            if a.policy or any(r.status in ("affected", "exception-expired") for r in a.readiness)
        ),
    )


def failures(facts: Facts, thresholds: Sequence[str]) -> list[str]:
    """Why the result fails each threshold (empty: it passes them all)."""
    out: list[str] = []
    for name in thresholds:
        if name in SEVERITY_ORDER:
            worse = SEVERITY_ORDER[: SEVERITY_ORDER.index(name) + 1]
            n = sum(facts.affected.get(s, 0) for s in worse)
            parts = []
            if n:
                parts.append(f"{n} affected finding(s) of severity {name} or worse")
            if facts.compromised:
                parts.append(f"{facts.compromised} compromised device(s)")
            if parts:
                out.append(f"{name}: " + ", ".join(parts))
        elif name == "kev" and facts.kev:
            out.append(f"kev: {facts.kev} device(s) with an affected CVE in CISA KEV")
        elif name == "compromised" and facts.compromised:
            out.append(f"compromised: {facts.compromised} device(s) with compromise indicators")
        elif name == "policy" and facts.policy:
            out.append(f"policy: {facts.policy} device(s) caught by a policy or restriction")
    return out
