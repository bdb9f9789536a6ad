"""CVE JSON 5 ``affected`` entries (CNA and ADP containers), read as the CVE 5 schema says.

The schema's algorithm (CVEProject/cve-schema, ``schema/v5.0/docs/versions.md``) decides the
status of a version V of a product::

    for entry in product.versions:
        if entry matches V: return entry.status, changed by entry.changes[] (at <= V)
    return product.defaultStatus          # omitted = "unknown"

* a single version (``version`` + ``status``) matches V when it is that version;
* a range (``version`` + ``lessThan`` / ``lessThanOrEqual``, with a ``versionType``) matches
  ``version <= V < lessThan`` (``<=`` for lessThanOrEqual); ``"version": "0"`` (or ``-``, empty)
  means no lower bound, ``lessThan: "*"`` no upper bound and ``"2.*"`` the end of the 2.x series;
* ``changes[]`` switch the status at their ``at`` version inside a range.

One reading beyond the algorithm: a version at or after the end of an affected ``lessThan``
range is on the fixed side (not affected), as the schema describes ``lessThan`` as the form
"that allows naming the exact version that introduced the fix"; after a ``lessThanOrEqual``
end (often "the last version tested") the defaultStatus decides.

Statuses map to findings: ``affected`` -> affected, ``unaffected`` -> not_affected, ``unknown``
-> possible. So a version the record does not list follows ``defaultStatus``: CVE-2023-27359
lists only "AX21(US)_V3_1.1.1 Build 20220603" with ``defaultStatus: unknown``, and an AX21 at
1.1.2 is *possible*, never "not affected".

Comparisons use the vendor's firmware scheme (routerwatch.identity.versions), whatever the
``versionType`` (CNAs write ``custom``, ``semver`` or nothing for firmware); ranges of a source
control ``versionType`` (git, hg, svn) name commits and are not comparable with firmware.
What the schema leaves open, read conservatively:

* versions written as text: ``"prior to 'X'"`` / ``"before X"`` is a range ending at X,
  ``"X through Y"`` a range with both ends included, ``"All versions up to X"`` /
  ``"X and earlier"`` / ``"X or earlier"`` a range ending at X (included),
  ``"all versions"`` matches everything, ``n/a`` / ``-`` / ``unspecified`` match nothing
  knowable (possible; when the description names no firmware version either, every version);
* a ``version`` that only repeats the hardware revision of the entry's ``h:`` CPE means every
  firmware of that revision;
* a comparison that fails makes the status unknown (possible), with the reason; a firmware
  written exactly as the record writes a version is that version, whatever the scheme reads.

Data problems are reported, not hidden: an empty range (start after its end), versions that
match V with different statuses (contradictory entries), ``changes`` outside their range, an
entry with neither versions nor ``defaultStatus``. Such an entry gives at most *possible*, and
the explanation says "data problem: ...".

Device firmware unknown: at most possible. Every finding is marked ``source="cve5"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from routerwatch.identity.versions import parse_version
from routerwatch.match.aliases import AliasRules, ProductRef, free_text_parts, vendor_key
from routerwatch.match.compare import VersionCache, hardware_matches, norm_hardware
from routerwatch.match.cpe import CpeError, parse_cpe
from routerwatch.match.evaluator import DeviceView, Level

__all__ = ["Cve5Entry", "Cve5Result", "Cve5Version", "compile_affected", "evaluate_affected"]

VKind = Literal["exact", "range", "all", "unknown"]
Status = Literal["affected", "unaffected", "unknown"]

_PRIOR = re.compile(
    r"""^\s*(?:firmware\s+)?(?:versions?\s+)?(?:prior\s+to|before|earlier\s+than|<)\s*
        ['"]?(?P<v>.+?)['"]?\s*$""",
    re.I | re.X,
)
_ALL = re.compile(r"^\s*(?:firmware\s+)?all\s+versions?\s*$", re.I)
# "All versions up to V2.24.10P1", "up to and including X" (ZTE), "Ver. 1.02 and earlier",
# "1.3 or earlier", "X and prior" (Buffalo, JVN style): a range ending at X, X included
_UP_TO = re.compile(
    r"^\s*(?:(?:firmware\s+)?(?:all\s+)?(?:versions?\s+)?up\s+to\s+(?:and\s+including\s+)?"
    r"['\"]?(?P<a>\S.*?)['\"]?|['\"]?(?P<b>\S.*?)['\"]?,?\s+(?:and|or)\s+(?:earlier|prior|"
    r"before|older|lower)(?:\s+versions?)?)\s*$", re.I)
