"""The cold-path shortcuts give the same objects as the plain constructors."""

from __future__ import annotations

from routerwatch.match import matcher as m
from routerwatch.match.criteria import Bound, Criterion
from routerwatch.models import CveRecord, Finding


def test_matcher_finding_equals_the_constructor() -> None:
    rec = CveRecord(cve_id="CVE-2023-1389", description="x")
    entry = m.CompiledCve(rec, (), (), False, frozenset())
    fast = m.Matcher._finding(entry, "affected", "why", "nvd", "1.2", ("cpe:2.3:o:a:b:*",))
    slow = Finding(cve="CVE-2023-1389", status="affected", reason="why", source="nvd",
                   kev=rec.in_kev, kev_date=rec.nvd_kev_date, epss=rec.epss,
                   cvss=rec.cvss_score, severity=rec.severity, fixed_in="1.2",
                   description="x", criteria=("cpe:2.3:o:a:b:*",))
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)


def test_criterion_precomputes_its_explanation_pieces() -> None:
    c = Criterion("cpe:2.3:o:x:y:*:*:*:*:*:*:*:*", True, "X", None, "firmware", "*",
                  start=Bound("1.0", True, "versionStartIncluding"),
                  end=Bound("1.1.4", False, "versionEndExcluding"))
    assert c.ranged and c.firmware
    assert c.ops == ">= 1.0 and < 1.1.4 (versionStartIncluding, versionEndExcluding)"
    assert c.fixed_in == "1.1.4"
    d = Criterion("t", False, "X", None, "hardware", "*",
                  end=Bound("2", True, "versionEndIncluding"))
    assert d.fixed_in is None and not d.firmware and d.ranged
