"""The input-reader seam: one registry of scan-data formats, picked by name or by sniffing.

>>> from routerwatch.bulk.readers import READERS, detect
>>> sorted(READERS)
['censys', 'masscan-json', 'masscan-list', 'nmap', 'shodan', 'zgrab2']
"""

from __future__ import annotations

from pathlib import Path

from routerwatch.bulk.io import DatasetError, head
from routerwatch.bulk.readers.censys import CensysReader
from routerwatch.bulk.readers.interface import MalformedRecord, Reader
from routerwatch.bulk.readers.masscan import MasscanJsonReader, MasscanListReader
from routerwatch.bulk.readers.nmap import NmapReader
from routerwatch.bulk.readers.shodan import ShodanReader
from routerwatch.bulk.readers.zgrab2 import Zgrab2Reader

# Sniffing order matters: the most specific signatures first.
_ORDER: tuple[Reader, ...] = (
    NmapReader(),
    MasscanListReader(),
    MasscanJsonReader(),
    ShodanReader(),
    Zgrab2Reader(),
    CensysReader(),
)
READERS: dict[str, Reader] = {r.name: r for r in _ORDER}

__all__ = ["READERS", "MalformedRecord", "Reader", "detect", "get_reader"]


def get_reader(name: str) -> Reader:
    try:
        return READERS[name]
    except KeyError:
        raise DatasetError(
            f"unknown dataset format {name!r} (known: {', '.join(sorted(READERS))})"
        ) from None


def detect(path: str | Path) -> Reader:
    """The reader whose signature the file's first bytes carry (DatasetError when none)."""
    start = head(path)
    if not start.strip():
        raise DatasetError(f"{path}: empty file")
    for reader in _ORDER:
        if reader.sniff(start):
            return reader
    raise DatasetError(
        f"{path}: not a known scan format (give --input-format: {', '.join(sorted(READERS))})"
    )
