"""Datasets as chunks: which reader, which byte range; reading one chunk into ScanRecords."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import zstandard

from routerwatch.bulk.io import DatasetError, byte_ranges, head, iter_lines, open_binary, splittable
from routerwatch.bulk.readers import MalformedRecord, detect, get_reader
from routerwatch.bulk.readers.censys import CensysReader
from routerwatch.bulk.record import ReadStats, ScanRecord

CHUNK_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    """One unit of reading work: a whole file, or a byte range of an uncompressed line file."""

    index: int
    path: str
    reader: str
    start: int = 0
    end: int | None = None

    @property
    def where(self) -> str:
        return self.path if not self.start and self.end is None else f"{self.path}@{self.start}"


def plan_chunks(
    paths: Sequence[str | Path], input_format: str | None = None, chunk_bytes: int = CHUNK_BYTES
) -> list[Chunk]:
    """Chunks of every dataset file (DatasetError for a missing, empty or unknown file)."""
    chunks: list[Chunk] = []
    for p in paths:
        path = str(p)
        if not os.path.isfile(path):
            raise DatasetError(f"{path}: no such file")
        reader = get_reader(input_format) if input_format else detect(path)
        whole = not reader.line_based or (
            isinstance(reader, CensysReader) and _pretty_document(path)
        )
        ranges = [(0, None)] if whole or not splittable(path) else byte_ranges(path, chunk_bytes)
        for start, end in ranges:
            chunks.append(Chunk(len(chunks), path, reader.name, start, end))
    return chunks


def _pretty_document(path: str) -> bool:
    first = head(path, 4096).lstrip().split(b"\n", 1)[0].strip()
    return not (first.startswith(b"{") and first.endswith(b"}"))


_BROKEN = (OSError, EOFError, zlib.error, zstandard.ZstdError, gzip.BadGzipFile)
_BUGS = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)


def parse_line(reader_name: str, where: str, line: bytes, stats: ReadStats) -> list[ScanRecord]:
    """The records of one line; a malformed line is counted in ``stats`` and gives none."""
    try:
        records = get_reader(reader_name).parse_line(line)
    except MalformedRecord as exc:
        stats.bad(where, str(exc))
        return []
    except _BUGS as exc:  # a reader's blind spot must not end the run
        stats.bad(where, f"unreadable ({type(exc).__name__}: {str(exc)[:100]})")
        return []
    stats.records += len(records)
    return records


def _open(chunk: Chunk) -> BinaryIO:
    try:
        return open_binary(chunk.path)
    except OSError as exc:
        raise DatasetError(f"{chunk.path}: cannot read ({exc.strerror or exc})") from exc


def _lines(chunk: Chunk, stats: ReadStats) -> Iterator[tuple[str, bytes]]:
    """(where, line) of a line chunk; overlong lines and a file that breaks off are counted."""
    with _open(chunk) as stream:
        try:
            for number, line in iter_lines(stream, start=chunk.start, end=chunk.end):
                stats.lines += 1
                where = f"{chunk.where}:{number}"
                if line is None:
                    stats.bad(where, "line too long (skipped)")
                else:
                    yield where, line
        except _BROKEN as exc:
            reason = str(exc)[:120] or type(exc).__name__
            stats.bad(chunk.where, f"file ends or breaks early ({reason})")


def _whole(chunk: Chunk) -> bool:
    reader = get_reader(chunk.reader)
    return not reader.line_based or (
        isinstance(reader, CensysReader) and not chunk.start and chunk.end is None
        and _pretty_document(chunk.path)
    )  # fmt: skip


def route_chunk(chunk: Chunk, stats: ReadStats) -> Iterator[tuple[str, ScanRecord | bytes]]:
    """(address, what to spill) for one chunk: for line formats the raw line (parsed later, in
    its partition: the read stage only finds its address), for documents that split into
    elements (nmap XML) the raw element likewise, for other documents the parsed record.
    Lines without even an address are counted as malformed here."""
    reader = get_reader(chunk.reader)
    tag = chunk.reader.encode()
    if _whole(chunk):
        if not reader.line_based and reader.splits(head(chunk.path)):
            with _open(chunk) as stream:
                try:
                    for host, number, element in reader.route_stream(stream, chunk.where, stats):
                        label = f"{chunk.where}: host {number}".encode("utf-8", "surrogateescape")
                        yield host, b"%s\t%s\t%s" % (tag, label, element)
                except _BROKEN as exc:
                    reason = str(exc)[:120] or type(exc).__name__
                    stats.bad(chunk.where, f"file ends or breaks early ({reason})")
            return
        for record in read_chunk(chunk, stats):
            yield record.observation.address, record
        return
    for where, line in _lines(chunk, stats):
        try:
            address = reader.address_of(line)
        except MalformedRecord as exc:
            stats.bad(where, str(exc))
            continue
        except _BUGS as exc:
            stats.bad(where, f"unreadable ({type(exc).__name__}: {str(exc)[:100]})")
            continue
        if address is not None:
            yield address, b"%s\t%s\t%s" % (tag, where.encode("utf-8", "surrogateescape"), line)


def read_chunk(chunk: Chunk, stats: ReadStats) -> Iterator[ScanRecord]:
    """Every record of one chunk; malformed lines are counted in ``stats``, never raised."""
    if not _whole(chunk):
        for where, line in _lines(chunk, stats):
            yield from parse_line(chunk.reader, where, line, stats)
        return
    reader = get_reader(chunk.reader)
    with _open(chunk) as stream:
        try:
            source = (
                reader.read_stream(stream, chunk.path, stats)
                if not reader.line_based
                else cast(CensysReader, reader).read_whole(stream, chunk.path, stats)
            )
            for record in source:
                stats.records += 1
                yield record
        except _BROKEN as exc:
            reason = str(exc)[:120] or type(exc).__name__
            stats.bad(chunk.where, f"file ends or breaks early ({reason})")
