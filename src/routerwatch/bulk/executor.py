"""Where tasks run: in this process, or on a Dask cluster (a LocalCluster on loopback sized to
this machine, or an existing scheduler). Results come back as they finish."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Executor(Protocol):
    workers: int

    def run(self, fn: Callable[[Any], T], tasks: Sequence[Any]) -> Iterator[T]: ...
    def close(self) -> None: ...


class InlineExecutor:
    """Runs every task here, one after another (the single-process path)."""

    workers = 1

    def run(self, fn: Callable[[Any], T], tasks: Sequence[Any]) -> Iterator[T]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        pass


def default_workers() -> int:
    """One worker process per core of this machine."""
    return max(1, os.cpu_count() or 1)


class DaskExecutor:
    """Tasks on Dask workers; a LocalCluster (loopback only, no dashboard) unless a scheduler
    address is given. Workers are processes with one thread each (the work is CPU-bound)."""

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        memory_limit: str | None = "auto",
        host: str = "127.0.0.1",
    ) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
        else:
            n = workers or default_workers()
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host=host,
                dashboard_address=None,
                memory_limit=memory_limit,
                silence_logs=40,
            )
            self.client = Client(self._cluster)
        info = self.client.scheduler_info()
        self.workers = max(1, len(info.get("workers", {})))

    def run(self, fn: Callable[[Any], T], tasks: Sequence[Any]) -> Iterator[T]:
        from distributed import as_completed

        futures = [self.client.submit(fn, t, pure=False) for t in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for f in futures:
                if not f.done():
                    f.cancel()

    def worker_memory(self) -> dict[str, int]:
        """Resident memory of each worker process now (bytes)."""

        def rss() -> int:
            import psutil

            return int(psutil.Process().memory_info().rss)

        return {k: int(v) for k, v in self.client.run(rss).items()}

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
