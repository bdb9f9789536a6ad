"""Zyxel firmware versions.

Form: ``V5.21(ABUJ.1)C0`` = release 5.21, model code ABUJ (the firmware family, one per model),
patch 1, then ``C0``: release counter 0. Betas end in ``b<n>`` instead (``V5.50(ABVY.3)b5``).
NVD writes the same lower-case with CPE escapes: ``2.50\\(aazi.0\\)c0``. ``5.21`` alone is a
release without the rest.

Ordering: release, then patch, then the tail (b<n> beta < C<n> release, each by number). The model
code is a gate: versions of two different codes never compare (None), because they are firmware
of different models. Unknown tails (anything but b<n>/C<n>) are not understood (None).
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "zyxel"

# Groups by _base.match_fields' convention: the patch number is the build level, the tail the
# stage ("c0", "b5"), the model code the gate.
_FORM = re.compile(
    r"v?(?P<rel>\d+(?:\.\d+)+)\s*"
    r"(?:\((?P<code>[a-z0-9]{4})\.(?P<build>\d+)\))?\s*"
    r"(?:(?P<stage>[bc])(?P<n>\d+))?"
)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = "V" + dotted(v.release)
    if v.code is not None:
        text += f"({v.code}.{v.build if v.build is not None else 0})"
    if v.stage:
        text += v.stage[0].upper() + v.stage[1:] if v.stage[0] == "c" else v.stage
    return text
