"""The two facts the matcher reads from a CVE's description text.

* Whether it names a firmware version at all. NVD writes a firmware CPE's version as ``-``
  when it has none to give; when the description names none either (CVE-2019-6989 "TP-Link
  TL-WR940N is vulnerable to ..."), the CVE concerns every firmware of the product. When the
  description does name versions NVD did not encode, ``-`` stays "possible".
* Which regional firmware it is about: JVN advisories name builds like
  ``'Archer C7(JP)_V2_230602'``; such a CVE is "affected" only for a device known to run that
  region's firmware (TP-Link's "(UN)" universal builds are not regional).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["advisory_regions", "names_firmware_version"]

RegionTag = tuple[str, str]  # (model text as written before the tag, region)

_VERSION = re.compile(
    r"(?<![A-Za-z0-9/.])(?:v?\d+\.\d+(?:\.\d+)*[a-z]?|build\s*\d+|\d{6,8})(?![A-Za-z0-9.])",
    re.I,
)
_REGION = re.compile(
    r"(?:(?P<first>[A-Za-z0-9-]+) )?(?P<last>[A-Za-z0-9-]+)\((?P<region>[A-Z]{2})\)[_ ]?V\d"
)
_NOT_REGIONAL = frozenset({"UN"})


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