_THROUGH = re.compile(
    r"^\s*(?:firmware\s+)?(?:versions?\s+)?(?:from\s+)?(?P<a>\S.*?)\s+(?:through|thru)\s+"
    r"(?P<b>\S.*?)\s*$", re.I)
_UNKNOWN = {"", "n/a", "na", "-", "*", "unspecified", "unknown", "none"}
_OPEN_START = {"", "0", "-", "*", "n/a", "earlier", "all", "prior", "unspecified", "none", "<"}
_REVISION = re.compile(r"v?\d{1,2}(?:\.0)?", re.I)  # "v6", "V2", "8.0": a hardware revision
_VCS_TYPES = frozenset({"git", "hg", "svn", "mercurial", "cvs", "commit"})
_DOTTED = re.compile(r"\d+(?:\.\d+)*")
_LEVEL: dict[str, Level] = {"affected": Level.YES, "unaffected": Level.NO, "unknown": Level.MAYBE}


def _status(text: Any, default: Status = "affected") -> Status:
    s = str(text or "").strip().lower()
    if s in ("affected", "unaffected", "unknown"):
        return s  # type: ignore[return-value]
    return default


@dataclass(frozen=True, slots=True)
class Cve5Version:
    """One item of ``versions[]``."""

    kind: VKind
    status: Status
    version: str | None = None  # exact version, or the range start (None = from the first)
    end: str | None = None  # range end; "2.*" ends the 2.x series
    end_inclusive: bool = False
    text: str = ""  # as written, for explanations
    changes: tuple[tuple[str, Status], ...] = ()  # (at, status) as written
    version_type: str = ""

    @property
    def affected(self) -> bool:
        return self.status == "affected"


@dataclass(frozen=True, slots=True)
class Cve5Entry:
    origin: str  # "CNA" or "ADP"
    vendor: str | None  # vendor key
    product: str  # as written
    refs: tuple[tuple[str, ProductRef], ...]  # (vendor key, product) from text and ADP cpes
    hardware: tuple[str, ...]  # revisions from h: cpes' version fields
    versions: tuple[Cve5Version, ...]
    default: Status  # defaultStatus ("unknown" when omitted)
    default_given: bool = True

    @property
    def default_unaffected(self) -> bool:
        return self.default == "unaffected"


@dataclass(frozen=True, slots=True)
class Cve5Result:
    level: Level
    note: str
    fixed_in: str | None = None


def _changes(raw: Any) -> tuple[tuple[str, Status], ...]:
    out = []
    for c in raw or ():
        if isinstance(c, dict) and str(c.get("at") or "").strip():
            out.append((str(c["at"]).strip(), _status(c.get("status"), "unknown")))
    return tuple(out)


