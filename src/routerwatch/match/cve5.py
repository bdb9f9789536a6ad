"""The CVE 5 fallback: ``affected`` entries of the CNA and ADP containers.

Used only for CVEs whose NVD record has no configurations yet (Received / Awaiting Analysis).
CVE 5 names products in free text ("Archer AX21(AX1800)", "RT-AX56U V2") and versions in
whatever the CNA wrote, so the rules are conservative:

* ``version`` + ``lessThan``/``lessThanOrEqual``: a range (``0``, ``-`` or empty start = from
  the first version; ``*`` end = no end). Inside = affected, outside = not affected.
* ``"firmware versions prior to 'X'"``, ``"before X"``: a range ending at X.
* ``"all versions"``: every version is affected.
* a single ``version``: that version is affected; an older firmware is "possible" (CVE 5 gives
  no lower bound and the flaw is usually older than the version tested), a newer one is not
  reported (usually the fix, and CVE 5 does not say otherwise).
* ``n/a``, ``-``, ``unspecified`` or a comparison that fails: possible.
* ``status: unaffected`` items and ``defaultStatus: unaffected`` exclude what they cover.
Device firmware unknown: at most possible. Every finding is marked ``source="cve5"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from routerwatch.match.aliases import AliasRules, ProductRef, free_text_parts, vendor_key
from routerwatch.match.compare import VersionCache, hardware_matches, norm_hardware
from routerwatch.match.cpe import CpeError, parse_cpe
from routerwatch.match.evaluator import DeviceView, Level

__all__ = ["Cve5Entry", "Cve5Result", "Cve5Version", "compile_affected", "evaluate_affected"]

VKind = Literal["exact", "range", "all", "unknown"]

_PRIOR = re.compile(
    r"""^\s*(?:firmware\s+)?(?:versions?\s+)?(?:prior\s+to|before|earlier\s+than|<)\s*
        ['"]?(?P<v>.+?)['"]?\s*$""",
    re.I | re.X,
)
_ALL = re.compile(r"^\s*(?:firmware\s+)?all\s+versions?\s*$", re.I)
_UNKNOWN = {"", "n/a", "na", "-", "*", "unspecified", "unknown", "none"}
_OPEN_START = {"", "0", "-", "*", "n/a", "earlier", "all", "prior", "unspecified", "none", "<"}
_REVISION = re.compile(r"v?\d{1,2}(?:\.0)?", re.I)  # "v6", "V2", "8.0": a hardware revision


@dataclass(frozen=True, slots=True)
class Cve5Version:
    kind: VKind
    affected: bool  # status "affected" (else "unaffected")
    version: str | None = None  # exact version, or the range start (None = from the first)
    end: str | None = None
    end_inclusive: bool = False
    text: str = ""  # as written, for explanations


@dataclass(frozen=True, slots=True)
class Cve5Entry:
    origin: str  # "CNA" or "ADP"
    vendor: str | None  # vendor key
    product: str  # as written
    refs: tuple[tuple[str, ProductRef], ...]  # (vendor key, product) from text and ADP cpes
    hardware: tuple[str, ...]  # revisions from h: cpes' version fields
    versions: tuple[Cve5Version, ...]
    default_unaffected: bool


@dataclass(frozen=True, slots=True)
class Cve5Result:
    level: Level
    note: str
    fixed_in: str | None = None


