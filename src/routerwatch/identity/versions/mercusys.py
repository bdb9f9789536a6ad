"""Mercusys firmware versions: TP-Link's forms (``1.0.3 Build 20200916 Rel. 56289``,
``MR70X(EU)_V1_1.1.0 Build 20221020``), read by the TP-Link reader under their own scheme name
(Mercusys is TP-Link's budget brand and writes versions the same way)."""

from __future__ import annotations

import dataclasses

from routerwatch.identity.versions import tplink
from routerwatch.identity.versions._base import FirmwareVersion, register_formatter

SCHEME = "mercusys"


def parse(text: str) -> FirmwareVersion | None:
    v = tplink.parse(text)
    return None if v is None else dataclasses.replace(v, scheme=SCHEME)


def _format(v: FirmwareVersion) -> str:
    return str(dataclasses.replace(v, scheme=tplink.SCHEME))


register_formatter(SCHEME, _format)