def _version(raw: dict[str, Any]) -> Cve5Version:
    status = _status(raw.get("status"))
    vtype = str(raw.get("versionType") or "").strip().lower()
    changes = _changes(raw.get("changes"))
    v = str(raw.get("version") or "").strip()
    lt, lte = raw.get("lessThan"), raw.get("lessThanOrEqual")
    has_lt = lt not in (None, "")
    end = lt if has_lt else lte
    if end not in (None, ""):
        end_s = str(end).strip()
        # a start written as words ("All versions up to V2.24.10P1" with lessThan V2.24.10P1,
        # CVE-2024-22069) says "from the first version", like "0"
        start = (None if v.lower() in _OPEN_START or _ALL.match(v) or _UP_TO.match(v)
                 or _PRIOR.match(v) else v)
        text = f"{v or '0'} to {'<' if has_lt else '<='} {end_s}"
        if end_s == "*":
            return Cve5Version("all" if start is None else "range", status, start, None,
                               text=text, changes=changes, version_type=vtype)
        return Cve5Version("range", status, start, end_s, not has_lt, text, changes, vtype)
    if _ALL.match(v):
        return Cve5Version("all", status, text=v, changes=changes, version_type=vtype)
    t = _THROUGH.match(v)
    if t:  # "4.16 through 5.36 Patch 2": both ends included
        return Cve5Version("range", status, t.group("a").strip(), t.group("b").strip(), True, v,
                           changes, vtype)
    u = _UP_TO.match(v)
    if u:
        end_text = (u.group("a") or u.group("b")).strip()
        return Cve5Version("range", status, None, end_text, True, v, changes, vtype)
    m = _PRIOR.match(v)
    if m:
        return Cve5Version("range", status, None, m.group("v").strip(), False, v, changes, vtype)
    if v.lower() in _UNKNOWN:
        return Cve5Version("unknown", status, text=v or "unspecified", version_type=vtype)
    return Cve5Version("exact", status, v, text=v, version_type=vtype)


def _entry(raw: dict[str, Any], origin: str, rules: AliasRules) -> Cve5Entry | None:
    vk = vendor_key(str(raw.get("vendor") or ""))
    product = str(raw.get("product") or "").strip()
    refs: list[tuple[str, ProductRef]] = []
    if vk is not None:
        for part in free_text_parts(product):
            ref = rules.product(vk, part, free_text=True)
            if ref is not None and ref.generic is None:
                refs.append((vk, ref))
    hardware: list[str] = []
    revisions: set[str] = set()
    for text in raw.get("cpes") or ():
        try:
            cpe = parse_cpe(str(text))
        except CpeError:
            continue
        cvk = vendor_key(cpe.vendor)
        ref = rules.product(cvk, cpe.product) if cvk else None
        if cvk is None or ref is None or ref.generic is not None:
            continue
        refs.append((cvk, ref))
        # CISA's ADP puts either the hardware revision ("tl-wr941nd:v6") or the firmware
        # version ("tl-7dr5130:1.0.23") in an h: CPE's version: only the first is a revision.
        if cpe.part == "h" and _REVISION.fullmatch(cpe.version):
            rev = norm_hardware(cpe.version)
            if rev:
                hardware.append(rev)
                revisions.add(cpe.version.lower())
    if not refs:
        return None
    versions = tuple(
        # a "version" that only repeats the hardware revision: every firmware of that revision
        Cve5Version("all", _status(v.get("status")),
                    text=f"hardware {v.get('version')}, all versions")
        if str(v.get("version") or "").strip().lower() in revisions and "lessThan" not in v
        and "lessThanOrEqual" not in v else _version(v)
        for v in raw.get("versions") or () if isinstance(v, dict)
    )
    given = raw.get("defaultStatus") not in (None, "")
    return Cve5Entry(
        origin=origin,
        vendor=vk,
        product=product or refs[0][1].name,
        refs=tuple(refs),
        hardware=tuple(hardware),
        versions=versions,
        default=_status(raw.get("defaultStatus"), "unknown"),
        default_given=given,
    )


def compile_affected(raw: Iterable[Any], rules: AliasRules, cna_count: int | None = None
                     ) -> tuple[Cve5Entry, ...]:
    """Compile ``CveRecord.cve5_affected`` (CNA entries first, then ADP ones).

    ``cna_count``, when known, says how many leading entries came from the CNA; otherwise
    entries carrying ``cpes`` are taken for ADP ones (CISA's ADP adds them, CNAs rarely do).
    """
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            continue
        if cna_count is not None:
            origin = "CNA" if i < cna_count else "ADP"
        else:
            origin = "ADP" if item.get("cpes") else "CNA"
        entry = _entry(item, origin, rules)
        if entry is not None:
            out.append(entry)
    return tuple(out)


