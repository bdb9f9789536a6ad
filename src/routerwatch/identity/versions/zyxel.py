"""Zyxel firmware versions.

Form: ``V5.21(ABUJ.1)C0`` = release 5.21, model code ABUJ (the firmware family, one per model),
patch 1, then ``C0``: release counter 0. Betas end in ``b<n>`` instead (``V5.50(ABVY.3)b5``).
NVD writes the same lower-case with CPE escapes: ``2.50\\(aazi.0\\)c0``. ``5.21`` alone is a
release without the rest. Patch releases written in words: ``5.36 patch1``, ``V5.36 Patch 1``,
``ZLD 5.36 p1``, ``5.36_patch1`` (USG FLEX / ATP release notes): the patch number is the same level
as the number after the model code, so ``5.36 patch1`` equals ``V5.36(ABUJ.1)C0``.

Ordering: release, then patch, then the tail (b<n> beta < C<n> release, each by number). The model
code is a gate: versions of two different codes never compare (None), because they are firmware
of different models. Unknown tails (anything but b<n>/C<n>) are not understood (None).
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

SCHEME = "zyxel"

# Groups by _base.match_fields' convention: the patch number is the build level, the tail the
# stage ("c0", "b5"), the model code the gate.
_FORM = re.compile(
    r"(?:(?:zld|uos)\s*)?v?(?P<rel>\d+(?:\.\d+)+)\s*"
    r"(?:\((?P<code>[a-z0-9]{4})\.(?P<build>\d+)\)|[ _-]*(?:patch|p)[ _-]*(?P<patch_n>\d+))?\s*"
    r"(?:(?P<stage>[bc])(?P<n>\d+))?"
)


def _fields(m: re.Match[str]) -> dict[str, Any]:
    fields = match_fields(m)
    if m.group("patch_n"):
        fields["build"] = int(m.group("patch_n"))
    return fields


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text, _fields)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = "V" + dotted(v.release)
    if v.code is not None:
        text += f"({v.code}.{v.build if v.build is not None else 0})"
    elif v.build is not None:
        text += f" patch{v.build}"
    if v.stage:
        text += v.stage[0].upper() + v.stage[1:] if v.stage[0] == "c" else v.stage
    return text
