"""The two facts the matcher reads from a CVE's description text.

* Whether it names a firmware version at all. NVD writes a firmware CPE's version as ``-``
  when it has none to give; when the description names none either (CVE-2019-6989 "TP-Link
  TL-WR940N is vulnerable to ..."), the CVE concerns every firmware of the product. When the
  description does name versions NVD did not encode, ``-`` stays "possible".
* Which regional firmware it is about: JVN advisories name builds like
  ``'Archer C7(JP)_V2_230602'``; such a CVE is "affected" only for a device known to run that
  region's firmware (TP-Link's "(UN)" universal builds are not regional).
* Which exact (model, firmware) pairs it names: MITRE-assigned router CVEs are mostly written
  "Netgear EX6120 v1.0.0.68 ... is vulnerable to" or "Tenda AC18 V15.03.05.19 was discovered
  to contain"; a device of that model on exactly that firmware is affected even where the
  structured data only says "possible" (see ``Matcher._judge``). A pair in a fix sentence
  ("fixed in EX6120 1.0.0.70", "upgrade to ...") is not taken.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["advisory_regions", "named_versions", "names_firmware_version", "same_version"]

RegionTag = tuple[str, str]  # (model text as written before the tag, region)

_VERSION = re.compile(
    r"(?<![A-Za-z0-9/.])(?:v?\d+\.\d+(?:\.\d+)*[a-z]?|build\s*\d+|\d{6,8})(?![A-Za-z0-9.])",
    re.I,
)
# Linear on hostile text: matches start only at a word's start (look-behind) and the word
# runs are possessive (Python 3.11+), so a long run of letters and digits cannot backtrack.
_REGION = re.compile(
    r"(?<![A-Za-z0-9-])(?:(?P<first>[A-Za-z0-9-]++) )?(?P<last>[A-Za-z0-9-]++)"
    r"\((?P<region>[A-Z]{2})\)[_ ]?V\d"
)
_NOT_REGIONAL = frozenset({"UN"})
# A model (a word holding a digit, optionally after one more word: "Netgear EX6120",
# "RT-AC51U") right before a dotted version, with "firmware"/"version"/"v" between at most.
_NAMED = re.compile(
    r"(?<![A-Za-z0-9+_.-])(?:(?P<first>[A-Za-z][A-Za-z0-9+-]*+) )?"
    r"(?P<model>(?:\d|[A-Za-z][A-Za-z+_-]*+\d)[A-Za-z0-9+_-]*+)"
    r"(?:\s++(?:firmware|fw))?(?:\s++version)?\s++"
    r"v?(?P<version>\d++(?:[._]\d++)++[A-Za-z0-9._()-]*+(?: build ?\d++)?)",
    re.I,
)
_HAS_LETTER = re.compile(r"[A-Za-z]")
# what makes a named version a fix, not a vulnerable one ("fixed in", "upgrade to", ...)
_FIX_CONTEXT = re.compile(
    r"(?:fix(?:ed|es)?|patch(?:ed)?|resolv(?:ed|es)|address(?:ed|es)|upgrad(?:e|ing)|"
    r"updat(?:e|ing)|newer|later|after|since|from|prior|before|earlier|through|until)\W+"
    r"(?:\w+\W+){0,3}$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
_THEN_VERSION = re.compile(r"\s+(?:firmware\s+)?v?\d+\.\d", re.I)


@lru_cache(maxsize=65536)
def names_firmware_version(text: str) -> bool:
    """True when the text names something that looks like a firmware version or build
    ("1.1.4", "V1.0.4.84", "Build 20230219", "171211"); hardware revisions ("V8") do not count."""
    return _VERSION.search(text or "") is not None


@lru_cache(maxsize=65536)
def advisory_regions(text: str) -> frozenset[RegionTag]:
    """Regional builds the text names, with the model written before each tag:
    "...prior to 'Archer C7(JP)_V2_230602'" -> {("Archer C7", "JP"), ("C7", "JP")} (the model
    may be one or two words; the caller keeps the ones naming its device)."""
    out: set[RegionTag] = set()
    for m in _REGION.finditer(text or ""):
        region = m.group("region")
        if region in _NOT_REGIONAL:
            continue
        out.add((m.group("last"), region))
        if m.group("first"):
            out.add((f"{m.group('first')} {m.group('last')}", region))
    return frozenset(out)


NamedPair = tuple[str, str]  # (model text as written, firmware version as written)


@lru_cache(maxsize=65536)
def named_versions(text: str) -> frozenset[NamedPair]:
    """(model, version) pairs the text names as vulnerable: "Netgear EX6120 v1.0.0.68" ->
    {("EX6120", "1.0.0.68"), ("Netgear EX6120", "1.0.0.68")}. A pair after a fix or range
    word ("fixed in", "before", "prior to", "through") is left out: only exact versions count."""
    out: set[NamedPair] = set()
    text = text or ""
    for m in _NAMED.finditer(text):
        if not _HAS_LETTER.search(m.group("model")):  # "in 2024 1.2.3": no model named
            continue
        if _FIX_CONTEXT.search(text[max(0, m.start() - 40):m.start()]):
            continue
        if _THEN_VERSION.match(text, m.end()):  # "TL-ER5120G 4.0 2.0.0 Build": a revision
            continue
        version = m.group("version").rstrip(".,;:)-")
        out.add((m.group("model"), version))
        if m.group("first"):
            out.add((f"{m.group('first')} {m.group('model')}", version))
    return frozenset(out)


def same_version(a: str, b: str) -> bool:
    """The same firmware written two ways ("V1.0.0.68" and "1.0.0.68", "3.0.0.4.380_8591" and
    "3.0.0.4.380.8591"): the same runs of digits and the same letters after them."""
    def letters(text: str) -> str:
        return re.sub(r"[^a-z]", "", text.lower().lstrip("v"))

    return _DIGITS.findall(a) == _DIGITS.findall(b) and letters(a) == letters(b)
