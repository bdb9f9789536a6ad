"""Memoised comparisons: firmware versions (through routerwatch.identity) and hardware revisions.

Version order is the identity package's business (``compare_versions``: -1/0/1 on the shared
precision of both strings, None when they cannot be compared). The matcher asks the same few
thousand questions again and again, so answers are cached per (vendor, a, b).
"""

from __future__ import annotations

from routerwatch.identity.hardware import normalize_hardware
from routerwatch.identity.versions import compare_versions

__all__ = ["VersionCache", "hardware_matches", "norm_hardware"]

_MAX = 200_000


class VersionCache:
    """``compare(vendor, a, b)`` with a bounded memo (cleared when it grows past 200k)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str | None, str, str], int | None] = {}

    def compare(self, vendor: str | None, a: str, b: str) -> int | None:
        key = (vendor, a, b)
        try:
            return self._memo[key]
        except KeyError:
            pass
        if len(self._memo) >= _MAX:
            self._memo.clear()
        try:
            result = compare_versions(vendor, a, b)
        except ValueError:  # a version scheme that refuses the text: incomparable
            result = None
        self._memo[key] = result
        return result


_HW: dict[str, str | None] = {}


def norm_hardware(text: str | None) -> str | None:
    """Hardware revision in the identity package's form ("V8", "8.0" -> "8"), memoised."""
    if text is None:
        return None
    try:
        return _HW[text]
    except KeyError:
        value = normalize_hardware(text)
        value = value.lower() if value else None
        if len(_HW) < _MAX:
            _HW[text] = value
        return value


def hardware_matches(required: str, device: str) -> bool | None:
    """Whether a device's hardware revision satisfies a revision the CVE data names.

    Both normalised. Equal revisions match; a revision the data gives without a minor part
    covers the device's minor revisions ("5" covers "5.3", TP-Link's "V5.3" is a V5); D-Link's
    "bx" covers "b1", "b2". None when the device is less precise than the data ("2" vs "2.20").
    """
    if required == device:
        return True
    if "." not in required and device.split(".", 1)[0] == required:
        return True
    if len(required) > 1 and required.endswith("x") and device.startswith(required[:-1]):
        return True
    if "." not in device and required.split(".", 1)[0] == device:
        return None
    return False
