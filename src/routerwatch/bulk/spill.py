"""The shuffle between reading and assessing: records go to partition files by address hash,
so every record of one address (masscan and Shodan write one per port) meets in one partition.

Layout under the state directory: ``spill/c<chunk>/p<partition>.jsonl`` (plain JSON lines of
:mod:`routerwatch.bulk.codec`), written into ``c<chunk>.tmp`` and renamed when complete, so a
chunk is either wholly spilled or not at all.
"""

from __future__ import annotations

import os
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

from routerwatch.bulk import codec
from routerwatch.bulk.dataset import parse_line
from routerwatch.bulk.record import ReadStats, ScanRecord

FLUSH_BYTES = 8 * 1024 * 1024


def partition_of(address: str, partitions: int) -> int:
    """The partition an address belongs to (stable across processes and runs)."""
    return zlib.crc32(address.encode("utf-8", "surrogateescape")) % partitions


class SpillWriter:
    """Buffers encoded records per partition and appends them to that partition's file."""

    def __init__(self, folder: Path, partitions: int) -> None:
        self.final = folder
        self.folder = folder.with_name(folder.name + ".tmp")
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self.partitions = partitions
        self._buffers: dict[int, list[bytes]] = {}
        self._size = 0

    def add(self, address: str, item: ScanRecord | bytes) -> None:
        """Spill a parsed record (``R`` + codec JSON) or a raw input line (``L`` + reader,
        where, line: parsed in the partition)."""
        p = partition_of(address, self.partitions)
        line = b"L" + item if isinstance(item, bytes) else b"R" + codec.dumps(item)
        self._buffers.setdefault(p, []).append(line)
        self._size += len(line) + 1
        if self._size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        for p, lines in self._buffers.items():
            with open(self.folder / f"p{p:05d}.jsonl", "ab") as f:
                f.write(b"\n".join(lines))
                f.write(b"\n")
        self._buffers.clear()
        self._size = 0

    def commit(self) -> None:
        """Flush and make the chunk's spill visible (atomic rename)."""
        self.flush()
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.folder, self.final)


def read_partition(spill: Path, partition: int, stats: ReadStats) -> Iterator[ScanRecord]:
    """Every spilled record of one partition, chunk by chunk in chunk order; raw lines are
    parsed here (their malformed ones counted in ``stats``)."""
    name = f"p{partition:05d}.jsonl"
    for chunk_dir in sorted(spill.glob("c[0-9]*")):
        if chunk_dir.name.endswith(".tmp"):
            continue
        path = chunk_dir / name
        if not path.exists():
            continue
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if line[:1] == b"R":
                    yield codec.loads(line[1:])
                elif line[:1] == b"L":
                    reader, where, raw = line[1:].split(b"\t", 2)
                    yield from parse_line(
                        reader.decode(), where.decode("utf-8", "surrogateescape"), raw, stats
                    )
