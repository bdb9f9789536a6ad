"""The input-reader seam: one Reader per scan-data format, all yielding ScanRecords."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

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

    def read_stream(self, stream: BinaryIO, where: str, stats: ReadStats) -> Iterator[ScanRecord]:
        """Records of a whole stream (document readers only)."""
        raise NotImplementedError
        yield  # pragma: no cover
