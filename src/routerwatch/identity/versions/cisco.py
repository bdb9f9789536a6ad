"""Cisco small-business router firmware versions (RV series).

Forms: ``1.0.03.24``, ``v1.0.03.21``, ``1.4.2.22``, ``4.2.3.14-tm`` (a label after "-" is kept in
``suffix``, not ordered). Parts compare numerically (1.0.03.24 == 1.0.3.24 < 1.0.3.100).
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "cisco"

_FORM = re.compile(r"v?(?P<rel>\d+(?:\.\d+)+)(?:[-_ ](?P<label>[a-z][a-z0-9.]*))?")


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    return dotted(v.release)
