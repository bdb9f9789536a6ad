"""What to do about one device, in order (Action.priority 1 = first).

1. Compromised (a compromise indicator of high or medium certainty): isolate the device, then
   factory-reset it and change every credential it held, then update its firmware before it
   goes back on the network. Low-certainty compromise indicators become "review" actions.
2. Vulnerable: "update to firmware >= X" where X is the fixed version (``Finding.fixed_in``)
   that clears the most findings a named campaign exploits (``Finding.exploited_by``), then
   the most affected/possible findings (ties: more KEV findings, then the lower version).
   Findings whose fixed version cannot be compared with X (another version scheme, another
   hardware revision) get a further target chosen the same way, folded into the same one
   update action ("... where that version does not apply to them, also: Y for ..."); a fix
   given as a bound ("later than X", versionEndIncluding) is cleared only by a version above
   X. Versions are named in user terms (:func:`user_version`). Campaign-exploited and
   KEV findings are named first. Versions are compared with
   ``routerwatch.identity.versions.compare_versions(vendor, a, b)``; when that says "cannot
   tell" the finding is not counted as cleared.
3. Exposure indicators: the rule's own remediation ("Disable telnet", ...), once per text.
4. End-of-life: replace the device (no fixes are coming). When the EOL source names a campaign
   that targets the model (FBI: TheMoon on end-of-life Linksys routers with remote
   administration on) and the admin UI was reachable, first: turn remote administration off.
5. Vendor policy: replace by the policy's deadline.
6. Affected findings without any known fix on a supported device: review the vendor advisory.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routerwatch.assess.eol import EolEntry
from routerwatch.models import Action, DeviceIdentity, Finding, Indicator

__all__ = [
    "Violation", "best_update", "bound_compare", "compare_firmware", "plan_actions",
    "user_version",
]

Compare = Callable[[str, str], int | None]
#: Indicator rules that show the admin UI or remote management is reachable (the FBI's
#: condition for TheMoon on end-of-life routers: remote administration on).
REMOTE_ADMIN_RULES = frozenset(
    {"exposure-admin-http", "exposure-admin-ui", "config-wan-admin", "exposure-luci-locale"}
)


@dataclass(frozen=True)
class Violation:
    """A vendor-policy restriction the device falls under."""

    policy: str
    vendor: str
    reason: str
    deadline: str  # ISO date
    overdue: bool

    def text(self) -> str:
        state = "overdue since" if self.overdue else "replace by"
        return (
            f"vendor {self.vendor} restricted by policy {self.policy}: {self.reason} "
            f"({state} {self.deadline})"
        )


_NUM = re.compile(r"\d+")


def _generic_compare(a: str, b: str) -> int | None:
    """Numeric-token comparison, used only when identity.versions is unavailable."""
    ta = [int(x) for x in _NUM.findall(a)]
    tb = [int(x) for x in _NUM.findall(b)]
    if not ta or not tb:
        return None
    return (ta > tb) - (ta < tb)


def compare_firmware(vendor: str | None, a: str, b: str) -> int | None:
    """-1/0/1 comparing firmware ``a`` with ``b`` for the vendor, None when incomparable."""
    if a.strip() == b.strip():
        return 0
    try:
        from routerwatch.identity.versions import compare_versions
    except ImportError:
        return _generic_compare(a, b)
    try:
        result = compare_versions(vendor or "", a, b)
    except (ValueError, TypeError, KeyError):
        return None
    return None if result is None else int(result)


@dataclass(frozen=True)
class Update:
    version: str
    clears: tuple[Finding, ...]

    @property
    def kev(self) -> tuple[str, ...]:
        return tuple(f.cve for f in self.clears if f.kev)

    @property
    def exploited(self) -> tuple[str, ...]:
        return tuple(f.cve for f in self.clears if f.exploited_by)

    @property
    def campaigns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for f in self.clears for c in f.exploited_by))


_MEMOS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], int | None]] = (
    weakref.WeakKeyDictionary())
_MEMOS_LOCK = threading.Lock()
_MEMO_MAX = 100_000  # comparisons remembered per compare function before starting afresh


def _memo_for(compare: Compare) -> dict[tuple[str, str], int | None]:
    """The comparisons already made with this ``compare`` (plan_actions asks best_update
    again with the same function for the findings the first update leaves): kept while the
    function lives, bounded; a function that cannot be weakly referenced gets a fresh one."""
    try:
        with _MEMOS_LOCK:
            memo = _MEMOS.get(compare)
            if memo is None or len(memo) > _MEMO_MAX:
                memo = _MEMOS[compare] = {}
            return memo
    except TypeError:
        return {}


def best_update(findings: Sequence[Finding], compare: Compare) -> Update | None:
    """The fixed version that clears the most findings (see module docstring).

    The same answer as trying every candidate against every finding, with far fewer calls of
    ``compare`` (each pair of versions at most once per call): findings are grouped by fixed
    version, and a candidate is dropped as soon as it provably clears less than another one
    already did. The winner clears the most (exploited, findings, KEV), so candidates that
    clear less never decide it; a first guess at the newest version (one pass of
    comparisons) usually clears everything and makes every other candidate fail at its first
    comparison: about two comparisons per version instead of one per pair."""
    fixable = [f for f in findings if f.status in ("affected", "possible") and f.fixed_in]
    # per distinct fixed version, in first-seen order: [exploited, findings, KEV] counts
    tally: dict[str, tuple[int, int, int]] = {}
    for f in fixable:
        assert f.fixed_in is not None
        e, n, k = tally.get(f.fixed_in, (0, 0, 0))
        tally[f.fixed_in] = (e + bool(f.exploited_by), n + 1, k + bool(f.kev))
    if not tally:
        return None
    memo = _memo_for(compare)

    def cmp(a: str, b: str) -> int | None:
        key = (a, b)
        if key not in memo:
            memo[key] = compare(a, b)
        return memo[key]

    guess = next(iter(tally))  # the newest version as far as one pass can tell
    for w in tally:
        c = cmp(w, guess)
        if c is not None and c > 0:
            guess = w
    order = [guess, *(w for w in tally if w != guess)]
    total = tuple(sum(t[i] for t in tally.values()) for i in range(3))

    def clears(v: str, bound: tuple[int, ...]) -> tuple[tuple[int, ...], set[str]] | None:
        """(counts, versions cleared) of candidate ``v``; None once it cannot reach
        ``bound`` (its counts so far plus everything left is below it)."""
        got = [0, 0, 0]
        left = list(total)
        cleared = set()
        for w in order:
            t = tally[w]
            for i in range(3):
                left[i] -= t[i]
            c = cmp(v, w)
            if c is not None and c >= 0:
                cleared.add(w)
                for i in range(3):
                    got[i] += t[i]
            elif (got[0] + left[0], got[1] + left[1], got[2] + left[2]) < bound:
                return None
        return (got[0], got[1], got[2]), cleared

    probe = clears(guess, (0, 0, 0))
    assert probe is not None
    floor = probe[0]  # the winner clears at least this much (lexicographically)
    best: tuple[int, ...] | None = None
    best_version = ""
    best_cleared: set[str] = set()
    for v in tally:
        bound = floor if best is None or floor > best else best
        found = clears(v, bound)
        if found is None or not found[1]:
            continue
        key, cleared = found
        if best is None or _better(key, v, best, best_version, cmp):
            best, best_version, best_cleared = key, v, cleared
    if best is None:
        return None
    return Update(best_version, tuple(f for f in fixable if f.fixed_in in best_cleared))


def _better(a: tuple[int, ...], a_version: str, b: tuple[int, ...], b_version: str,
            compare: Compare) -> bool:
    """Whether update ``a`` beats ``b``, from their (exploited, cleared, KEV) counts and
    versions: more campaign-exploited findings cleared, then more findings, then more KEV,
    then the lower version."""
    if a != b:
        return a > b  # exploited first, then findings cleared, then KEV
    c = compare(a_version, b_version)
    if c is not None and c != 0:
        return c < 0  # the smaller step clears as much
    return a_version < b_version  # deterministic


def _cve_label(f: Finding) -> str:
    tags = (["KEV"] if f.kev else []) + (
        [f"exploited by {', '.join(f.exploited_by)}"] if f.exploited_by else []
    )
    return f"{f.cve} ({'; '.join(tags)})" if tags else f.cve


def _cve_list(findings: Sequence[Finding], limit: int = 8) -> str:
    ordered = sorted(findings, key=lambda f: (not f.exploited_by, not f.kev, f.cve))
    names = [_cve_label(f) for f in ordered]
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def _who(identity: DeviceIdentity, address: str | None) -> str:
    parts = [p for p in (identity.vendor, identity.model) if p]
    label = " ".join(parts) if parts else "the device"
    if parts and identity.hardware:
        label += f" v{identity.hardware}"
    return f"{label} at {address}" if address else label


_LATER = "later than "
#: A version that is a product/hardware name with the build number at its end, as some CPEs
#: write it ("tl-wr841n_v8_140724"): the build is what a user finds on the device's page.
_NAMED_BUILD = re.compile(r"(?i)^[a-z][a-z0-9.-]*(?:_[a-z0-9.-]+)*_(\d{6,8})$")


def user_version(version: str) -> str:
    """A fixed-version bound in the words a user reads on the device: the CPE naming ("later
    than tl-wr841n_v8_140724") becomes "firmware later than the 140724 build"; build dates read
    as dates; other versions stay as the vendor writes them ("3.0.0.4.386_51685 or later")."""
    later = version.startswith(_LATER)
    bare = version[len(_LATER):] if later else version
    named = _NAMED_BUILD.match(bare)
    if named:
        build = f"the {named.group(1)} build"
        return f"firmware later than {build}" if later else f"{build} or later"
    m = re.fullmatch(r"(\d{2}|\d{4})(\d{2})(\d{2})", bare)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        year = m.group(1) if len(m.group(1)) == 4 else "20" + m.group(1)
        day = f"{year}-{m.group(2)}-{m.group(3)} ({bare})"
        return f"a build later than {day}" if later else f"a build dated {day} or later"
    return f"a version later than {bare}" if later else f"{bare} or later"


def _update_target(version: str) -> str:
    """How to name the version to update to (see :func:`user_version`)."""
    return user_version(version)


def bound_compare(compare: Compare) -> Compare:
    """``compare`` that also reads the "later than X" bounds the matcher writes for
    versionEndIncluding: an update to V clears "later than X" only when V > X, and "later than
    X" as a target is at least every version up to X (None stays "cannot tell")."""

    def cmp(a: str, b: str) -> int | None:
        a_later, b_later = a.startswith(_LATER), b.startswith(_LATER)
        if not (a_later or b_later):
            return compare(a, b)
        r = compare(a[len(_LATER):] if a_later else a, b[len(_LATER):] if b_later else b)
        if r is None or a_later == b_later:
            return r
        if b_later:  # target V against the bound "later than X": V must exceed X
            return 1 if r > 0 else -1
        return 1 if r >= 0 else -1  # target "later than X" against the fix Y: X >= Y

    return cmp


def plan_actions(
    identity: DeviceIdentity,
    findings: Sequence[Finding],
    indicators: Sequence[Indicator],
    *,
    address: str | None = None,
    eol: EolEntry | None = None,
    violations: Sequence[Violation] = (),
    remediations: Mapping[str, tuple[str, str]] | None = None,
    compare: Compare | None = None,
) -> tuple[Action, ...]:
    """The ordered actions for one device."""
    remediations = remediations or {}
    cmp: Compare = bound_compare(
        compare or (lambda a, b: compare_firmware(identity.vendor, a, b))
    )
    steps: list[tuple[str, str, tuple[str, ...]]] = []
    who = _who(identity, address)

    compromise = [i for i in indicators if i.kind == "compromise"]
    strong = [i for i in compromise if i.certainty in ("high", "medium")]
    if strong:
        campaigns = sorted({i.campaign for i in strong if i.campaign})
        rules = tuple(i.rule for i in strong)
        what = ", ".join(campaigns) if campaigns else "compromise indicators"
        steps.append(
            ("isolate", f"Isolate {who} from the network now ({what}: {', '.join(rules)})", rules)
        )
        steps.append(
            (
                "isolate",
                "Factory-reset the device and change every password and key it "
                "held (admin, Wi-Fi, PPPoE, VPN); do not restore the old configuration "
                "backup",
                rules,
            )
        )

    # firmware updates, greedily: each round the version that clears most of what is left;
    # one action: the first (biggest) target, the others (fixes that cannot be compared with
    # it: another version scheme or hardware revision) folded into its text
    remaining = [f for f in findings if f.status in ("affected", "possible")]
    first_update = True
    rounds: list[Update] = []
    while True:
        upd = best_update(remaining, cmp)
        if upd is None:
            break
        rounds.append(upd)
        cleared = {f.cve for f in upd.clears}
        remaining = [f for f in remaining if f.cve not in cleared]
    if rounds:
        upd = rounds[0]
        every = [f for u in rounds for f in u.clears]
        kev_n = sum(1 for f in every if f.kev)
        exploiters = tuple(dict.fromkeys(c for f in every for c in f.exploited_by))
        kev = f", {kev_n} known exploited" if kev_n else ""
        if exploiters:
            kev += f", exploited by {', '.join(exploiters)}"
        when = " before reconnecting it" if strong else ""
        text = f"Update the firmware to {_update_target(upd.version)}{when}: clears "
        text += f"{len(every)} CVE(s){kev}: {_cve_list(upd.clears)}"
        if len(rounds) > 1:
            more = "; ".join(
                f"{_update_target(u.version)} for {_cve_list(u.clears, 4)}" for u in rounds[1:]
            )
            text += f" (where that version does not apply to them, also: {more})"
        order = sorted(every, key=lambda f: (not f.exploited_by, not f.kev, f.cve))
        steps.append(("update", text, tuple(f.cve for f in order)))
        first_update = False
    if strong and first_update:
        steps.append(
            ("update", "Install the latest firmware from the vendor before reconnecting it", ())
        )

    for i in compromise:
        if i.certainty == "low":
            steps.append(
                ("review", f"Check {who}: {i.title} (low certainty; rule {i.rule})", (i.rule,))
            )

    seen: set[str] = set()
    for i in indicators:
        if i.kind != "exposure" or i.rule not in remediations:
            continue
        kind, text = remediations[i.rule]
        if text in seen:
            continue
        seen.add(text)
        same = tuple(j.rule for j in indicators if remediations.get(j.rule, ("", ""))[1] == text)
        steps.append((kind, text, same))

    unfixed = [f for f in remaining if f.status == "affected"]
    if eol is not None and eol.campaign:
        admin = tuple(i.rule for i in indicators if i.rule in REMOTE_ADMIN_RULES)
        if admin:
            steps.append(
                (
                    "disable",
                    f"Turn remote administration off now: {eol.campaign} takes over this "
                    f"end-of-life model through it ({eol.citation})",
                    admin,
                )
            )
    if eol is not None:
        when = "since" if eol.date_basis == "announced" else "on or before"
        target = f"; targeted by {eol.campaign}" if eol.campaign else ""
        steps.append(
            (
                "replace",
                f"Replace {who}: end-of-life {when} {eol.eol.isoformat()} "
                f"({eol.citation}{target}); no more security fixes are coming",
                tuple(f.cve for f in unfixed),
            )
        )
    if violations:
        first = min(violations, key=lambda v: v.deadline)
        policies = ", ".join(sorted({v.policy for v in violations}))
        reasons = "; ".join(dict.fromkeys(v.reason for v in violations))
        state = "overdue since" if first.overdue else "by"
        steps.append(
            (
                "replace",
                f"Replace {who} {state} {first.deadline} (policy {policies}: {reasons})",
                (),
            )
        )
    if unfixed and eol is None:
        steps.append(
            (
                "review",
                f"No fixed firmware is known for {_cve_list(unfixed)}: check the "
                "vendor's advisories and apply their mitigations",
                tuple(f.cve for f in unfixed),
            )
        )
    return tuple(
        Action(priority=n, kind=k, text=t, clears=c) for n, (k, t, c) in enumerate(steps, 1)
    )
