"""Zyxel firmware versions.

Form: ``V5.21(ABUJ.1)C0`` = release 5.21, model code ABUJ (the firmware family, one per model),
patch 1, then ``C0``: release counter 0. Betas end in ``b<n>`` instead (``V5.50(ABVY.3)b5``).
NVD writes the same lower-case with CPE escapes: ``2.50\\(aazi.0\\)c0``. ``5.21`` alone is a
release without the rest.

Ordering: release, then patch, then the tail (b<n> beta < C<n> release, each by number). The model
code is a gate: versions of two different codes never compare (None), because they are firmware
of different models. Unknown tails (anything but b<n>/C<n>) are not understood (None).
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

SCHEME = "zyxel"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)\s*"
    r"(?:\((?P<code>[a-z0-9]{4})\.(?P<patch>\d+)\))?\s*"
    r"(?:(?P<tail>[bc])(?P<n>\d+))?"
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
        build=int(m.group("patch")) if m.group("patch") else None,
        stage=(m.group("tail") + m.group("n")) if m.group("tail") else None,
        code=m.group("code").upper() if m.group("code") else None,
        text=text,
    )


def format(v: FirmwareVersion) -> str:
    if not v.release:
        return date8(v.build_date) if v.build_date else ""
    text = "V" + dotted(v.release)
    if v.code is not None:
        text += f"({v.code}.{v.build if v.build is not None else 0})"
    if v.stage:
        text += v.stage[0].upper() + v.stage[1:] if v.stage[0] == "c" else v.stage
    return text


register_formatter(SCHEME, format)
