"""DrayTek (Vigor) firmware versions.

Forms: ``3.9.7.2``, ``4.3.1_STD``, ``1.5.1.4_Beta``, ``4.3.2.6_RC2``, ``3.9.6.3_BT``, and the SNMP
form ``1.5.1.4_Beta/1.5.1.4`` (displayed version / base version; the part before "/" is read, the
rest kept in ``suffix``).

Ordering: release, then stage: ``_Beta`` < ``_RC<n>`` < final. ``_STD`` ("standard") and other
flavour labels (``_BT``, ``_LTE``, ...) are the final release of another build flavour: kept in
``suffix``, not ordered, so ``4.3.1_STD`` == ``4.3.1``.
"""

from __future__ import annotations

import re
from typing import Any

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    match_fields,
    parse_with,
    release_formatter,
)

SCHEME = "draytek"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)"
    r"(?:[_ .-]?(?P<stage>beta|rc)[_ .-]?(?P<n>\d*))?"
    r"(?:[_ -](?P<label>[a-z][a-z0-9]*))?"
    r"(?:\s*/(?P<alt>.*))?"  # SNMP: "/" and the base version
)


def _fields(m: re.Match[str]) -> dict[str, Any]:
    labels = [x for x in (m.group("label"), (m.group("alt") or "").strip()) if x]
    return {**match_fields(m), "suffix": " ".join(labels) or None}


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = dotted(v.release)
    if v.stage:
        text += "_" + (v.stage.upper() if v.stage.startswith("rc") else v.stage.capitalize())
    return text
