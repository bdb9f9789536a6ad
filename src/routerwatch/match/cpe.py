"""CPE 2.3 formatted strings: split, unescape, and the parts the matcher reads.

``cpe:2.3:o:tp-link:tl-wr840n_firmware:*:*:*:*:*:*:*:*`` has 13 colon-separated fields; a
colon or other punctuation inside a field is escaped with a backslash
(``tl-wr841n_\\(10.0\\)``). NVD also escapes punctuation inside ``versionEnd…`` bounds
(``tl-wr840n\\(eu\\)_v5_171211``), so :func:`unescape` applies to those too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

ANY = "*"
NA = "-"

__all__ = ["ANY", "NA", "Cpe", "CpeError", "parse_cpe", "unescape", "vendor_product"]


class CpeError(ValueError):
    """The text is not a CPE 2.3 formatted string."""


class Cpe(NamedTuple):
    """The fields of one CPE 2.3 name, unescaped (``*`` = any value, ``-`` = not applicable)."""

    part: str  # "o" operating system / firmware, "h" hardware, "a" application
    vendor: str
    product: str
    version: str
    update: str = ANY
    target_hw: str = ANY

    def version_text(self) -> str:
        """Version and update as one firmware string: ``3.16.4`` + ``130205`` ->
        ``3.16.4 Build 130205``; ``1.3.0`` + ``build_20230322_rel_70591`` ->
        ``1.3.0 build 20230322 rel 70591``. Digits-only updates are TP-Link build dates."""
        if self.update in (ANY, NA, ""):
            return self.version
        upd = self.update.replace("_", " ").strip()
        if upd.isdigit():
            return f"{self.version} Build {upd}"
        return f"{self.version} {upd}"


def unescape(text: str) -> str:
    """Drop CPE backslash escapes: ``tl-wr840n\\(eu\\)_v5`` -> ``tl-wr840n(eu)_v5``."""
    if "\\" not in text:
        return text
    out: list[str] = []
    it = iter(text)
    for ch in it:
        if ch == "\\":
            out.append(next(it, ""))
        else:
            out.append(ch)
    return "".join(out)


def _split(text: str) -> list[str]:
    if "\\" not in text:
        return text.split(":")
    fields: list[str] = []
    cur: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == ":":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur))
    return fields


@lru_cache(maxsize=65536)
def parse_cpe(text: str) -> Cpe:
    """Parse a CPE 2.3 formatted string; raises :class:`CpeError` when it is not one."""
    fields = _split(text.strip())
    if len(fields) < 6 or fields[0] != "cpe" or fields[1] != "2.3":
        raise CpeError(f"not a CPE 2.3 name: {text!r}")
    if len(fields) < 13:
        fields += [ANY] * (13 - len(fields))
    if "\\" in text:
        fields = [unescape(f) for f in fields]
    part = fields[2].lower()
    if part not in ("a", "o", "h"):
        raise CpeError(f"unknown CPE part {part!r} in {text!r}")
    return Cpe(
        part,
        fields[3].lower(),
        fields[4].lower(),
        fields[5].lower() or ANY,
        fields[6].lower() or ANY,
        fields[11].lower() or ANY,
    )


def vendor_product(text: str) -> tuple[str, str] | None:
    """(vendor, product) of a CPE 2.3 name, unescaped and lower-case, None when it is not one.

    The cheap half of :func:`parse_cpe`, for indexing a million criteria.
    """
    if "\\" not in text:
        parts = text.split(":", 6)
        if len(parts) < 6 or parts[0] != "cpe" or parts[1] != "2.3":
            return None
        return parts[3].lower(), parts[4].lower()
    try:
        cpe = parse_cpe(text)
    except CpeError:
        return None
    return cpe.vendor, cpe.product
