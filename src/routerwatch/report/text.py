"""Small text helpers shared by the formats (device strings are hostile input)."""

from __future__ import annotations

import re
import unicodedata

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
NVD_DETAIL = "https://nvd.nist.gov/vuln/detail/"


def printable(text: str) -> str:
    """Escape control and format characters (ANSI escapes, bidi overrides, NUL...).

    A device's banner or model name can hold ``\\x1b[2J`` or U+202E; shown raw they would
    repaint a terminal or reorder the text a person reads. Newlines and tabs become spaces.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in "\n\t\r":
            out.append(" ")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif unicodedata.category(ch) in ("Zs",):
            out.append(" ")
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def is_cve(text: str) -> bool:
    return _CVE.fullmatch(text) is not None


def nvd_url(cve: str) -> str | None:
    """The NVD detail page of a well-formed CVE id, else None (never a link to junk)."""
    return NVD_DETAIL + cve if is_cve(cve) else None


def safe_http_url(url: str) -> str | None:
    """The URL when it is plain http(s) without spaces or quotes, else None."""
    if re.fullmatch(r"https?://[^\s\"'<>`]+", url):
        return url
    return None


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def fmt_score(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"
