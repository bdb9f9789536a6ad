"""The one exception the knowledge base raises to its users."""

from __future__ import annotations


class KBError(Exception):
    """A user-facing knowledge-base failure (bad file, bad URL, sync failure).

    The message is one line and names what was wrong: the file, the record, the URL.
    """


class KBUnreachable(KBError):
    """A sync source cannot be reached (no network, DNS failure, connection refused): a
    runtime failure, said at once instead of after minutes of retries."""


class RecordError(ValueError):
    """A parser's complaint about one record; the importer adds the file name."""

    def __init__(self, message: str, index: int | None = None, cve_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.cve_id = cve_id

    def where(self) -> str:
        parts = []
        if self.index is not None:
            parts.append(f"record {self.index + 1}")
        if self.cve_id:
            parts.append(f"({self.cve_id})" if parts else self.cve_id)
        return " ".join(parts)
