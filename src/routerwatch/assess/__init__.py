"""Assess one device: risk score, ordered actions, end-of-life and vendor policy.

``assess(identity, findings, indicators, ...)`` is pure: no I/O beyond reading the shipped data
files once. See :mod:`routerwatch.assess.risk` for the score, :mod:`.remediation` for the
actions, :mod:`.eol` and :mod:`.policy` for the data they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from routerwatch.assess.campaigns import annotate, exploited_by
from routerwatch.assess.eol import EolEntry, eol_candidates, eol_for
from routerwatch.assess.policy import (
    Policy,
    PolicyError,
    SiteSummary,
    load_policy,
    shipped_policies,
    site_summary,
)
from routerwatch.assess.remediation import plan_actions
from routerwatch.assess.risk import RiskBreakdown, score, strongest
from routerwatch.models import Assessment, DeviceIdentity, Finding, Indicator

__all__ = [
    "EolEntry",
    "Policy",
    "PolicyError",
    "RiskBreakdown",
    "SiteSummary",
    "assess",
    "eol_for",
    "exploited_by",
    "load_policy",
    "shipped_policies",
    "site_summary",
]


@lru_cache(maxsize=1)
def _rule_data() -> tuple[dict[str, float], dict[str, tuple[str, str]]]:
    """risk_weight and remediation of every shipped indicator rule, by rule id: the fallback
    for indicators that do not carry their own (made by hand, or read from an old report)."""
    from routerwatch.checks.engine import load_indicator_rules

    rules = load_indicator_rules()
    weights = {r.id: r.risk_weight for r in rules if r.kind == "exposure"}
    remediations = {r.id: r.remediation for r in rules if r.remediation is not None}
    return weights, remediations


def assess(
    identity: DeviceIdentity,
    findings: Sequence[Finding],
    indicators: Sequence[Indicator],
    *,
    address: str | None = None,
    open_ports: Sequence[int] = (),
    policy: Policy | None = None,
    today: date | None = None,
) -> Assessment:
    """The verdict on one device: risk, level, actions, EOL date, policy violations, site."""
    today = today or date.today()
    findings = annotate(findings)
    inds = tuple(strongest(indicators))
    # read per indicator only: a device without indicators (every `check`) needs no rules
    weights, remediations = _rule_data() if inds else ({}, {})
    # The indicator's own weight and fix (from whatever rule set fired it) come first.
    own_weights = {i.rule: i.risk_weight for i in inds if i.risk_weight is not None}
    own_fixes = {i.rule: (i.remediation.kind, i.remediation.text) for i in inds if i.remediation}
    if own_weights:
        weights = {**weights, **own_weights}
    if own_fixes:
        remediations = {**remediations, **own_fixes}
    eol = eol_for(identity)
    violations = policy.violations(identity, today) if policy is not None else []
    risk = score(findings, inds, eol=eol is not None, exposure_weights=weights)
    actions = plan_actions(
        identity,
        findings,
        inds,
        address=address,
        eol=eol,
        violations=violations,
        remediations=remediations,
    )
    notes = [risk.explain()]
    if eol is not None:
        notes.append(f"{eol.label()}: {eol.describe()}" + (f" <{eol.url}>" if eol.url else ""))
    for c in eol_candidates(identity):
        notes.append(
            f"hardware revision unknown: {c.label()} is end-of-life ({c.source}); check the "
            "label on the device"
        )
    return Assessment(
        address=address,
        identity=identity,
        open_ports=tuple(open_ports),
        findings=tuple(findings),
        indicators=inds,
        risk=risk.score,
        risk_level=risk.level,
        actions=actions,
        eol=eol.eol.isoformat() if eol is not None else None,
        policy=tuple(v.text() for v in violations),
        site=policy.site_for(address) if policy is not None else None,
        notes=tuple(notes),
    )
