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
    address_key: str | None = None  # JSON-lines formats: the key holding the host's address

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
        if self.address_key is not None:
            return json_address(line, self.address_key)
        records = self.parse_line(line)
        return records[0].observation.address if records else None

    def splits(self, head: bytes) -> bool:
        """Document readers: whether a file starting with ``head`` can be cut by
        :meth:`route_stream` into elements that :meth:`parse_line` parses one by one."""
        return False

    def route_stream(
        self, stream: BinaryIO, where: str, stats: ReadStats
    ) -> Iterator[tuple[str, int, bytes]]:
        """(address, element number, element without line ends) of a whole stream, for the
        readers whose :meth:`splits` says so."""
        raise NotImplementedError
        yield  # pragma: no cover

    def read_stream(self, stream: BinaryIO, where: str, stats: ReadStats) -> Iterator[ScanRecord]:
        """Records of a whole stream (document readers only)."""
        raise NotImplementedError
        yield  # pragma: no cover


def json_line(line: bytes, key: str | None) -> dict[str, Any] | None:
    """One JSON-object line (an API wrapper ``{"code", "result": {...}}`` unwrapped); None for
    blank lines and the brackets of a JSON array written one element a line. MalformedRecord
    when it is no JSON object or ``key`` is not a string in it."""
    text = line.strip().rstrip(b",")
    if text in (b"", b"[", b"]"):
        return None
    try:
        doc: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"not JSON ({exc.msg})") from exc
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict) and "code" in doc:
        doc = doc["result"]
    if not isinstance(doc, dict):
        raise MalformedRecord("not a JSON object")
    if key is not None and not isinstance(doc.get(key), str):
        raise MalformedRecord(f"no {key!r} string")
    return doc


def json_address(line: bytes, key: str) -> str | None:
    """The address (``key``) of a JSON-object line, for Reader.address_of."""
    doc = json_line(line, key)
    return None if doc is None else str(doc[key])
