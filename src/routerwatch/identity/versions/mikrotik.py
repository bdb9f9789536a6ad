"""MikroTik RouterOS versions.

Forms: ``6.48.6``, ``7.12.1``, ``6.49beta54``, ``7.1rc3``, ``6.49.10 (long-term)`` (a channel in
parentheses is kept in ``suffix``). Ordering: release, then stage (beta < rc < final), each by
number: 6.49beta54 < 6.49rc1 < 6.49 < 6.49.1.
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

SCHEME = "mikrotik"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)\s*(?:(?P<stage>beta|rc)(?P<n>\d+))?\s*(?:\((?P<ch>[a-z -]+)\))?"
)


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
        stage=(m.group("stage") + m.group("n")) if m.group("stage") else None,
        suffix=m.group("ch"),
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    return dotted(v.release) + (v.stage or "")


register_formatter(SCHEME, format)
