"""Opening datasets: gzip and zstd by their magic bytes, bounded lines, byte-range chunks."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

MAX_LINE = 4 * 1024 * 1024  # one JSON line (a whole host in Censys/ZGrab2 data) at most
MAX_DOCUMENT = 64 * 1024 * 1024  # one non-line JSON document (a Censys host view) at most
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


class DatasetError(ValueError):
    """A dataset that cannot be read at all (missing, unreadable, unknown format)."""


def compression(path: str | Path) -> str | None:
    """ "gzip", "zstd" or None, by the file's first bytes (not its name)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if head.startswith(_GZIP):
        return "gzip"
    if head.startswith(_ZSTD):
        return "zstd"
    return None


def open_binary(path: str | Path) -> BinaryIO:
    """The file's decompressed bytes as a buffered stream (gzip/zstd transparent)."""
    kind = compression(path)
    raw = open(path, "rb")  # noqa: SIM115 - handed to the caller
    if kind == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=raw), buffer_size=1 << 20)
    if kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)
    return raw


def head(path: str | Path, size: int = 65536) -> bytes:
    """The first ``size`` decompressed bytes (for sniffing the format)."""
    try:
        with open_binary(path) as f:
            return f.read(size)
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc


def splittable(path: str | Path) -> bool:
    """Whether the file can be cut into byte ranges (uncompressed only)."""
    return compression(path) is None


def byte_ranges(path: str | Path, chunk: int) -> list[tuple[int, int | None]]:
    """[(start, end)] cutting an uncompressed file into about ``chunk``-byte ranges."""
    size = os.path.getsize(path)
    if size <= chunk:
        return [(0, None)]
    out: list[tuple[int, int | None]] = []
    start = 0
    while start < size:
        end = start + chunk
        out.append((start, end if end < size else None))
        start = end
    return out


def iter_lines(
    stream: BinaryIO,
    *,
    start: int = 0,
    end: int | None = None,
    max_line: int = MAX_LINE,
) -> Iterator[tuple[int, bytes | None]]:
    """(line number within the range, line without its end) for each line that starts in
    [start, end). A line longer than ``max_line`` comes as ``None`` (it is skipped, not read
    whole). With ``start`` > 0 the partial line at ``start`` belongs to the range before."""
    if start:
        stream.seek(start - 1)
        if stream.read(1) != b"\n":
            _skip_rest(stream)
    number = 0
    while True:
        if end is not None and stream.tell() >= end:
            return
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            _skip_rest(stream)
            yield number, None
            continue
        yield number, line.rstrip(b"\r\n")


def _skip_rest(stream: BinaryIO) -> None:
    while True:
        piece = stream.readline(1 << 16)
        if not piece or piece.endswith(b"\n"):
            return
