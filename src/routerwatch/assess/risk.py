"""Risk score of one device: 0..100 from compromise, vulnerabilities, exposure and end-of-life.

The formula (also in docs/checks.md)::

    compromise C   = 95 if any compromise indicator is high certainty, 75 if medium, 40 if low,
                     else 0
    per finding v  = min(100, 7 x CVSS + 20 x EPSS + 25 if in KEV + 10 if a named campaign
                     exploits it)   (CVSS unknown: 5.0, EPSS unknown: 0); a KEV finding is
                     at least 75, a campaign-exploited one (Finding.exploited_by) at least 80
                     weight w = 1 for "affected", 0.5 for "possible", 0 for "not_affected"
    vulnerabilities V = min(100, max(w x v) + min(10, 2 x (affected - 1) + 1 x possible))
    exposure E     = min(40, sum of rule risk_weight x certainty factor) over exposure
                     indicators (factor high 1.0, medium 0.7, low 0.4; unknown rules 10)
    end-of-life L  = 20 if the model is end-of-life, else 0

    score = 100 x (1 - (1 - max(C, V)/100) x (1 - E/100) x (1 - L/100)), rounded to 0.1

The last line combines the parts like independent probabilities: each can only raise the score,
the score never exceeds 100, and a high-certainty compromise alone gives at least 95. Levels:
critical >= 90, high >= 70, medium >= 40, low > 0, none = 0. Vendor-policy violations do not
change the score (they are compliance, not risk).

Laws (tests/assess/test_assess_risk.py, hypothesis): bounded 0..100; adding a finding, an
indicator or EOL never lowers the score; deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routerwatch.models import Finding, Indicator, RiskLevel

__all__ = ["RiskBreakdown", "finding_points", "level_for", "score", "strongest"]

COMPROMISE_POINTS = {"high": 95.0, "medium": 75.0, "low": 40.0}
CERTAINTY_FACTOR = {"high": 1.0, "medium": 0.7, "low": 0.4}
STATUS_WEIGHT = {"affected": 1.0, "possible": 0.5, "not_affected": 0.0}
KEV_FLOOR = 75.0
CAMPAIGN_POINTS = 10.0
CAMPAIGN_FLOOR = 80.0
EXPOSURE_CAP = 40.0
DEFAULT_EXPOSURE_WEIGHT = 10.0
EOL_POINTS = 20.0
COUNT_CAP = 10.0
LEVELS: tuple[tuple[RiskLevel, float], ...] = (
    ("critical", 90.0), ("high", 70.0), ("medium", 40.0)
)


@dataclass(frozen=True)
class RiskBreakdown:
    score: float
    level: RiskLevel
    compromise: float
    vulnerabilities: float
    exposure: float
    eol: float

    def explain(self) -> str:
        return (
            f"risk {self.score:g} ({self.level}): compromise {self.compromise:g}, "
            f"vulnerabilities {self.vulnerabilities:g}, exposure {self.exposure:g}, "
            f"end-of-life {self.eol:g}"
        )


def _clamp(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return lo if x != x else max(lo, min(hi, x))  # NaN -> lo


def finding_points(f: Finding) -> float:
    """Points of one finding before its status weight (0..100)."""
    cvss = _clamp(f.cvss if f.cvss is not None else 5.0, 0.0, 10.0)
    epss = _clamp(f.epss if f.epss is not None else 0.0, 0.0, 1.0)
    v = 7.0 * cvss + 20.0 * epss + (25.0 if f.kev else 0.0)
    if f.exploited_by:
        v += CAMPAIGN_POINTS
    if f.kev:
        v = max(v, KEV_FLOOR)
    if f.exploited_by:
        v = max(v, CAMPAIGN_FLOOR)
    return min(100.0, v)


def level_for(value: float) -> RiskLevel:
    for name, threshold in LEVELS:
        if value >= threshold:
            return name
    return "low" if value > 0 else "none"


def score(
    findings: Sequence[Finding],
    indicators: Sequence[Indicator],
    *,
    eol: bool = False,
    exposure_weights: Mapping[str, float] | None = None,
) -> RiskBreakdown:
    """The documented score; ``exposure_weights`` maps rule ids to risk_weight."""
    weights = exposure_weights or {}
    compromise = max(
        (COMPROMISE_POINTS[i.certainty] for i in indicators if i.kind == "compromise"),
        default=0.0,
    )
    counted = [f for f in findings if STATUS_WEIGHT.get(f.status, 0.0) > 0]
    top = max((STATUS_WEIGHT[f.status] * finding_points(f) for f in counted), default=0.0)
    affected = sum(1 for f in counted if f.status == "affected")
    possible = sum(1 for f in counted if f.status == "possible")
    bonus = min(COUNT_CAP, 2.0 * max(0, affected - 1) + 1.0 * possible) if counted else 0.0
    vulns = min(100.0, top + bonus)
    exposure = min(
        EXPOSURE_CAP,
        sum(
            max(0.0, weights.get(i.rule, DEFAULT_EXPOSURE_WEIGHT)) * CERTAINTY_FACTOR[i.certainty]
            for i in strongest(indicators)
            if i.kind == "exposure"
        ),
    )
    eol_points = EOL_POINTS if eol else 0.0
    base = max(compromise, vulns)
    total = 100.0 * (1 - (1 - base / 100) * (1 - exposure / 100) * (1 - eol_points / 100))
    value = round(_clamp(total), 1)
    return RiskBreakdown(
        score=value,
        level=level_for(value),
        compromise=round(compromise, 1),
        vulnerabilities=round(vulns, 1),
        exposure=round(exposure, 1),
        eol=eol_points,
    )


def strongest(indicators: Sequence[Indicator]) -> list[Indicator]:
    """One indicator per (kind, rule): the most certain (so repeating a rule never adds up)."""
    rank = {"low": 0, "medium": 1, "high": 2}
    best: dict[tuple[str, str], Indicator] = {}
    for i in indicators:
        key = (i.kind, i.rule)
        if key not in best or rank[i.certainty] > rank[best[key].certainty]:
            best[key] = i
    return list(best.values())
