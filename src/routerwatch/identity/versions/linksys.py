"""Linksys firmware versions.

Forms: ``1.0.04 build 6``, ``1.0.04 (build 6)``, ``v1.0.04.001``, ``1.1.40.162464`` (the long last
part is part of the release). Ordering: release (numeric: 1.0.04 == 1.0.4), then build number;
``1.0.04`` without a build equals every build of it (shared precision).
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    clean,
    date8,
    date_only,
    dotted,
    ints,
    register_formatter,
)

SCHEME = "linksys"

_FORM = re.compile(r"v?(?P<rel>\d+(?:\.\d+)+)(?:[ ._-]*\(?\s*build[ ._-]*(?P<build>\d+)\s*\)?)?")


def parse(text: str) -> FirmwareVersion | None:
    s = clean(text)
    if s is None:
        return None
    d = date_only(s)
    if d is not None:
        return FirmwareVersion(SCHEME, build_date=d, text=text)
    m = _FORM.fullmatch(s)
    if m is None:
        return None
    return FirmwareVersion(
        SCHEME,
        release=ints(m.group("rel")),
        build=int(m.group("build")) if m.group("build") else None,
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    text = dotted(v.release)
    if v.build is not None:
        text += f" build {v.build}"
    return text


register_formatter(SCHEME, format)
