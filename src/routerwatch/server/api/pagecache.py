"""A per-process cache of inventory API answers (JSON bytes), keyed on the store's write
generation.

Each request reads the generation (``FleetStore.generation``: one indexed row, bumped by
database triggers in the transaction of every change to devices, sites or findings, in any
server process) *before* it reads anything else; an answer is served from the cache only
when it was made at that same generation. Reading the generation first makes a cached answer
never older than the generation it is filed under. Entries of older generations are dropped
as soon as a newer generation is seen. Bounded: ``MAX_ENTRIES`` answers and ``MAX_BYTES``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 512
MAX_BYTES = 32 * 1024 * 1024
MAX_ANSWER = 1024 * 1024  # larger answers (big pages) are not kept


class PageCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._lock = threading.Lock()
        self._gen = -1
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.hits = self.misses = 0

    def get(self, generation: int, key: Hashable) -> bytes | None:
        with self._lock:
            if generation != self._gen:
                if generation > self._gen:  # a newer generation: everything kept is stale
                    self._entries.clear()
                    self._bytes = 0
                    self._gen = generation
                self.misses += 1
                return None
            body = self._entries.get(key)
            if body is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return body

    def put(self, generation: int, key: Hashable, body: bytes) -> None:
        if len(body) > MAX_ANSWER:
            return
        with self._lock:
            if generation != self._gen:  # made at another generation: not worth keeping
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = body
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._gen = -1
