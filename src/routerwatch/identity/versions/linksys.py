"""Linksys firmware versions.

Forms: ``1.0.04 build 6``, ``1.0.04 (build 6)``, ``v1.0.04.001``, ``1.1.40.162464`` (the long last
part is part of the release). Ordering: release (numeric: 1.0.04 == 1.0.4), then build number;
``1.0.04`` without a build equals every build of it (shared precision).
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "linksys"

_FORM = re.compile(r"v?(?P<rel>\d+(?:\.\d+)+)(?:[ ._-]*\(?\s*build[ ._-]*(?P<build>\d+)\s*\)?)?")


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = dotted(v.release)
    if v.build is not None:
        text += f" build {v.build}"
    return text
