"""ScanRecords to and from compact JSON, for the partition spill files between the read and
assess stages (one process writes, another reads; both run this code version). The one
serialiser of the models, routerwatch.schema, does the work; ScanRecord only wraps them."""

from __future__ import annotations

from routerwatch.bulk.record import ScanRecord
from routerwatch.schema import decode, encode


def dumps(record: ScanRecord) -> bytes:
    return encode(record)


def loads(data: bytes) -> ScanRecord:
    return decode(data, ScanRecord)
