"""ASUS firmware versions (ASUSWRT and older ASUS router firmware).

Modern ASUSWRT: ``3.0.0.4.386_51529`` = fixed prefix 3.0.0.4, branch 386, build 51529. NVD and
CVE 5 also write ``3.0.0.4_386_51529``, ``3.0.0.4.386.51529``, ``v3.0.0.4.386.51598`` and add a
git id (``3.0.0.4.388_22525-gd35b8fe``, kept in ``suffix``, not ordered). ``3.0.0.4.374.x``
means "any build of branch 374" (no build level). ExpertWiFi uses the same shape with 3.0.0.6.
Ordering: release (3.0.0.4.386) then build (51529); ``3.0.0.4.386`` compares equal to every
386 build (shared precision).

Older firmware: ``2.0.0.25``, ``1.1.2.3_792`` (DSL: build after ``_``), ``1.0.1.4o`` and
``7.0.2.38b`` (a letter after the last number is a later patch: 1.0.1.4 < 1.0.1.4o < 1.0.1.5).

Not understood (None): strings that start like the modern form but do not fit it
(``3.0.0.376.3715``, a typo in CVE-2014-7269 that would otherwise be read as release 376),
leading junk (``*3.0.0.4.380.8591``).
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    clean_or_date,
    dotted,
    ints,
    release_formatter,
)

SCHEME = "asus"

_GIT = re.compile(r"-g([0-9a-f]{6,40})$")
_MODERN = re.compile(r"(?P<p>\d)\.0\.0\.(?P<q>\d)[._]+(?P<branch>\d{3})(?:[._]+(?P<build>\d+|x))?")
_OLD = re.compile(r"(?P<rel>\d+(?:\.\d+)*)(?P<patch>[a-z]+\d*)?(?:_(?P<build>\d+))?")


def parse(text: str) -> FirmwareVersion | None:
    s = clean_or_date(SCHEME, text)
    if not isinstance(s, str):
        return s
    s = re.sub(r"^v(?=\d)", "", s)
    s = re.sub(r"\.{2,}", ".", s)  # "3.0.0.4..374_979"
    suffix = None
    g = _GIT.search(s)
    if g:
        suffix, s = "g" + g.group(1), s[: g.start()]
    m = _MODERN.fullmatch(s)
    if m:
        build = m.group("build")
        return FirmwareVersion(
            SCHEME,
            release=(int(m.group("p")), 0, 0, int(m.group("q")), int(m.group("branch"))),
            build=int(build) if build and build != "x" else None,
            suffix=suffix,
            text=text,
        )
    if re.match(r"\d\.0\.0\.\d{2,}[._]\d", s):  # modern prefix, broken shape
        return None
    m = _OLD.fullmatch(s)
    if m is None:
        return None
    return FirmwareVersion(
        SCHEME,
        release=ints(m.group("rel")),
        patch=m.group("patch"),
        build=int(m.group("build")) if m.group("build") else None,
        suffix=suffix,
        text=text,
    )


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = dotted(v.release) + (v.patch or "")
    if v.build is not None:
        text += f"_{v.build}"
    return text
