"""ZTE firmware versions.

Forms: ``V2.0.0P1T2`` (release 2.0.0, patch P1, test/build counter T2), ``V6.0.10P2N8``,
``V1.1.0_T1``, ``V1.0.0B03``, and a firmware name with the model in front (``ZXHN H298A
V1.1.0_T1``, ``BD_MF286RV1.0.0B03``: the model part is dropped), or a bare ``2.0.0``; and the
build-only names of ZTE's MC801A/MC888 5G CPE firmware: ``MC801A_Elisa3_B19`` (model, operator
customisation, build B19; CVE-2023-25643) or the bare ``B19`` the web UI shows (only the build
orders: operator tags are kept in ``suffix``).

Ordering: release, then the P patch number, then the T/N/B counter. The counter's letter is
kept in ``suffix``.
"""

from __future__ import annotations

import re
from typing import Any

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    register_formatter,
    release_formatter,
)

SCHEME = "zte"

_FORM = re.compile(
    r"(?:.*?[ _]|[a-z0-9_]*?(?<=[a-z]))?v?(?P<rel>\d+(?:\.\d+){1,3})"
    r"(?:p(?P<sec>\d+))?(?:[ _]?(?P<label>[tnb])(?P<build>\d+))?"
)


_BUILD_ONLY = re.compile(r"(?:(?P<pre>[a-z0-9]+(?:_[a-z0-9]+)*?)_)?b(?P<build>\d+)")


def _fields(m: re.Match[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"release": tuple(int(p) for p in m.group("rel").split("."))}
    if m.group("sec"):
        fields["secondary"] = (int(m.group("sec")),)
    if m.group("build"):
        fields["build"] = int(m.group("build"))
        fields["suffix"] = m.group("label")
    return fields


def _build_fields(m: re.Match[str]) -> dict[str, Any]:
    return {"build": int(m.group("build")), "suffix": m.group("pre") or "b"}


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields) or parse_with(
        SCHEME, _BUILD_ONLY, text, _build_fields)


@release_formatter(SCHEME)
def _format_release(v: FirmwareVersion) -> str:
    text = "V" + dotted(v.release)
    if v.secondary:
        text += f"P{v.secondary[0]}"
    if v.build is not None:
        text += f"{(v.suffix or 'T').upper()}{v.build}"
    return text


def format(v: FirmwareVersion) -> str:
    if not v.release and v.build is not None and v.build_date is None:  # MC801A_Elisa3_B19
        return f"B{v.build}"
    return _format_release(v)


register_formatter(SCHEME, format)
