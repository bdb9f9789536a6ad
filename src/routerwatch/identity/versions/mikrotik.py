"""MikroTik RouterOS versions.

Forms: ``6.48.6``, ``7.12.1``, ``6.49beta54``, ``7.1rc3``, ``6.49.10 (long-term)`` (a channel in
parentheses is kept in ``suffix``). Ordering: release, then stage (beta < rc < final), each by
number: 6.49beta54 < 6.49rc1 < 6.49 < 6.49.1.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "mikrotik"

_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)\s*(?:(?P<stage>beta|rc)(?P<n>\d+))?\s*(?:\((?P<label>[a-z -]+)\))?"
)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    return dotted(v.release) + (v.stage or "")
