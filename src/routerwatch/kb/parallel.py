"""Parallel read + parse for big imports (a full NVD download: 150 pages of 2000 records).

Reading, JSON decoding and row building are pure and take most of the time, so worker
processes do them, file by file, while the importing process writes the rows in order into
its one transaction. At most two parsed files per worker wait in memory. Files that are not
NVD/CVE 5 JSON (bundles, KEV, EPSS) are handed back and streamed by the importer as usual.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routerwatch.kb import reader
from routerwatch.kb.errors import KBError
from routerwatch.progress import Progress

if TYPE_CHECKING:
    from routerwatch.kb.importer import ImportResult
    from routerwatch.kb.writer import Writer

MIN_FILES = 4
MIN_BYTES = 32 * 1024 * 1024
ROW_SOURCES = ("nvd", "cve5")


@dataclass
class Parsed:
    path: str
    kind: str  # "rows" | "skip" | "other" (bundle, KEV, EPSS: the importer streams it)
    source: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


def worth_it(files: list[tuple[Path, bool]]) -> bool:
    """Many big files, several CPUs and fork (Linux): the only case the pool is used.

    fork, not spawn: spawn re-runs the caller's main module in every worker, which breaks
    scripts without a ``__main__`` guard. The forked workers never touch the database.
    """
    if len(files) < MIN_FILES or (os.cpu_count() or 1) < 2:
        return False
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    total = 0
    for path, _ in files:
        try:
            total += path.stat().st_size
        except OSError:
            return False  # let the sequential path report it
    return total >= MIN_BYTES


def parse_file(path: str, explicit: bool, max_size: int) -> Parsed:
    """In a worker: read and parse one file (the same checks as the sequential path)."""
    from routerwatch.kb.importer import _looks_like_data, checked_rows, classify_document

    file = Path(path)
    reader.check_size(file, max_size)
    _, head = reader.sniff(file)
    if reader.is_bundle(head):
        return Parsed(path, "other")
    if not explicit and not _looks_like_data(head):
        return Parsed(path, "skip")
    doc = reader.parse(reader.read_bytes(file, max_size), path)
    source = classify_document(doc, explicit)
    if source is None:
        return Parsed(path, "skip")
    if source.name not in ROW_SOURCES:
        return Parsed(path, "other")
    return Parsed(path, "rows", source.name, list(checked_rows(doc, source)))


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Worker initializer: the kernel kills this worker (SIGKILL) when its parent dies.

    Covers SIGKILL of the parent too, which no handler or ``atexit`` in the parent could.
    If the parent is already gone when this runs, exit at once.
    """
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - Linux only, as the pool itself
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if os.getppid() != parent:
        os._exit(1)


def import_files(writer: Writer, files: list[tuple[Path, bool]], max_size: int,
                 result: ImportResult, progress: Progress, workers: int | None = None) -> None:
    from routerwatch.kb.importer import import_file, write_rows

    count = max(1, min(workers or os.cpu_count() or 1, 8))
    explicit = {str(p): e for p, e in files}
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        count, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )
    queue: deque[Future[Parsed]] = deque()
    todo = iter(files)
    try:
        while True:
            while len(queue) < 2 * count:
                item = next(todo, None)
                if item is None:
                    break
                future = pool.submit(parse_file, str(item[0]), item[1], max_size)
                future.path = str(item[0])  # type: ignore[attr-defined]
                queue.append(future)
            if not queue:
                break
            future = queue.popleft()
            try:
                parsed = future.result()
            except KBError:
                raise
            except BrokenProcessPool as exc:
                raise KBError(f"an import worker process failed: {exc}") from None
            except Exception as exc:  # e.g. MemoryError in a worker: still one clear line
                name = getattr(future, "path", "a file")
                raise KBError(f"{name}: {type(exc).__name__}: {exc}") from None
            if parsed.kind == "rows" and parsed.source:
                n = write_rows(writer, parsed.source, parsed.rows, parsed.path)
                result.counts[parsed.source] += n
                result.files.append((parsed.path, parsed.source, n))
            elif parsed.kind == "skip":
                result.skipped.append(parsed.path)
            else:
                import_file(writer, Path(parsed.path), explicit[parsed.path], max_size, result)
            progress.advance()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
