"""Tenda firmware versions.

Forms: ``V15.03.20_multi``, ``V15.03.05.19_multi``, ``V16.03.34.09``, ``15.03.06.42_multi``,
the firmware file name ``US_AC15V1.0BR_V15.03.05.19_multi_TD01`` (region and model prefix before
the version, flavour tags after it), and ``2.0.0.7(775)`` / ``V1.0.0.10(3845)`` (a build number in
parentheses, on Tenda's mesh and 4G products).

Ordering: release numbers (15.03.20 = 15.3.20, so 15.03.05.19 < 15.03.20), then the build in
parentheses. Flavour tags (``multi``, ``cn``, ``en``, ``TD01``) are kept in ``suffix`` and do not
order; the model prefix is dropped.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    parse_with,
    release_formatter,
)

SCHEME = "tenda"

_FORM = re.compile(
    r"(?:[a-z0-9.]*?_)*?v?(?P<rel>\d+(?:\.\d+){1,4})"
    r"(?:\s*\((?P<build>\d+)\))?"
    r"(?:[_ -](?P<label>[a-z0-9_]+))?"
)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    major, *rest = v.release
    text = "V" + ".".join([str(major), *(f"{p:02d}" for p in rest)])
    if v.build is not None:
        text += f"({v.build})"
    if v.suffix:
        text += f"_{v.suffix}"
    return text