def _matches(entry: Cve5Entry, dev: DeviceView) -> tuple[Level, str] | None:
    """Whether the entry names the device: (YES or MAYBE for hardware doubts, note) or None."""
    best: tuple[Level, str] | None = None
    for vk, ref in entry.refs:
        if vk != dev.vendor or not (ref.keys & dev.keys):
            continue
        revs = ([norm_hardware(ref.hardware)] if ref.hardware else []) + list(entry.hardware)
        level, note = Level.YES, ""
        for rev in revs:
            if rev is None:
                continue
            if dev.hardware is None:
                level, note = Level.MAYBE, f"; names hardware v{rev}, device revision unknown"
                continue
            ok = hardware_matches(rev, dev.hardware)
            if ok is False:
                level = Level.NO
                break
            if ok is None:
                level = Level.MAYBE
                note = f"; names hardware v{rev}, device reports v{dev.hardware}"
        if level is Level.NO:
            continue
        if best is None or level > best[0]:
            best = (level, note)
    return best


# --------------------------------------------------------------------------- version status


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class _Cmp:
    """Comparisons of one device firmware against the record's versions (vendor scheme)."""

    def __init__(self, cache: VersionCache, vendor: str | None) -> None:
        self.cache = cache
        self.vendor = vendor

    def __call__(self, a: str, b: str) -> int | None:
        if _same_text(a, b):  # the very string the record lists, whatever the scheme reads
            return 0
        return self.cache.compare(self.vendor, a, b)

    def below_end(self, fw: str, end: str, inclusive: bool) -> bool | None:
        """fw < end (<= when inclusive); "2.*" = up to the end of the 2.x series."""
        if end.endswith(".*"):
            return self._series_at_most(fw, end[:-2])
        r = self(fw, end)
        if r is None:
            return None
        return r <= 0 if inclusive else r < 0

    def _series_at_most(self, fw: str, prefix: str) -> bool | None:
        a = parse_version(self.vendor, fw)
        if not _DOTTED.fullmatch(prefix.strip()) or a is None or not a.release:
            return None
        series = tuple(int(p) for p in prefix.strip().split("."))
        return a.release[: len(series)] <= series


def _in(v: Cve5Version, fw: str, cmp: _Cmp) -> bool | None:
    """Whether firmware ``fw`` is matched by the version item (None = cannot tell)."""
    if v.version_type in _VCS_TYPES and v.kind in ("exact", "range"):
        return None
    if v.kind == "all":
        return True
    if v.kind == "unknown":
        return None
    if v.kind == "exact":
        assert v.version is not None
        r = cmp(fw, v.version)
        return None if r is None else r == 0
    if v.version is not None:
        r = cmp(fw, v.version)
        if r is None:
            return None
        if r < 0:
            return False
    if v.end is not None:
        return cmp.below_end(fw, v.end, v.end_inclusive)
    return True


def _empty_range(v: Cve5Version, cmp: _Cmp) -> bool:
    """A range whose start lies after its end (or at an excluded end): it matches nothing."""
    if v.kind != "range" or v.version is None or v.end is None or v.end.endswith("*"):
        return False
    r = cmp(v.version, v.end)
    return r is not None and (r > 0 or (r == 0 and not v.end_inclusive))


def _with_changes(v: Cve5Version, fw: str, cmp: _Cmp) -> tuple[Status | None, str, str | None]:
    """(status at fw after changes[], note, version where it stops being affected).

    A status of None: a change could not be compared with the firmware."""
    status: Status = v.status
    steps: list[tuple[str, Status]] = []
    for at, st in v.changes:
        r = cmp(fw, at)
        if r is None:
            return None, f"change at {at!r} not comparable with {fw}", None
        steps.append((at, st))
        if r >= 0:
            status = st
    fixed = None
    if status == "affected":
        later = [at for at, st in steps if st == "unaffected" and (cmp(fw, at) or 0) < 0]
        if later:
            fixed = min(later, key=lambda a: _SortKey(a, cmp))
        elif v.kind == "range" and v.end is not None and not v.end.endswith("*"):
            fixed = f"later than {v.end}" if v.end_inclusive else v.end
    note = ""
    if v.changes:
        note = f" (status {status} from changes[] of {v.text})"
    return status, note, fixed


