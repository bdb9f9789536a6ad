"""Generic dotted versions: the fallback for vendors without a scheme of their own.

Forms: ``1.2.0.10`` (numeric parts: 1.2.0.10 > 1.2.0.9), ``v2.0.9``, ``1.0_2`` ("_" read as
"."), ``7.0.2.38b`` / ``1.6.18p12`` (a letter tail on the last part is a later patch), a stage
word after the release (``2.0b`` is a patch, ``2.0-beta3``, ``2.0rc1``, ``2.0.9-hotfix.7`` are
stages: alpha < beta < rc < final < hotfix), ``... build 6``, and date-only strings
(``20240710``, ``230506``, ``2017-01-06``).

Anything else is not understood (None), e.g. ``LM.1.6.18P12_sign6`` or ``R.47.0.0 AutoCAD``.
"""

from __future__ import annotations

import re

from routerwatch.identity.versions._base import (
    FirmwareVersion,
    dotted,
    parse_with,
    release_formatter,
)

SCHEME = "generic"

_FORM = re.compile(
    r"(?:v|ver\.?\s*|version\s+)?(?P<rel>\d+(?:[._]\d+)*)"
    r"(?P<patch>[a-z]\d*)??"
    r"(?:[ ._-]?(?P<stage>alpha|beta|rc|pre|hotfix)[ ._-]?(?P<n>\d*))?"
    r"(?:[ ._-]*\(?build[ ._-]*(?P<build>\d+)\)?)?"
)


def parse(text: str) -> FirmwareVersion | None:
    return parse_with(SCHEME, _FORM, text)


@release_formatter(SCHEME)
def format(v: FirmwareVersion) -> str:
    text = dotted(v.release) + (v.patch or "")
    if v.stage:
        text += "-" + v.stage
    if v.build is not None:
        text += f" build {v.build}"
    return text
