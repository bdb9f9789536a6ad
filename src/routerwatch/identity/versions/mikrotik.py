"""MikroTik RouterOS versions.

Forms: ``6.48.6``, ``7.12.1``, ``v6.40.5``, ``RouterOS 6.40.5``, ``6.49beta54``, ``7.1rc3``,
and a release channel with or without parentheses: ``6.49.10 (long-term)``, ``7.12.1 stable``,
``6.48.6 long-term``, ``6.40.5 (bugfix)``, ``7.14 (testing)``, ``6.44.6 lts``. Ordering:
release, then stage (beta < rc < final), each by number: 6.49beta54 < 6.49rc1 < 6.49 < 6.49.1.
The channel (long-term, stable, testing, development, bugfix) says which branch a release came
from; it does not order (6.49.10 long-term is the release 6.49.10) and is kept in ``suffix``.
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

SCHEME = "mikrotik"

_FORM = re.compile(
    r"(?:routeros\s*)?v?(?P<rel>\d+(?:\.\d+)+)\s*(?:(?P<stage>beta|rc)(?P<n>\d+))?\s*"
    r"(?:\((?P<label>[a-z -]+)\)|(?P<channel>long-term|longterm|lts|stable|testing|development"
    r"|bugfix))?"
)


def _fields(m: re.Match[str]) -> dict[str, Any]:
    fields = match_fields(m)
    if m.group("channel"):
        fields["suffix"] = m.group("channel")
    return fields


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    return dotted(v.release) + (v.stage or "")