class _SortKey:
    __slots__ = ("cmp", "text")

    def __init__(self, text: str, cmp: _Cmp) -> None:
        self.text, self.cmp = text, cmp

    def __lt__(self, other: _SortKey) -> bool:
        return (self.cmp(self.text, other.text) or 0) < 0


def _past_fix(entry: Cve5Entry, fw: str, cmp: _Cmp) -> Cve5Version | None:
    """The affected ``lessThan`` range whose end (the fix) ``fw`` has reached, if any."""
    for v in entry.versions:
        if (v.affected and v.kind == "range" and v.end is not None and not v.end_inclusive
                and not v.end.endswith("*") and not v.changes):
            r = cmp(fw, v.end)
            if r is not None and r >= 0:
                return v
    return None


def _fixed(v: Cve5Version) -> str | None:
    if v.kind != "range" or v.end is None or v.end.endswith("*"):
        return None
    return f"later than {v.end}" if v.end_inclusive else v.end


def _unknown_firmware(entry: Cve5Entry) -> tuple[Level, str, str | None, int]:
    affected = [v for v in entry.versions if v.status != "unaffected"]
    every = [v for v in affected if v.kind == "all" and v.affected and not v.changes]
    if every:
        return Level.YES, f"affected: {every[0].text}", None, 2
    if entry.default == "affected" and not any(
            not v.affected for v in entry.versions):
        return Level.YES, "defaultStatus affected: every version not listed otherwise", None, 2
    if not affected and entry.default == "unaffected":
        return Level.NO, "no affected versions listed (defaultStatus unaffected)", None, 2
    if affected:
        v = affected[0]
        what = f"affected {v.text}" if v.affected else f"status unknown for {v.text}"
        return Level.MAYBE, f"{what}; device firmware unknown", _fixed(v), 0
    return Level.MAYBE, (f"defaultStatus {entry.default}, versions not listed; device "
                         "firmware unknown"), None, 0


def _judge(entry: Cve5Entry, dev: DeviceView, cmp: _Cmp,
           unspecified_all: bool) -> tuple[Level, str, str | None, int]:
    """(level, note, fixed in, certainty): 2 = the data decides (a listed version or range,
    an explicit defaultStatus of affected/unaffected), 1 = the record's status is "unknown"
    (defaultStatus unknown or omitted), 0 = not comparable or a data problem."""
    problems = [f"empty range {v.text}" for v in entry.versions if _empty_range(v, cmp)]
    if not entry.versions and not entry.default_given:
        problems.append("no versions and no defaultStatus")
    if unspecified_all:
        for v in entry.versions:
            if v.kind == "unknown" and v.affected:
                return (Level.YES, f"affected: version {v.text!r} and the description names "
                        "no firmware version: all versions", None, 2)
    fw = dev.firmware
    if fw is None:
        level, note, fixed, decided = _unknown_firmware(entry)
        if problems and level is not Level.NO:
            note += "; data problem: " + ", ".join(problems)
        return level, note, fixed, decided
    hits: list[tuple[Status, str, str | None]] = []
    blind: list[Cve5Version] = []
    for v in entry.versions:
        if _empty_range(v, cmp):
            continue
        inside = _in(v, fw, cmp)
        if inside is None:
            blind.append(v)
        elif inside:
            status, note, fixed = _with_changes(v, fw, cmp)
            if status is None:
                blind.append(v)
                problems.append(note)
                continue
            verbs = {"affected": "is the affected" if v.kind == "exact" else "is within affected",
                     "unaffected": "is listed unaffected:", "unknown": "has status unknown:"}
            text = (f"firmware {fw} {verbs[status]} {v.text}" if not note
                    else f"firmware {fw} is within {v.text}{note}")
            hits.append((status, text, fixed))
    statuses = {h[0] for h in hits}
    if len(statuses) > 1:
        listed = "; ".join(h[1] for h in hits)
        return (Level.MAYBE, f"{listed}; data problem: contradictory entries match {fw}",
                None, 0)
    suffix = "; data problem: " + ", ".join(problems) if problems else ""
    if hits:
        status, text, fixed = hits[0]
        level = _LEVEL[status]
        if problems and level is Level.YES:
            level = Level.MAYBE
        return level, text + suffix, fixed if status == "affected" else None, 2
    if blind:
        v = blind[0]
        why = (f"versionType {v.version_type} names commits" if v.version_type in _VCS_TYPES
               else "not comparable")
        return (Level.MAYBE, f"firmware {fw} vs {v.text}: {why}{suffix}", _fixed(v)
                if v.affected else None, 0)
    # No listed version matches: defaultStatus decides, except on the fixed side of a
    # ``lessThan`` range (the schema: lessThan names "the least version NOT in the range",
    # the form used to name the version that introduced the fix).
    listed = ", ".join(v.text for v in entry.versions[:3]) or "no versions"
    fix = _past_fix(entry, fw, cmp)
    if entry.default != "affected" and fix is not None and not problems:
        return (Level.NO, f"firmware {fw} is at or after {fix.end}, the fix of affected "
                f"{fix.text} (lessThan)", None, 2)
    if entry.default == "unknown":
        what = "defaultStatus unknown" if entry.default_given else "no defaultStatus (unknown)"
        level = Level.MAYBE
        decided = 0 if problems else 1
        note = f"firmware {fw} is not listed ({listed}); {what}"
    else:
        level = _LEVEL[entry.default]
        decided = 0 if problems else 2
        note = f"firmware {fw} is not listed ({listed}); defaultStatus {entry.default}"
        if problems:  # a broken range may have meant this version: neither yes nor no
            level = Level.MAYBE
    return level, note + suffix, None, decided


