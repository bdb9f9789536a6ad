"""AVM FRITZ!OS versions.

Forms: ``7.57``, ``07.57``, ``FRITZ!OS 7.57``, ``154.07.57`` (the box's hardware number, then the
FRITZ!OS version: what the box's own pages and TR-064 report), ``7.57-105765`` / ``7.59-112345``
(a build number; Labor/beta builds carry one).

Ordering: FRITZ!OS release (7.29 < 7.50 < 7.57 < 8.00), then the build number. The hardware number
is a gate: ``154.07.57`` and ``113.07.57`` are firmware of different boxes and do not compare; a
version without it (``7.57``) compares with both.
"""

from __future__ import annotations

import re
from typing import Any

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    parse_with,
    release_formatter,
)

SCHEME = "avm"

_FORM = re.compile(
    r"(?:fritz!?\s*os\s*:?\s*)?v?(?:(?P<hw>\d{2,3})\.)?(?P<rel>\d{1,2}\.\d{2})"
    r"(?:\s*[-.]\s*(?P<build>\d{4,6}))?"
)


def _fields(m: re.Match[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"release": tuple(int(p) for p in m.group("rel").split("."))}
    if m.group("hw"):
        fields["hardware"] = str(int(m.group("hw")))
    if m.group("build"):
        fields["build"] = int(m.group("build"))
    return fields


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    major, minor = (*v.release, 0, 0)[:2]
    text = f"{major}.{minor:02d}"
    if v.hardware is not None:
        text = f"{v.hardware}.{major:02d}.{minor:02d}"
    if v.build is not None:
        text += f"-{v.build}"
    return text
