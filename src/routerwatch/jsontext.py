"""The one JSON parser for text routerwatch did not write (feeds, bundles, reports, configs).

:func:`loads` never raises anything but :class:`json.JSONDecodeError` (with the usual
``msg``/``lineno``/``colno``), so every caller's one-line error handling covers every bad
input: integers of thousands of digits (the standard parser raises a plain ValueError from
its 4,300-digit limit), nesting 100,000 levels deep (RecursionError), numbers beyond a
double, invalid UTF-8. orjson parses first (fast, nesting capped at 1,024 levels); the
standard parser is asked only for what orjson is stricter about (``NaN``, ``Infinity``,
integers beyond 64 bits), with its failures turned into JSONDecodeError too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["escape_unsafe", "loads"]

#: Characters that change how text *looks* without being seen: C1 controls (U+009B is a
#: terminal CSI), bidi embeddings/overrides/isolates (U+202E "Trojan source" reversal),
#: LRM/RLM/ALM, and the line/paragraph separators.
_UNSAFE = re.compile("[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_unsafe(json_text: str) -> str:
    """JSON text with those characters written as ``\\uXXXX`` escapes: the same data when
    parsed, but a terminal, pager or editor showing the file shows them as escapes."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def loads(text: str | bytes) -> Any:
    """Parse JSON text; json.JSONDecodeError (one clear message) for anything unusable."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):  # orjson's nesting limit: the standard parser would recurse
            raise json.JSONDecodeError(
                "JSON nested too deeply (more than 1024 levels)", _as_text(text), 0
            ) from None
        first = exc
    source = _as_text(text)
    try:
        return json.loads(source)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", source, 0) from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string..."
        reason = str(exc).split(";")[0].split(":")[0]
        raise json.JSONDecodeError(f"unusable number ({reason})", source, first.pos) from None


def _as_text(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    return text.decode("utf-8", errors="replace")
