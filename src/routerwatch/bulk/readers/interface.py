"""The input-reader seam: one Reader per scan-data format, all yielding ScanRecords."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from routerwatch.bulk.record import ReadStats, ScanRecord


class MalformedRecord(ValueError):
    """One line or element that is not what the format says (counted, never fatal)."""


class Reader(ABC):
    """One scan-data format.

    Line-based readers (``line_based = True``) implement :meth:`parse_line` and can be split
    into byte ranges; document readers implement :meth:`read_stream` over the whole
    (decompressed) stream, streaming it element by element.
    """

    name: str = ""
    description: str = ""
    line_based: bool = True

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (decompressed) is in this format."""

    def parse_line(self, line: bytes) -> list[ScanRecord]:
        """The records in one line; [] for lines that carry none (comments, brackets)."""
        raise NotImplementedError

    def address_of(self, line: bytes) -> str | None:
        """The address the records of a line belong to, cheaply (the read stage routes lines by
        it; the full parse happens in the partition that gets the line). None: no record in
        it; MalformedRecord: not even an address."""
        records = self.parse_line(line)
        return records[0].observation.address if records else None

    def read_stream(self, stream: BinaryIO, where: str, stats: ReadStats) -> Iterator[ScanRecord]:
        """Records of a whole stream (document readers only)."""
        raise NotImplementedError
        yield  # pragma: no cover


def json_address(line: bytes, *keys: str) -> str | None:
    """The first of ``keys`` (a string) in a JSON-object line; None for blank lines and the
    brackets/commas of a JSON array written a line per element."""
    text = line.strip().rstrip(b",")
    if text in (b"", b"[", b"]"):
        return None
    try:
        doc: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"not JSON ({exc.msg})") from exc
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict) and "code" in doc:
        doc = doc["result"]
    if isinstance(doc, dict):
        for key in keys:
            if isinstance(doc.get(key), str):
                return str(doc[key])
    raise MalformedRecord(f"no {' or '.join(repr(k) for k in keys)} string")
