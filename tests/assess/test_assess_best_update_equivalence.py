"""best_update groups findings by fixed version (one comparison per pair of versions): its
answer must equal the straightforward search (every candidate against every finding), kept
here verbatim as the oracle, on many real cases: the findings the real KB gives for every
model of the fixtures' vendors at several firmwares, each also as the shrinking remainders
plan_actions feeds back, and shuffled."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from routerwatch.assess.remediation import Compare, Update, best_update, compare_firmware
from routerwatch.kb import KnowledgeBase
from routerwatch.match import Matcher
from routerwatch.models import DeviceIdentity, Finding, replace

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def _oracle_better(a: Update, b: Update, compare: Compare) -> bool:
    if len(a.exploited) != len(b.exploited):
        return len(a.exploited) > len(b.exploited)
    if len(a.clears) != len(b.clears):
        return len(a.clears) > len(b.clears)
    if len(a.kev) != len(b.kev):
        return len(a.kev) > len(b.kev)
    c = compare(a.version, b.version)
    if c is not None and c != 0:
        return c < 0
    return a.version < b.version


def oracle(findings: Sequence[Finding], compare: Compare) -> Update | None:
    """best_update as it was before the grouping (every candidate x every finding)."""
    fixable = [f for f in findings if f.status in ("affected", "possible") and f.fixed_in]
    candidates: list[str] = []
    for f in fixable:
        assert f.fixed_in is not None
        if f.fixed_in not in candidates:
            candidates.append(f.fixed_in)
    best: Update | None = None
    for v in candidates:
        cleared = []
        for f in fixable:
            assert f.fixed_in is not None
            c = compare(v, f.fixed_in)
            if c is not None and c >= 0:
                cleared.append(f)
        if not cleared:
            continue
        upd = Update(v, tuple(cleared))
        if best is None or _oracle_better(upd, best, compare):
            best = upd
    return best


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[Finding]]]:
    kb = KnowledgeBase(f"sqlite:///{tmp_path_factory.mktemp('bu') / 'kb.db'}")
    kb.import_paths([FIX / "nvd", FIX / "cve5", FIX / "kev" /
                     "known_exploited_vulnerabilities.json"])
    matcher = Matcher.from_index(kb.match_index())
    rng = random.Random(5)
    out = []
    for vendor in ("TP-Link", "NETGEAR", "ASUS"):
        for model in sorted(matcher.catalog.models(vendor)):  # type: ignore[attr-defined]
            for fw in (None, "1.0.0", "1.0.2", "2.0", "3.0.0.4.386_40000", "V1.0.0.10"):
                found = matcher.check(DeviceIdentity(vendor=vendor, model=model, firmware=fw),
                                      include_unaffected=True)
                if not any(f.fixed_in for f in found):
                    continue
                # some findings exploited by a campaign, some KEV: exercise every tie rule
                found = [replace(f, exploited_by=("Mirai",)) if rng.random() < 0.15 else f
                         for f in found]
                out.append((vendor, found))
    return out


def test_best_update_equals_the_oracle_on_real_findings(
        cases: list[tuple[str, list[Finding]]]) -> None:
    rng = random.Random(11)
    compared = steps = 0
    calls = {"new": 0, "old": 0}
    for vendor, found in cases:
        def cmp(a: str, b: str, who: str, v: str | None = vendor) -> int | None:
            calls[who] += 1
            return compare_firmware(v, a, b)

        variants = [found, list(reversed(found))]
        shuffled = list(found)
        rng.shuffle(shuffled)
        variants.append(shuffled)
        for remaining in variants:
            # one compare function per plan, as plan_actions: best_update remembers its answers
            new = lambda a, b: cmp(a, b, "new")  # noqa: E731
            while True:  # as plan_actions: take the best update, then look at the rest
                want = oracle(remaining, lambda a, b: cmp(a, b, "old"))
                got = best_update(remaining, new)
                assert got == want, (vendor, [f.cve for f in remaining])
                compared += 1
                if want is None:
                    break
                steps += 1
                cleared = {id(f) for f in want.clears}
                remaining = [f for f in remaining if id(f) not in cleared]
    assert len(cases) > 100 and compared > 500 and steps > 300
    assert calls["new"] < calls["old"]


def test_best_update_equals_the_oracle_on_a_partial_order() -> None:
    """Versions of two schemes (incomparable across schemes), ties and exploited findings."""
    def cmp(a: str, b: str) -> int | None:
        if a[0] != b[0]:
            return None
        x, y = int(a[1:]), int(b[1:])
        return (x > y) - (x < y)

    rng = random.Random(3)
    for _ in range(400):
        found = [Finding(cve=f"CVE-2024-{i:04d}", status=rng.choice(["affected", "possible",
                                                                     "not_affected"]),
                         reason="r", fixed_in=rng.choice([None, "a1", "a2", "a10", "b3", "b4"]),
                         kev=rng.random() < 0.3,
                         exploited_by=("Mirai",) if rng.random() < 0.2 else ())
                 for i in range(rng.randint(0, 12))]
        assert best_update(found, cmp) == oracle(found, cmp)


def test_remembered_comparisons_live_only_as_long_as_their_function() -> None:
    import gc

    from routerwatch.assess import remediation

    calls: list[tuple[str, str]] = []

    def cmp(a: str, b: str) -> int | None:
        calls.append((a, b))
        x, y = int(a), int(b)
        return (x > y) - (x < y)

    found = [Finding(cve=f"CVE-2024-{i:04d}", status="affected", reason="r", fixed_in=str(i % 7))
             for i in range(30)]
    first = best_update(found, cmp)
    made = len(calls)
    assert first is not None and first.version == "6" and len(first.clears) == 30
    assert best_update(found, cmp) == first and len(calls) == made  # answered from memory
    before = len(remediation._MEMOS)
    del cmp
    gc.collect()
    assert len(remediation._MEMOS) == before - 1
