"""Huawei firmware versions.

Two families, never compared with each other (the ``code`` gate: ``VRP`` vs ``DOT``):

* VRP-style: ``V100R001C01SPC100`` (version 100, release 1, customisation 01, service pack 100),
  ``V200R005C10SPC200SPH001`` (a hot patch on top), ``V300R013C10B120`` (a build). Ordering:
  V, R, C numbers, then the SPC (or B) number, then a hot patch (SPH) after the plain release.
* Dotted: ``9.0.2.20`` (WS/AX routers), ``1.0.0.196(SP7C233)``, ``11.0.2.1(H101SP9C00)``: the
  release numbers, then the service pack number in the parenthesised tail (the rest of the tail
  is kept in ``suffix``).
"""

from __future__ import annotations

import re
from typing import Any

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "huawei"

_FORM = re.compile(
    r"(?:v(?P<v>\d{3})r(?P<r>\d{3})c(?P<c>\d{2,3})(?:(?:spc|b)(?P<spc>\d{3}))?"
    r"(?:sph(?P<sph>\d{1,3}))?)"
    r"|(?:v?(?P<rel>\d+(?:\.\d+){1,4})(?:\s*\((?P<tail>[a-z0-9]+)\))?)"
)
_SP = re.compile(r"sp(\d+)")


def _fields(m: re.Match[str]) -> dict[str, Any]:
    if m.group("v"):
        fields: dict[str, Any] = {
            "release": (int(m.group("v")), int(m.group("r")), int(m.group("c"))),
            "code": "VRP",
        }
        if m.group("spc"):
            fields["build"] = int(m.group("spc"))
        if m.group("sph"):
            fields["stage"] = f"hotfix{int(m.group('sph'))}"
        return fields
    fields = {"release": tuple(int(p) for p in m.group("rel").split(".")), "code": "DOT"}
    tail = m.group("tail")
    if tail:
        sp = _SP.search(tail)
        if sp:
            fields["build"] = int(sp.group(1))
        fields["suffix"] = tail
    return fields


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    if v.code == "VRP" and len(v.release) == 3:
        text = "V{:03d}R{:03d}C{:02d}".format(*v.release)
        if v.build is not None:
            text += f"SPC{v.build:03d}"
        if v.stage and v.stage.startswith("hotfix"):
            text += f"SPH{int(v.stage[6:] or 0):03d}"
        return text
    text = dotted(v.release)
    if v.build is not None:
        text += f"(SP{v.build})"
    return text
