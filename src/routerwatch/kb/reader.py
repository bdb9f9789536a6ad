"""The thin read step: bounded file reading, decompression, decoding, JSON parsing.

Every limit is checked before the data is held: the file size (``os.stat``) before
reading, and the decompressed size while decompressing (a gzip/xz bomb stops at the limit).
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routerwatch.jsontext import loads as json_loads
from routerwatch.kb.errors import KBError

DEFAULT_MAX_SIZE = 256 * 1024 * 1024  # bytes, on disk and once decompressed
BUNDLE_RATIO = 16  # a bundle is streamed: it may decompress to 16 x the limit
BUNDLE_PREFIX = b'{"format":"routerwatch-kb-bundle"'
GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass(frozen=True)
class Document:
    name: str
    kind: str  # "json" | "text"
    value: Any


def human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def parse_size(text: str) -> int:
    """``"256M"``, ``"1GiB"``, ``"1000"`` -> bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise KBError(f"bad size {text!r}: use e.g. 512M, 1G or a number of bytes")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size <= 0:
        raise KBError(f"bad size {text!r}: must be positive")
    return size


def compression(head: bytes) -> str | None:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return None


def open_stream(path: Path, kind: str | None) -> io.BufferedIOBase:
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return path.open("rb")


DECOMPRESS_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


def check_size(path: Path, max_size: int) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise KBError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if size > max_size:
        raise KBError(
            f"{path}: file is {human(size)}, larger than the {human(max_size)} limit "
            "(raise it with --max-size)"
        )
    if size == 0:
        raise KBError(f"{path}: empty file")
    return size


#: How much of a file decides its type (the rest is read only when it is KB data).
SNIFF_BYTES = 4096


def sniff(path: Path) -> tuple[str | None, bytes]:
    """(compression, first SNIFF_BYTES decompressed bytes) of a file."""
    try:
        with path.open("rb") as raw:
            kind = compression(raw.read(6))
        with open_stream(path, kind) as stream:
            return kind, stream.read(SNIFF_BYTES)
    except DECOMPRESS_ERRORS as exc:
        raise KBError(f"{path}: corrupt or truncated compressed data: {_why(exc)}") from None


def read_bytes(path: Path, max_size: int) -> bytes:
    """The whole (decompressed) content, refusing more than ``max_size`` bytes."""
    check_size(path, max_size)
    kind, _ = sniff(path)
    try:
        with open_stream(path, kind) as stream:
            data = read_bounded(stream, max_size + 1)
    except DECOMPRESS_ERRORS as exc:
        raise KBError(f"{path}: corrupt or truncated {kind} data: {_why(exc)}") from None
    if len(data) > max_size:
        raise KBError(
            f"{path}: {kind} data expands to more than the {human(max_size)} limit "
            "(decompression bomb?); raise it with --max-size"
        )
    return data


def read_bounded(stream: io.BufferedIOBase, limit: int, chunk: int = 1 << 20) -> bytes:
    """At most ``limit`` bytes, read in chunks (never allocating ``limit`` up front)."""
    parts: list[bytes] = []
    total = 0
    while total < limit:
        part = stream.read(min(chunk, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def decompress(data: bytes, name: str, max_size: int) -> bytes:
    """Downloaded bytes, decompressed (gzip/xz) with the same bound."""
    kind = compression(data[:6])
    if kind is None:
        return data
    stream: io.BufferedIOBase
    try:
        if kind == "gzip":
            stream = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        else:
            stream = lzma.LZMAFile(io.BytesIO(data))  # noqa: SIM115 - closed just below
        with stream:
            out = read_bounded(stream, max_size + 1)
    except DECOMPRESS_ERRORS as exc:
        raise KBError(f"{name}: corrupt or truncated {kind} data: {_why(exc)}") from None
    if len(out) > max_size:
        raise KBError(f"{name}: {kind} data expands to more than {human(max_size)}")
    return out


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a UTF-8 BOM is dropped); UTF-16/32 and invalid bytes are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KBError(f"{name}: text is UTF-16/32, not UTF-8 (re-save the file as UTF-8)")
    if b"\x00" in data[:4096]:
        raise KBError(f"{name}: binary data or UTF-16/32 text (NUL bytes), not UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KBError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}; "
            "latin-1 or another encoding?)"
        ) from None
    if not text.strip():
        raise KBError(f"{name}: empty file")
    return text


def parse(data: bytes, name: str) -> Document:
    """Decoded text, parsed as JSON when it looks like JSON."""
    text = decode(data, name)
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "["):
        return Document(name, "text", text)
    try:
        return Document(name, "json", json_loads(text))
    except json.JSONDecodeError as exc:
        end = text.rstrip()
        hint = " (file truncated?)" if not end.endswith(("}", "]")) else ""
        raise KBError(
            f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except RecursionError:
        raise KBError(f"{name}: JSON nested too deeply") from None


def is_bundle(head: bytes) -> bool:
    return head.lstrip().startswith(BUNDLE_PREFIX)


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
