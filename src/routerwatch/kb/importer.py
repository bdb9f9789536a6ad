"""`kb import`: files and folders of any mix of sources, recognised by content, in ONE transaction.

A bad file raises KBError (naming the file and the record) and the transaction is rolled
back, so the KB stays exactly as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from routerwatch.kb import reader
from routerwatch.kb.db import _short, bulk_journal
from routerwatch.kb.errors import KBError, RecordError
from routerwatch.kb.sources import Source, classify
from routerwatch.kb.state import get_state
from routerwatch.kb.writer import Writer
from routerwatch.progress import NullProgress, Progress

EPSS_HEADS = (b"#model_version", b"cve,epss", b"cve,cvss3,epss")


@dataclass
class ImportResult:
    counts: Counter[str] = field(default_factory=Counter)  # records read per source
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (path, source, records)
    skipped: list[str] = field(default_factory=list)  # folder files that are not KB data
    notes: list[str] = field(default_factory=list)
    dropped_versions: int = 0  # CVE 5 CNA version entries naming another product, dropped

    def summary(self) -> str:
        parts = [f"{n} {s}" for s, n in sorted(self.counts.items())]
        text = f"imported {len(self.files)} file(s): " + (", ".join(parts) or "no records")
        if self.skipped:
            text += f"; skipped {len(self.skipped)} file(s) that are not KB data"
        return text


def expand(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """(file, given explicitly) for every path; folders are walked (hidden files skipped)."""
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith(".") for p in rel):
                    yield child, False
        elif path.is_file():
            yield path, True
        elif path.exists():
            raise KBError(f"{path}: not a regular file or folder")
        else:
            raise KBError(f"{path}: no such file or folder")


def _looks_like_data(head: bytes) -> bool:
    """For files found in folders: could this be KB data (or a mis-encoded version of it)?"""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1] in (b"{", b"[") or text.lower().startswith(EPSS_HEADS)


def classify_document(doc: reader.Document, explicit: bool) -> Source | None:
    """The document's source; None for non-KB data found in a folder (explicit: an error)."""
    source = classify(doc.kind, doc.value)
    if source is None and explicit:
        raise KBError(
            f"{doc.name}: unrecognised content (expected NVD API 2.0 JSON, CVE JSON 5, "
            "CISA KEV JSON, EPSS CSV or a routerwatch bundle)"
        )
    return source


def _fail(name: str, exc: RecordError) -> KBError:
    where = exc.where()
    return KBError(f"{name}: {where + ': ' if where else ''}{exc.message}")


def checked_rows(doc: reader.Document, source: Source) -> Iterator[dict[str, Any]]:
    """The parser's rows; any complaint becomes a KBError naming the file and the record."""
    count = 0
    try:
        for row in source.parse(doc.value):
            yield row
            count += 1
    except RecordError as exc:
        raise _fail(doc.name, exc) from None
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        raise KBError(
            f"{doc.name}: record {count + 1}: malformed {source.name} data "
            f"({type(exc).__name__}: {exc})"
        ) from None


def source_meta(doc: reader.Document, source: Source) -> dict[str, Any]:
    try:
        return source.meta(doc.value) if source.meta else {}
    except RecordError as exc:
        raise _fail(doc.name, exc) from None


def start_source(writer: Writer, source: str, meta: dict[str, Any], label: str) -> bool:
    """Per-file bookkeeping before the rows; False when the rows must not be applied."""
    if source == "kev":
        return writer.begin_kev_catalog(meta, label)
    if source == "epss" and meta.get("score_date"):
        stored = get_state(writer.conn, "epss")["meta"].get("score_date") or ""
        if meta["score_date"] >= stored:
            writer.set_meta("epss", meta)
    return True


def write_rows(writer: Writer, source: str, rows: Iterable[dict[str, Any]], label: str) -> int:
    count = 0
    try:
        for row in rows:
            writer.add(source, row)
            count += 1
    except SQLAlchemyError as exc:
        raise KBError(f"{label}: database error near record {count}: {_short(exc)}") from None
    return count


