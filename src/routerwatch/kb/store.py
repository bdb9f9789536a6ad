"""The knowledge base: one database (SQLite by default, PostgreSQL by URL) behind one class."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from routerwatch import config
from routerwatch.kb import db, importer, query
from routerwatch.kb import index as kbindex
from routerwatch.kb.errors import KBError
from routerwatch.kb.reader import DEFAULT_MAX_SIZE
from routerwatch.kb.schema import TABLES, nvd
from routerwatch.kb.status import build_status, warning_text
from routerwatch.models import CveRecord
from routerwatch.progress import Progress

STARTER_GLOB = "starter-*.rwkb.xz"


class KnowledgeBase:
    """CVE records from NVD, CVE 5, KEV and EPSS, merged. Opening migrates the schema and
    (re)builds the match index when it was built with another normaliser."""

    def __init__(self, url: str | None = None) -> None:
        self.url = config.db_url(url)
        self.engine = db.create_engine(self.url)
        try:
            db.migrate(self.engine)
            try:
                kbindex.ensure_current(self.engine)
            except SQLAlchemyError as exc:
                raise self._fail(exc) from None
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def display_url(self) -> str:
        return db.safe_url(self.engine.url)

    def _fail(self, exc: SQLAlchemyError) -> KBError:
        return KBError(f"database error on {self.display_url}: {db._short(exc)}")

    # ------------------------------------------------------------------ reading
    def records(self, vendors: Iterable[str] | None = None) -> Iterator[CveRecord]:
        """Every non-rejected CVE (NVD ones, then CVE-5-only ones, then KEV entries no NVD or
        CVE 5 record names the vendor of) with KEV + EPSS merged.

        ``vendors`` (optional, CPE vendor ids such as "tp-link") keeps only records whose
        NVD configurations or CVE 5 affected list name one of them.
        """
        wanted = list(vendors) if vendors is not None else None
        try:
            with self.engine.connect() as conn:
                streaming = conn.execution_options(yield_per=1000)
                for row in streaming.execute(query.nvd_query(wanted)):
                    yield query.from_nvd_row(row)
                for row in streaming.execute(query.cve5_only_query(wanted)):
                    yield query.from_cve5_row(row)
                for row in streaming.execute(query.kev_only_query(wanted)):
                    yield query.from_kev_row(row)
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def match_index(self) -> kbindex.KbIndex:
        """The stored match index, for ``Matcher.from_index`` (reads per check only the
        candidate records of the device's vendor and model)."""
        return kbindex.KbIndex(self.engine)

    def get(self, cve_id: str) -> CveRecord | None:
        key = cve_id.strip().upper()
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query.nvd_query(cve_id=key)).first()
                if row is not None:
                    return query.from_nvd_row(row)
                row = conn.execute(query.cve5_only_query(cve_id=key)).first()
                if row is not None:
                    return query.from_cve5_row(row)
                row = conn.execute(query.kev_only_query(cve_id=key)).first()
                return query.from_kev_row(row) if row is not None else None
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def raw(self, cve_id: str, source: str = "nvd") -> dict[str, Any] | None:
        """The whole stored record as the source gave it ("nvd", "cve5" or "kev"), or None."""
        table = TABLES[source]
        columns = [table.c.data] + ([table.c.configurations] if source == "nvd" else [])
        try:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(*columns).where(
                    table.c.cve_id == cve_id.strip().upper())).first()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None
        if row is None:
            return None
        record: dict[str, Any] = json.loads(row[0])
        if source == "nvd" and row[1] is not None:
            record["configurations"] = json.loads(row[1])
        return record

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """The `kb status` structure: {"sources": {"nvd": {"records": N, ...}, ...}, ...}."""
        try:
            with self.engine.connect() as conn:
                return build_status(conn, self.display_url, now)
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def is_empty(self) -> bool:
        return bool(self.status()["empty"])

    def nvd_count(self) -> int:
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(nvd)).scalar_one())
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    # ------------------------------------------------------------------ writing
    def import_paths(self, paths: Iterable[str | Path], *, max_size: int = DEFAULT_MAX_SIZE,
                     progress: Progress | None = None,
                     workers: int | None = None) -> importer.ImportResult:
        """Import files/folders/bundles in one transaction (see routerwatch.kb.importer)."""
        return importer.import_paths(self.engine, paths, max_size=max_size, progress=progress,
                                     workers=workers)

    def export(self, path: str | Path, progress: Progress | None = None) -> dict[str, Any]:
        """Write the whole KB as an offline bundle; returns its manifest."""
        from routerwatch.kb.bundle import export_bundle

        try:
            return export_bundle(self.engine, Path(path), progress)
        except SQLAlchemyError as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_kb(url: str | None = None) -> KnowledgeBase:
    return KnowledgeBase(url)


def starter_bundle() -> Path:
    """The newest starter bundle shipped inside the package."""
    folder = resources.files("routerwatch.kb") / "data"
    names = sorted(p.name for p in folder.iterdir() if Path(p.name).match(STARTER_GLOB))
    if not names:
        raise KBError("no starter bundle is installed (routerwatch/kb/data/starter-*.rwkb.xz)")
    return Path(str(folder / names[-1]))


def ensure_starter(kb: KnowledgeBase) -> bool:
    """Import the shipped starter bundle when the KB has no NVD records; True if it did."""
    if kb.nvd_count():
        return False
    kb.import_paths([starter_bundle()])
    return True


def stale_warning(kb: KnowledgeBase, now: datetime | None = None) -> str | None:
    """A warning when the KB's newest data / last sync is older than 30 days, else None."""
    return warning_text(kb.status(now))