def _version(raw: dict[str, Any]) -> Cve5Version:
    affected = str(raw.get("status", "affected")).lower() != "unaffected"
    v = str(raw.get("version") or "").strip()
    lt, lte = raw.get("lessThan"), raw.get("lessThanOrEqual")
    end = lt if lt not in (None, "") else lte
    if end is not None:
        end_s = str(end).strip()
        start = None if v.lower() in _OPEN_START else v
        text = f"{v or '0'} to {'<' if lt not in (None, '') else '<='} {end_s}"
        if end_s in ("*", ""):
            return Cve5Version("all" if start is None else "range", affected, start, None,
                               text=text)
        return Cve5Version("range", affected, start, end_s, lte is not None and lt in (None, ""),
                           text)
    if _ALL.match(v):
        return Cve5Version("all", affected, text=v)
    m = _PRIOR.match(v)
    if m:
        return Cve5Version("range", affected, None, m.group("v").strip(), False, v)
    if v.lower() in _UNKNOWN:
        return Cve5Version("unknown", affected, text=v or "unspecified")
    return Cve5Version("exact", affected, v, text=v)


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
        Cve5Version("all", str(v.get("status", "affected")).lower() != "unaffected",
                    text=f"hardware {v.get('version')}, all versions")
        if str(v.get("version") or "").strip().lower() in revisions and "lessThan" not in v
        and "lessThanOrEqual" not in v else _version(v)
        for v in raw.get("versions") or () if isinstance(v, dict)
    )
    return Cve5Entry(
        origin=origin,
        vendor=vk,
        product=product or refs[0][1].name,
        refs=tuple(refs),
        hardware=tuple(hardware),
        versions=versions,
        default_unaffected=str(raw.get("defaultStatus", "")).lower() == "unaffected",
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


def _in(v: Cve5Version, fw: str, cmp: VersionCache, vendor: str | None) -> bool | None:
    """Whether firmware ``fw`` is inside the version item (None = cannot tell)."""
    if v.kind == "all":
        return True
    if v.kind == "unknown":
        return None
    if v.kind == "exact":
        assert v.version is not None
        r = cmp.compare(vendor, fw, v.version)
        return None if r is None else r == 0
    if v.version is not None:
        r = cmp.compare(vendor, fw, v.version)
        if r is None:
            return None
        if r < 0:
            return False
    if v.end is not None:
        r = cmp.compare(vendor, fw, v.end)
        if r is None:
            return None
        return r <= 0 if v.end_inclusive else r < 0
    return True


def _fixed(v: Cve5Version) -> str | None:
    if v.kind != "range" or v.end is None:
        return None
    return f"later than {v.end}" if v.end_inclusive else v.end


def _judge(entry: Cve5Entry, dev: DeviceView, cmp: VersionCache, vendor: str | None,
           unspecified_all: bool) -> tuple[Level, str, str | None, int]:
    """(level, note, fixed in, certainty): 2 = the data decides (a range, the very version,
    all versions), 1 = the older/newer-than-one-listed-version rule, 0 = not comparable."""
    fw = dev.firmware
    affected = [v for v in entry.versions if v.affected]
    if fw is not None:
        for v in entry.versions:
            if not v.affected and _in(v, fw, cmp, vendor) is True:
                return Level.NO, f"{fw} is listed unaffected ({v.text})", None, 2
    if not affected:
        return Level.NO, "no affected versions listed", None, 2
    best: tuple[Level, str, str | None, int] | None = None
    for v in affected:
        fixed = _fixed(v)
        cand: tuple[Level, str, str | None, int]
        if v.kind == "all":
            cand = (Level.YES, f"affected: {v.text}", None, 2)
        elif v.kind == "unknown" and unspecified_all:
            cand = (Level.YES, f"affected: version {v.text!r} and the description names no "
                    "firmware version: all versions", None, 2)
        elif fw is None:
            cand = (Level.MAYBE, f"affected {v.text}; device firmware unknown", fixed, 0)
        else:
            inside = _in(v, fw, cmp, vendor)
            if inside is True:
                what = "is the affected" if v.kind == "exact" else "is within affected"
                cand = (Level.YES, f"firmware {fw} {what} {v.text}", fixed, 2)
            elif inside is None:
                cand = (Level.MAYBE, f"firmware {fw} vs affected {v.text}: not comparable",
                        fixed, 0)
            elif v.kind == "exact" and not entry.default_unaffected:
                assert v.version is not None
                older = cmp.compare(vendor, fw, v.version)
                if older is not None and older < 0:
                    cand = (Level.MAYBE, f"firmware {fw} is older than affected {v.text}",
                            None, 1)
                else:
                    cand = (Level.NO, f"firmware {fw} is newer than affected {v.text}", None, 1)
            else:
                cand = (Level.NO, f"firmware {fw} is outside affected {v.text}", None, 2)
        if best is None or (cand[3], cand[0]) > (best[3], best[0]):
            best = cand
    assert best is not None
    return best


def evaluate_affected(entries: Iterable[Cve5Entry], dev: DeviceView, cmp: VersionCache,
                      vendor: str | None, unspecified_all: bool = False) -> Cve5Result | None:
    """The verdict of the entries naming the device; None when no entry names it.

    Entries whose versions could be compared with the device's firmware outrank those that
    could not (a CNA's clear "1.1.3 Build 20221125" beats an ADP range ending at the typo
    "3230219"). An entry found only in ADP data while the CNA named other products (CISA
    sometimes adds a neighbouring model) counts as possible at most. Clear results outrank
    rule-of-thumb ones, and at equal footing the CNA's (the vendor's) outrank the ADP's.
    ``unspecified_all``: a version given as "n/a" or "-" means every version (the caller found
    no firmware version in the description).
    """
    entries = tuple(entries)
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
        level, note, fixed, decided = _judge(entry, dev, cmp, vendor, unspecified_all)
        level = min(level, hw_level)
        text = f"CVE 5 ({entry.origin}) {entry.product}: {note}{hw_note if level else ''}"
        if entry.origin == "ADP" and level is Level.YES and cna_named_others and not cna_matched:
            level = Level.MAYBE
            text += "; only CISA's ADP data names this model"
        # clear CNA > clear ADP > rule-of-thumb CNA > rule-of-thumb ADP > not comparable
        weight = decided * 2 + (entry.origin == "CNA") if decided else 0
        results.append((weight, level, text, fixed if level else None))
    if not results:
        return None
    top = max(r[0] for r in results)
    _w, level, text, fixed = max((r for r in results if r[0] == top), key=lambda r: r[1])
    return Cve5Result(level, text, fixed)
