"""D-Link firmware versions.

Forms read: ``1.04B12`` (release 1.04, build 12; D-Link's "B" counts builds of a release, betas
included), ``v1.04b12``, ``2.11NA``, ``1.14WW``, ``2.00W``, ``1.05B03WW`` (a trailing region code:
WW = worldwide, NA = North America, EU, ... kept in ``region``, never ordered), ``1.10B04_Beta``,
``1.02B06 Hotfix`` (stage words), date-only strings, and the dotless ``105b03`` CISA's ADP
writes for 1.05B03 (CVE-2023-25280: three digits, then a B build, nothing else).

Ordering: release (1.04 < 1.10 < 1.14, numeric), then the B build (1.04B12 < 1.04B13 < 1.05),
then the stage (Beta < final < Hotfix). A bound without a build (``1.04``) compares on the release
only, so ``1.04`` equals ``1.04B12``. Region builds with the same numbers compare equal: D-Link
ships one code base per version number and the matcher should not tell WW from NA by version.
"""

from __future__ import annotations

import re
from typing import Any

from routerwatch.identity.versions._base import FirmwareVersion, parse_with, release_formatter

SCHEME = "dlink"

_FORM = re.compile(
    r"(?:v|ver\.?\s*|fw\s*)?(?P<rel>\d+\.\d+(?:\.\d+)?)"
    r"(?:[ ._-]?b(?P<build>\d+))?"
    r"(?:[ ._-]?(?P<region>[a-z]{1,3}))??"
    r"(?:[ ._-]*\(?(?P<stage>beta|hotfix|hf|rc)(?P<n>\d*)\)?)?"
)


_COMPACT = re.compile(r"v?(?P<major>\d)(?P<minor>\d\d)b(?P<build>\d\d)")


def _compact(m: re.Match[str]) -> dict[str, Any]:
    return {"release": (int(m.group("major")), int(m.group("minor"))),
            "build": int(m.group("build"))}


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text) or parse_with(SCHEME, _COMPACT, text, _compact)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    major, *rest = v.release
    text = f"{major}." + ".".join(f"{p:02d}" if i == 0 else str(p) for i, p in enumerate(rest))
    if v.build is not None:
        text += f"B{v.build:02d}"
    if v.region:
        text += v.region
    if v.stage:
        text += "_" + v.stage.capitalize()
    return text
