"""Generic versions: the fallback for vendors without a scheme of their own.

Strict forms first: ``1.2.0.10`` (numeric parts: 1.2.0.10 > 1.2.0.9), ``v2.0.9``, ``1.0_2``
("_" read as "."), ``7.0.2.38b`` / ``1.6.18p12`` (a letter tail on the last part is a later
patch), a stage word after the release (``2.0b`` is a patch, ``2.0-beta3``, ``2.0rc1``,
``2.0.9-hotfix.7`` are stages: alpha < beta < rc < final < hotfix), ``... build 6``, and
date-only strings (``20240710``, ``230506``, ``2017-01-06``).

Then a tolerant reading, so that what can be ordered is ordered: the text holds exactly one
dotted number of two or more parts (the release), optionally words around it (a product or
platform name, a flavour: ``Firmware V2.3.1 (EU)``, ``fw_3.2.1_release``), a build number written
``build N`` / ``bN`` / ``(N)`` / ``rN`` right after it and a build date of 8 digits. The words are
kept in ``suffix`` and do not order. Text with no dotted number, or with two of them
(``R.47.0.0 AutoCAD 2021 & R.47.0.0 AutoCAD LT``: which one is the version?), is truly not
comparable: None.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    clean_or_date,
    dotted,
    parse_date,
    parse_with,
    release_formatter,
)

SCHEME = "generic"

_FORM = re.compile(
    r"(?:v|ver\.?\s*|version\s+)?(?P<rel>\d+(?:[._]\d+)*)"
    r"(?P<patch>[a-z]\d*)??"
    r"(?:[ ._-]?(?P<stage>alpha|beta|rc|pre|hotfix)[ ._-]?(?P<n>\d*))?"
    r"(?:[ ._-]*\(?build[ ._-]*(?P<build>\d+)\)?)?"
)
_DOTTED = re.compile(r"(?<![\d.])v?(\d+(?:\.\d+)+)(?![\d.]*\d)")
_AFTER = re.compile(r"\s*(?:[ _-]?(?:build|b|r|rel\.?)[ ._-]?(\d+)|\((\d+)\))")
_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


def _tolerant(text: str) -> FirmwareVersion | None:
    s = clean_or_date(SCHEME, text)
    if not isinstance(s, str):
        return s
    found = list(_DOTTED.finditer(s))
    if len(found) != 1:
        return None
    m = found[0]
    release = tuple(int(p) for p in m.group(1).split("."))
    rest = s[m.end():]
    build = None
    after = _AFTER.match(rest)
    if after:
        build = int(after.group(1) or after.group(2))
        rest = rest[after.end():]
    build_date = None
    d = _DATE.search(rest)
    if d:
        build_date = parse_date(d.group(1))
        if build_date is not None:
            rest = rest[: d.start()] + rest[d.end():]
    words = " ".join((s[: m.start()] + " " + rest).replace("_", " ").split()).strip(" -.,")
    return FirmwareVersion(SCHEME, release=release, build=build, build_date=build_date,
                           suffix=words or None, text=text)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text) or _tolerant(text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = dotted(v.release) + (v.patch or "")
    if v.stage:
        text += "-" + v.stage
    if v.build is not None:
        text += f" build {v.build}"
    if v.build_date is not None:
        text += f" {v.build_date:%Y%m%d}"
    return text
