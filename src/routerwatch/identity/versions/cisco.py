"""Cisco small-business router firmware versions (RV series).

Forms: ``1.0.03.24``, ``v1.0.03.21``, ``1.4.2.22``, ``4.2.3.14-tm`` (a label after "-" is kept in
``suffix``, not ordered). Parts compare numerically (1.0.03.24 == 1.0.3.24 < 1.0.3.100).
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

SCHEME = "cisco"

_FORM = re.compile(r"v?(?P<rel>\d+(?:\.\d+)+)(?:[-_ ](?P<label>[a-z][a-z0-9.]*))?")


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
    return FirmwareVersion(SCHEME, release=ints(m.group("rel")), suffix=m.group("label"), text=text)


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    return dotted(v.release)


register_formatter(SCHEME, format)
