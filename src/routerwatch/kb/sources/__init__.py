"""One module per data source, each a pure parser behind the same small interface.

A source has a ``name``, the ``kind`` of document it reads ("json" = parsed JSON,
"text" = decoded text), ``detect(doc)`` that recognises its documents by content,
``parse(doc)`` that yields table rows (raising RecordError on a bad record) and an
optional ``meta(doc)`` with facts about the whole file (catalog version, score date).
Reading files, decompression and database writes live elsewhere (reader, writer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from routerwatch.kb.sources import cve5, epss, kev, nvd


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # "json" or "text"
    detect: Callable[[Any], bool]
    parse: Callable[[Any], Iterator[dict[str, Any]]]
    meta: Callable[[Any], dict[str, Any]] | None = None


# order matters: the KEV catalog also has a "vulnerabilities" list
SOURCES: tuple[Source, ...] = (
    Source("kev", "json", kev.detect, kev.parse, kev.meta),
    Source("nvd", "json", nvd.detect, nvd.parse),
    Source("cve5", "json", cve5.detect, cve5.parse),
    Source("epss", "text", epss.detect, epss.parse, epss.meta),
)


def classify(kind: str, doc: Any) -> Source | None:
    """The source whose documents look like ``doc``, or None."""
    for source in SOURCES:
        if source.kind == kind and source.detect(doc):
            return source
    return None


__all__ = ["SOURCES", "Source", "classify", "cve5", "epss", "kev", "nvd"]
