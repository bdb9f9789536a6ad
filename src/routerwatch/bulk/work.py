"""The two task kinds a run is made of, each a plain function a Dask worker (or this process)
runs: read one chunk into the spill, and assess one partition into Parquet + a partial summary.

Both are idempotent and leave a marker only when complete, so a crashed run resumes by skipping
what has a marker (see routerwatch.bulk.run).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from routerwatch.bulk.dataset import Chunk, route_chunk
from routerwatch.bulk.engines import KbSource, worker_engines
from routerwatch.bulk.record import ReadStats, ScanRecord, merge_records
from routerwatch.bulk.spill import SpillWriter, read_partition
from routerwatch.bulk.summary import Summary
from routerwatch.bulk.tables import TableRows, write_tables
from routerwatch.models import Assessment, DeviceIdentity

if TYPE_CHECKING:
    from routerwatch.assess.policy import Policy
    from routerwatch.fingerprint.inputs import Input
    from routerwatch.pipeline import Engines


@dataclass(frozen=True)
class ReadTask:
    chunk: Chunk
    partitions: int
    state: str  # the run's state directory


@dataclass(frozen=True)
class AssessTask:
    partition: int
    state: str
    output: str
    kb: KbSource
    partition_by: str = "vendor"
    memoise: bool = True  # off only to test that memoising changes nothing


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename)."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, path)


def read_marker(state: Path, chunk: int) -> Path:
    return state / "read" / f"c{chunk:05d}.json"


def done_marker(state: Path, partition: int) -> Path:
    return state / "done" / f"p{partition:05d}.json"


def run_read(task: ReadTask) -> dict[str, Any]:
    """Read one chunk into the spill; returns (and records) its ReadStats."""
    state = Path(task.state)
    marker = read_marker(state, task.chunk.index)
    if marker.exists():
        return orjson.loads(marker.read_bytes())
    stats = ReadStats()
    writer = SpillWriter(state / "spill" / f"c{task.chunk.index:05d}", task.partitions)
    with gc_paused():
        for address, item in route_chunk(task.chunk, stats):
            writer.add(address, item)
    writer.commit()
    result = stats.to_dict()
    write_json(marker, result)
    return result


def identity_key(record: ScanRecord, inputs: Sequence[Input] | None = None) -> tuple[Any, ...]:
    """What the fingerprinter reads of a record: equal keys give equal identities
    (``inputs``: the record's ``extract_inputs``, when already made)."""
    from routerwatch.fingerprint.inputs import extract_inputs

    if inputs is None:
        inputs = extract_inputs(record.observation)
    return tuple((i.source, i.label, i.text, i.path) for i in inputs)


# Headers that change with every answer and that no fingerprint input or check reads: left out
# of the assessment memo key, so one router model answering at different times is assessed once.
VOLATILE_HEADERS = frozenset({"date", "expires", "last-modified", "etag", "age"})


def verdict_key(record: ScanRecord) -> tuple[Any, ...]:
    """Everything of a record that the fingerprinter, match, checks and assess read, without its
    address (the Assessment's address, actions and site are per host; the tables use none).

    It covers every input ``extract_inputs`` makes (they are read from these fields only), so
    the identity memo key is a function of it: a hit here needs neither ``extract_inputs`` nor
    the identity memo."""
    obs = record.observation
    http = tuple(
        (h.port, h.scheme, h.method, h.path, h.status, h.body, h.title, h.favicon_md5,
         h.favicon_mmh3, h.truncated,
         tuple(p for p in h.headers if p[0] not in VOLATILE_HEADERS))
        for h in obs.http
    )  # fmt: skip
    return (
        obs.open_ports, http, obs.banners, obs.tls, obs.upnp, obs.upnp_more, obs.snmp_sysdescr,
        obs.snmp_sysobjectid, obs.mac, obs.mac_vendor, obs.errors,
    )  # fmt: skip


MEMO_MAX = 200_000  # entries of each per-process memo before it starts afresh (bounds memory)
_MEMOS: dict[KbSource, tuple[dict[Any, DeviceIdentity], dict[Any, Assessment]]] = {}


def _memos(kb: KbSource) -> tuple[dict[Any, DeviceIdentity], dict[Any, Assessment]]:
    """This worker process's identity and verdict memos for one KB (shared by its partitions:
    scan data repeats the same devices across partitions too)."""
    memos = _MEMOS.setdefault(kb, ({}, {}))
    for memo in memos:
        if len(memo) > MEMO_MAX:
            memo.clear()
    return memos


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a task (a partition or a chunk) runs, on after.

    A partition keeps its records alive until its end and the memos grow across partitions:
    every object survives, so the collector's full passes re-scan millions of live objects for
    nothing (~30 % of the CPU at 1,000,000 records). The work makes next to no reference
    cycles (420 cyclic objects in a whole 200,000-record run), so the partition's garbage is
    freed by reference counting when it ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_assess(task: AssessTask) -> dict[str, Any]:
    """Assess one partition: merge records per address, identify (memoised per process),
    match, check, assess; write its Parquet files; return (and record) its partial summary."""
    state = Path(task.state)
    marker = done_marker(state, task.partition)
    if marker.exists():
        return orjson.loads(marker.read_bytes())
    started = time.monotonic()
    engines, policy = worker_engines(task.kb)
    with gc_paused():
        result = _assess(task, state, engines, policy, started)
    write_json(marker, result)
    return result


def _assess(
    task: AssessTask, state: Path, engines: Engines, policy: Policy | None, started: float
) -> dict[str, Any]:
    from routerwatch.fingerprint.inputs import extract_inputs
    from routerwatch.pipeline import assess_identity

    groups: dict[str, list[ScanRecord]] = {}
    parsed = ReadStats()
    for record in read_partition(state / "spill", task.partition, parsed):
        groups.setdefault(record.observation.address, []).append(record)
    memo, verdicts = _memos(task.kb) if task.memoise else ({}, {})
    identified = assessed = 0
    rows = TableRows()
    summary = Summary()
    for address in sorted(groups):
        record = merge_records(groups[address])
        vkey = verdict_key(record) if task.memoise else None
        assessment = verdicts.get(vkey) if vkey is not None else None
        if assessment is None:
            inputs = extract_inputs(record.observation)
            key = identity_key(record, inputs)
            identity = memo.get(key) if task.memoise else None
            if identity is None:
                identity = memo[key] = engines.fingerprinter.identify(record.observation, inputs)
                identified += 1
            assessment = assess_identity(
                engines, identity, observation=record.observation, policy=policy
            )
            assessed += 1
            if vkey is not None:
                verdicts[vkey] = assessment
        rows.add(record, assessment)
        summary.add(record, assessment)
    write_tables(rows, Path(task.output), task.partition, task.partition_by)
    summary.partitions = 1
    result = {
        "summary": summary.to_dict(),
        "hosts": len(groups),
        "parsed": parsed.to_dict(),
        "distinct_identities": identified,  # fingerprinter calls (memo misses)
        "distinct_verdicts": assessed,  # match/checks/assess calls (memo misses)
        "seconds": round(time.monotonic() - started, 3),
        "pid": os.getpid(),
    }
    return result
