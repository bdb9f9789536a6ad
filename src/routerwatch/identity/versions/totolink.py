"""TOTOLINK firmware versions.

Forms: ``V4.1.2cu.5182_B20201102`` (release 4.1.2, a product-line tag ``cu``/``u``/``cr``, a build
counter 5182, a build date), ``4.1.5cu.748_B20211015``, ``V9.1.0u.6619_B20220224``, the same
without the date (``4.1.2cu.5182``) or without the ``v``, and a bare release (``4.1.2``).

Ordering: release, then build date, then the build counter. The tag names the SDK line, not an
order, and is kept in ``suffix``.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    date8,
    dotted,
    parse_date,
    parse_with,
    release_formatter,
)

SCHEME = "totolink"

_FORM = re.compile(
    r"v?(?P<rel>\d+\.\d+(?:\.\d+)?)"
    r"(?:(?P<label>[a-z]{1,3})\.(?P<build>\d+))?"
    r"(?:[_ -]?b(?P<date>\d{8}))?"
)


def _fields(m: re.Match[str]) -> dict[str, object]:
    fields: dict[str, object] = {"release": tuple(int(p) for p in m.group("rel").split("."))}
    if m.group("build"):
        fields["build"] = int(m.group("build"))
        fields["suffix"] = m.group("label")
    if m.group("date"):
        d = parse_date(m.group("date"))
        if d is None:
            raise _NotADate
        fields["build_date"] = d
    return fields


class _NotADate(ValueError):
    pass


def parse(text: str) -> FirmwareVersion | None:
    try:
        return parse_with(SCHEME, _FORM, text, _fields)
    except _NotADate:
        return None


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = "V" + dotted(v.release)
    if v.build is not None:
        text += f"{v.suffix or 'cu'}.{v.build}"
    if v.build_date is not None:
        text += f"_B{date8(v.build_date)}"
    return text