def apply_document(
    writer: Writer, doc: reader.Document, explicit: bool = True
) -> tuple[str | None, int]:
    """Parse one document into the writer: (source name or None if not KB data, records)."""
    source = classify_document(doc, explicit)
    if source is None:
        return None, 0
    if not start_source(writer, source.name, source_meta(doc, source), doc.name):
        return source.name, 0
    return source.name, write_rows(writer, source.name, checked_rows(doc, source), doc.name)


def import_file(
    writer: Writer, path: Path, explicit: bool, max_size: int, result: ImportResult
) -> None:
    from routerwatch.kb import bundle

    reader.check_size(path, max_size)
    kind, head = reader.sniff(path)
    if reader.is_bundle(head):
        counts = bundle.import_bundle(writer, path, max_size)
        result.counts.update(counts)
        result.files.append((str(path), "bundle", sum(counts.values())))
        return
    # the type from the first bytes (streamed): junk is refused before the file is read whole
    blank = not head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if blank and len(head) < reader.SNIFF_BYTES:
        raise KBError(f"{path}: empty file")
    if not blank and not _looks_like_data(head):
        if not explicit:
            result.skipped.append(str(path))
            return
        raise KBError(
            f"{path}: not knowledge-base data (it starts with neither JSON nor an EPSS CSV "
            "header; expected NVD API 2.0 JSON, CVE JSON 5, CISA KEV JSON, EPSS CSV or a "
            "routerwatch bundle)"
        )
    binary = head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head
    if explicit and binary and kind is None:  # (compressed: the bomb check reads it bounded)
        reader.decode(head, str(path))  # UTF-16/32 or binary: its one-line error, now
    doc = reader.parse(reader.read_bytes(path, max_size), str(path))
    source, count = apply_document(writer, doc, explicit)
    if source is None:
        result.skipped.append(str(path))
        return
    result.counts[source] += count
    result.files.append((str(path), source, count))


def import_paths(
    engine: Engine,
    paths: Iterable[str | Path],
    *,
    max_size: int = reader.DEFAULT_MAX_SIZE,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ImportResult:
    """Import every file in ONE transaction: all of them, or nothing.

    Many large files (a full NVD download) are read and parsed by ``workers`` processes
    (default: one per CPU) while this process writes; ``workers=1`` keeps it in-process.
    """
    from routerwatch.kb import parallel

    progress = progress or NullProgress()
    files = list(expand(paths))
    if not files:
        raise KBError("nothing to import: no files found")
    result = ImportResult()
    progress.start("importing", total=len(files))
    try:
        bulk = parallel.worth_it(files) and workers != 1
        with engine.connect() as conn, bulk_journal(conn, bulk), conn.begin():
            writer = Writer(conn)
            if bulk:
                parallel.import_files(writer, files, max_size, result, progress, workers)
            else:
                for path, explicit in files:
                    import_file(writer, path, explicit, max_size, result)
                    progress.advance()
            try:
                writer.finish()
            except SQLAlchemyError as exc:
                raise KBError(f"database error while importing: {_short(exc)}") from None
            result.notes.extend(writer.skipped)
            if writer.dropped_versions:
                shown = ", ".join(sorted(set(writer.dropped_in))[:5])
                more = len(set(writer.dropped_in)) - 5
                result.dropped_versions = writer.dropped_versions
                result.notes.append(
                    f"dropped {writer.dropped_versions} CVE 5 affected version entries that "
                    f"name another product (CNA data errors, e.g. \"AutoCAD 2021\" on a "
                    f"router) in {shown}" + (f" and {more} more" if more > 0 else "")
                )
    except SQLAlchemyError as exc:
        raise KBError(f"database error while importing: {_short(exc)}") from None
    finally:
        progress.finish()
    if not result.files:
        raise KBError("nothing imported: none of the files holds KB data")
    return result
