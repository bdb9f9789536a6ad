"""Incremental NVD API 2.0 sync: lastModified windows of at most 120 days, paged by startIndex.

Each window is written in one transaction together with the sync cursor (the end of the
last completed window), so a crash resumes at the first unfinished window and re-fetching
a window is harmless (upserts are idempotent). With no cursor and no data a full download
pages through every record (the first sync), saving its startIndex after each page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from routerwatch.kb.errors import KBError, RecordError
from routerwatch.kb.sources import nvd as nvd_source
from routerwatch.kb.state import get_state, iso, put_state, utcnow
from routerwatch.kb.sync.http import Fetcher
from routerwatch.kb.writer import Writer
from routerwatch.progress import NullProgress, Progress

NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
MAX_WINDOW = timedelta(days=120)
PAGE_SIZE = 2000


def windows(start: datetime, end: datetime,
            span: timedelta = MAX_WINDOW) -> list[tuple[datetime, datetime]]:
    """Consecutive [start, end] windows no longer than ``span`` covering start..end."""
    out = []
    cursor = start
    while cursor < end:
        stop = min(cursor + span, end)
        out.append((cursor, stop))
        cursor = stop
    return out


def api_time(moment: datetime) -> str:
    """NVD's extended ISO-8601 form with an explicit UTC offset, as in NVD's examples."""
    return iso(moment) + "+00:00"


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class NvdSync:
    engine: Engine
    fetcher: Fetcher
    url: str = NVD_URL
    api_key: str | None = None
    page_size: int = PAGE_SIZE
    window: timedelta = MAX_WINDOW
    progress: Progress = field(default_factory=NullProgress)
    now: Callable[[], datetime] = utcnow
    records: int = 0

    def run(self, since: datetime | None = None, full: bool = False) -> str:
        with self.engine.connect() as conn:
            state = get_state(conn, "nvd")
        end = self.now()
        if state["meta"].get("full_index") is not None and since is None:
            full = True  # a full download was interrupted: resume it
        start = since or _parse(state["sync_cursor"])
        if full or start is None:
            self._full(end)
            return f"NVD: {self.records} records (full download)"
        spans = windows(start, end, self.window)
        self.progress.start("syncing NVD", total=None)
        try:
            for lo, hi in spans:
                with self.engine.begin() as conn:
                    writer = Writer(conn)
                    self._pages(writer, {"lastModStartDate": api_time(lo),
                                         "lastModEndDate": api_time(hi)})
                    writer.flush()
                    put_state(conn, "nvd", sync_cursor=iso(hi))
            with self.engine.begin() as conn:
                put_state(conn, "nvd", last_sync=iso(utcnow()), sync_cursor=iso(end))
        finally:
            self.progress.finish()
        return f"NVD: {self.records} records changed since {start:%Y-%m-%d %H:%M} " \
               f"({len(spans)} window(s))"

    def _headers(self) -> dict[str, str]:
        return {"apiKey": self.api_key} if self.api_key else {}

    def _page(self, params: dict[str, Any], start: int) -> tuple[list[Any], int, dict[str, Any]]:
        query = {**params, "resultsPerPage": self.page_size, "startIndex": start}
        page = self.fetcher.get_json(self.url, query, self._headers())
        if (not isinstance(page, dict) or not isinstance(page.get("vulnerabilities"), list)
                or not isinstance(page.get("totalResults"), int)):
            raise KBError(f"{self.url}: unexpected response (not an NVD API 2.0 page) "
                          f"at startIndex={start}")
        vulns, total = page["vulnerabilities"], page["totalResults"]
        given = page.get("startIndex", start)
        if total < 0 or given != start or len(vulns) > self.page_size or start + len(vulns) > total:
            # a broken or hostile mirror: trusting it could end a full download early
            raise KBError(
                f"{self.url}: inconsistent NVD page at startIndex={start}: {len(vulns)} records "
                f"(asked for at most {self.page_size}), startIndex {given!r}, "
                f"totalResults {total}"
            )
        return vulns, total, page

    def _add(self, writer: Writer, page: dict[str, Any], start: int) -> None:
        try:
            for row in nvd_source.parse(page):
                writer.add("nvd", row)
                self.records += 1
                self.progress.advance()
        except RecordError as exc:
            raise KBError(f"{self.url} startIndex={start}: {exc.where()}: {exc.message}") from None

    def _pages(self, writer: Writer, params: dict[str, Any]) -> None:
        start = 0
        while True:
            vulns, total, page = self._page(params, start)
            self._add(writer, page, start)
            start += len(vulns)
            if not vulns or start >= total:
                return

    def _full(self, end: datetime) -> None:
        with self.engine.connect() as conn:
            meta = get_state(conn, "nvd")["meta"]
        start = int(meta.get("full_index") or 0)
        started = meta.get("full_started") or iso(end)
        self.progress.start("downloading NVD", total=None)
        try:
            while True:
                vulns, total, page = self._page({}, start)
                with self.engine.begin() as conn:
                    writer = Writer(conn)
                    self._add(writer, page, start)
                    writer.flush()
                    start += len(vulns)
                    done = not vulns or start >= total
                    if done:
                        put_state(conn, "nvd", meta={"full_index": None, "full_started": None},
                                  sync_cursor=started, last_sync=iso(utcnow()))
                    else:
                        put_state(conn, "nvd",
                                  meta={"full_index": start, "full_started": started})
                if done:
                    return
        finally:
            self.progress.finish()