def evaluate_affected(entries: Iterable[Cve5Entry], dev: DeviceView, cache: VersionCache,
                      vendor: str | None, unspecified_all: bool = False) -> Cve5Result | None:
    """The verdict of the entries naming the device; None when no entry names it.

    Entries whose data decide (a listed version or range matches, or an explicit
    defaultStatus) outrank those that leave the status unknown, which outrank those that could
    not be compared (a CNA's clear "1.1.3 Build 20221125" beats an ADP range ending at the typo
    "3230219"). An entry found only in ADP data while the CNA named other products (CISA
    sometimes adds a neighbouring model) counts as possible at most. At equal footing the
    CNA's (the vendor's) outrank the ADP's. ``unspecified_all``: a version given as "n/a" or
    "-" means every version (the caller found no firmware version in the description).
    """
    entries = tuple(entries)
    cmp = _Cmp(cache, vendor)
    named = [e for e in entries if _matches(e, dev) is not None]
    if any(v.kind in ("exact", "range") for e in named for v in e.versions if v.affected):
        unspecified_all = False  # some entry gives versions: "-" elsewhere is no "every version"
    results: list[tuple[int, Level, str, str | None]] = []
    cna_named_others = False
    cna_matched = False
    for entry in entries:
        m = _matches(entry, dev)
        if entry.origin == "CNA":
            if m is None:
                cna_named_others = True
            else:
                cna_matched = True
        if m is None:
            continue
        hw_level, hw_note = m
        level, note, fixed, decided = _judge(entry, dev, cmp, unspecified_all)
        level = min(level, hw_level)
        text = f"CVE 5 ({entry.origin}) {entry.product}: {note}{hw_note if level else ''}"
        if entry.origin == "ADP" and level is Level.YES and cna_named_others and not cna_matched:
            level = Level.MAYBE
            text += "; only CISA's ADP data names this model"
        # decided CNA > decided ADP > unknown-status CNA > unknown-status ADP > not comparable
        weight = decided * 2 + (entry.origin == "CNA") if decided else 0
        results.append((weight, level, text, fixed if level else None))
    if not results:
        return None
    top = max(r[0] for r in results)
    _w, level, text, fixed = max((r for r in results if r[0] == top), key=lambda r: r[1])
    return Cve5Result(level, text, fixed)
