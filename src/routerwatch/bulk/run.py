"""One bulk run: plan → read chunks into partitions → assess partitions → merge summaries.

State lives in ``<output>/_state``: ``plan.json`` (the inputs, their sizes and mtimes, the
partition count), ``read/c*.json`` and ``done/p*.json`` markers (with each task's result). A run
started again on the same output resumes: tasks with a marker are not redone. Other inputs in
the same output directory are refused (use a new ``--output`` or ``--restart``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from routerwatch.bulk.dataset import CHUNK_BYTES, Chunk, plan_chunks
from routerwatch.bulk.engines import KbSource
from routerwatch.bulk.executor import Executor, InlineExecutor
from routerwatch.bulk.io import DatasetError
from routerwatch.bulk.record import ReadStats
from routerwatch.bulk.summary import Summary
from routerwatch.bulk.work import (
    AssessTask,
    ReadTask,
    done_marker,
    read_marker,
    run_assess,
    run_read,
    write_json,
)
from routerwatch.progress import NullProgress, Progress

PARTITION_BYTES = 16 * 1024 * 1024  # about this much input per partition
MAX_PARTITIONS = 4096
PARTITION_KEYS = ("vendor", "country")


@dataclass
class BulkOptions:
    inputs: Sequence[str | Path]
    output: Path
    kb: KbSource = field(default_factory=KbSource)
    input_format: str | None = None
    partitions: int | None = None
    partition_by: str = "vendor"
    chunk_bytes: int = CHUNK_BYTES
    restart: bool = False
    keep_spill: bool = False
    memoise: bool = True  # identity and verdict memos per partition (off: for tests)


@dataclass
class BulkResult:
    summary: Summary
    read: ReadStats
    partitions: int
    chunks: int
    resumed_chunks: int
    resumed_partitions: int
    distinct_identities: int
    elapsed: float
    output: Path
    distinct_verdicts: int = 0  # match/checks/assess calls (verdict memo misses)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "read": self.read.to_dict(),
            "partitions": self.partitions,
            "chunks": self.chunks,
            "resumed_chunks": self.resumed_chunks,
            "resumed_partitions": self.resumed_partitions,
            "distinct_identities": self.distinct_identities,
            "distinct_verdicts": self.distinct_verdicts,
            "elapsed": round(self.elapsed, 3),
            "output": str(self.output),
        }


COMPRESSION_FACTOR = 8  # scan data (JSON, XML) in gzip/zstd: about 7-12x; an estimate
TASKS_PER_WORKER = 8  # at least this many partitions per worker: the last ones even out


def input_bytes(path: str | Path) -> int:
    """About how many bytes the reader will see in ``path`` (compressed files estimated)."""
    from routerwatch.bulk.io import compression

    size = os.path.getsize(path)
    return size * COMPRESSION_FACTOR if compression(path) else size


def chunk_bytes(chunk: Chunk) -> int:
    """About how many bytes reading ``chunk`` goes through (its range, or the whole file)."""
    if chunk.start or chunk.end is not None:
        end = chunk.end if chunk.end is not None else os.path.getsize(chunk.path)
        return end - chunk.start
    return input_bytes(chunk.path)


def auto_partitions(inputs: Sequence[str | Path], workers: int) -> int:
    """Partitions by the input's (decompressed) bytes, ~PARTITION_BYTES each, and at least
    TASKS_PER_WORKER per worker so that the workers finish together."""
    total = sum(input_bytes(p) for p in inputs if os.path.isfile(p))
    wanted = max(TASKS_PER_WORKER * workers, total // PARTITION_BYTES + 1)
    return int(min(MAX_PARTITIONS, wanted))


def _fingerprint(inputs: Sequence[str | Path]) -> list[dict[str, Any]]:
    out = []
    for p in inputs:
        st = os.stat(p)
        out.append({"path": os.path.abspath(p), "size": st.st_size, "mtime": int(st.st_mtime)})
    return out


def run_bulk(
    options: BulkOptions,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BulkResult:
    """Assess every record of the inputs; write Parquet tables and return the summary."""
    if options.partition_by not in PARTITION_KEYS:
        raise DatasetError(f"--partition-by must be one of {', '.join(PARTITION_KEYS)}")
    executor = executor or InlineExecutor()
    progress = progress or NullProgress()
    started = time.monotonic()
    output = options.output
    state = output / "_state"
    if options.restart and output.exists():
        for name in ("_state", "devices", "findings", "indicators"):
            shutil.rmtree(output / name, ignore_errors=True)
    chunks = plan_chunks(options.inputs, options.input_format, options.chunk_bytes)
    partitions = options.partitions or auto_partitions(options.inputs, executor.workers)
    plan = {
        "inputs": _fingerprint(options.inputs),
        "input_format": options.input_format,
        "partitions": partitions,
        "partition_by": options.partition_by,
        "chunks": [[c.path, c.reader, c.start, c.end] for c in chunks],
    }
    plan_path = state / "plan.json"
    if plan_path.exists():
        old = orjson.loads(plan_path.read_bytes())
        if old != orjson.loads(orjson.dumps(plan)):
            raise DatasetError(
                f"{output} holds a run of other inputs or settings: use another --output, "
                "or --restart to discard it"
            )
    else:
        for sub in ("read", "done", "spill"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        write_json(plan_path, plan)
    for sub in ("read", "done", "spill"):
        (state / sub).mkdir(parents=True, exist_ok=True)

    resumed_chunks = sum(1 for c in chunks if read_marker(state, c.index).exists())
    reads = [ReadTask(c, partitions, str(state)) for c in chunks]
    if executor.workers > 1:  # the largest first, so that no worker is left with one at the end
        reads.sort(key=lambda t: chunk_bytes(t.chunk), reverse=True)
    stats = ReadStats()
    progress.start("reading", total=len(reads))
    for result in executor.run(run_read, reads):
        stats.add(ReadStats.from_dict(result))
        progress.advance()
    progress.finish()

    resumed_parts = sum(1 for p in range(partitions) if done_marker(state, p).exists())
    tasks = [
        AssessTask(p, str(state), str(output), options.kb, options.partition_by, options.memoise)
        for p in range(partitions)
    ]
    summary = Summary()
    distinct = verdicts = 0
    progress.start("assessing", total=len(tasks))
    for result in executor.run(run_assess, tasks):
        summary.merge(Summary.from_dict(result["summary"]))
        stats.add(ReadStats.from_dict(result.get("parsed") or {}))
        distinct += int(result.get("distinct_identities", 0))
        verdicts += int(result.get("distinct_verdicts", 0))
        progress.advance()
    progress.finish()
    if not options.keep_spill:
        shutil.rmtree(state / "spill", ignore_errors=True)
    outcome = BulkResult(
        summary=summary,
        read=stats,
        partitions=partitions,
        chunks=len(chunks),
        resumed_chunks=resumed_chunks,
        resumed_partitions=resumed_parts,
        distinct_identities=distinct,
        distinct_verdicts=verdicts,
        elapsed=time.monotonic() - started,
        output=output,
    )
    write_json(output / "summary.json", outcome.to_dict())
    return outcome
