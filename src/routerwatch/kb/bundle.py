"""Offline bundles: one xz file = a manifest line + JSON-lines payload, checksummed.

Layout (two concatenated xz streams, readable with ``xz -dc``): line 1 is the manifest
``{"format":"routerwatch-kb-bundle","version":1,"created":...,"data_date":...,
"counts":{...},"sources":{...},"payload_sha256":...,"payload_bytes":...}``; every further
line is one record ``{"nvd": {...}}`` / ``{"cve5": ...}`` / ``{"kev": ...}`` / ``{"epss": ...}``.
The SHA-256 covers the payload lines exactly as stored. Import streams line by line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import lzma
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from routerwatch import jsontext, outputs
from routerwatch.kb import reader
from routerwatch.kb.errors import KBError, RecordError
from routerwatch.kb.schema import TABLES
from routerwatch.kb.sources import cve5, kev, nvd, validate
from routerwatch.kb.sources.common import check_id, dumps, optional_timestamp
from routerwatch.kb.state import get_state, iso, utcnow
from routerwatch.kb.writer import Writer
from routerwatch.progress import NullProgress, Progress

FORMAT = "routerwatch-kb-bundle"
VERSION = 1
ORDER = ("nvd", "cve5", "kev", "epss")
MAX_LINE = 64 * 1024 * 1024
ATTRIBUTION = (
    "This product uses data from the NVD API but is not endorsed or certified by the NVD. "
    "CVE records: CVE Program / CISA Vulnrichment (CC0). KEV: CISA (CC0). "
    "EPSS scores: FIRST.org (https://www.first.org/epss)."
)


def _line(source: str, row: Any) -> str:
    """One payload line, spliced from the stored JSON text (no re-parsing: export is fast)."""
    if source == "nvd":
        data, configurations = row["data"], row["configurations"]
        if configurations is not None:
            data = (data[:-1] + "," if data != "{}" else "{") + (
                '"configurations":' + configurations + "}")
        return '{"nvd":' + data + "}\n"
    if source in ("cve5", "kev"):
        return '{"' + source + '":' + row["data"] + "}\n"
    return dumps({source: {"cve": row["cve_id"], "epss": row["epss"],
                           "percentile": row["percentile"], "score_date": row["score_date"],
                           "model_version": row["model_version"]}}) + "\n"


def _epss_row(value: Any, index: int | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError("EPSS entry is not an object", index)
    cve_id = check_id(value.get("cve"), index)
    check = validate.Check(index, cve_id)
    score = validate.probability(check, value.get("epss"), "epss")
    pct = value.get("percentile")
    return {"cve_id": cve_id, "epss": score,
            "percentile": None if pct is None else validate.probability(check, pct, "percentile"),
            "score_date": optional_timestamp(value.get("score_date"), "score_date", index, cve_id),
            "model_version": check.opt_text(value, "model_version", "")}


PARSERS: dict[str, Callable[[Any, int | None], dict[str, Any]]] = {
    "nvd": nvd.parse_record, "cve5": cve5.parse_record, "kev": kev.parse_entry, "epss": _epss_row
}


def export_bundle(engine: Engine, path: Path, progress: Progress | None = None,
                  created: datetime | None = None, preset: int = 1) -> dict[str, Any]:
    """Write the whole KB to ``path`` (atomically); the manifest.

    ``preset`` is the xz level: 1 is fast enough for a full NVD export (hundreds of MB of
    JSON); the shipped starter bundle is built with 6 to keep it small.
    """
    progress = progress or NullProgress()
    try:
        path = outputs.destination(path)
        fd, part_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
    except OSError as exc:
        raise KBError(f"{path}: cannot write the bundle: {exc}") from None
    part = Path(part_name)
    sha, counts, size = hashlib.sha256(), Counter[str](), 0
    sources: dict[str, Any] = {}
    newest = ""
    try:
        with engine.connect() as conn, lzma.open(part, "wb", preset=preset) as out:
            for source in ORDER:
                table = TABLES[source]
                sources[source] = get_state(conn, source)["meta"]
                total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                progress.start(f"exporting {source}", total=total)
                rows = conn.execution_options(yield_per=1000).execute(
                    sa.select(table).order_by(table.c.cve_id)).mappings()
                for row in rows:
                    line = _line(source, row).encode()
                    sha.update(line)
                    out.write(line)
                    size += len(line)
                    counts[source] += 1
                    progress.advance()
                    if source == "nvd" and row["last_modified"] > newest:
                        newest = row["last_modified"]
                progress.finish()
        manifest = {"format": FORMAT, "version": VERSION, "created": iso(created or utcnow()),
                    "data_date": newest or None, "counts": {s: counts[s] for s in ORDER},
                    "sources": sources, "payload_sha256": sha.hexdigest(),
                    "payload_bytes": size, "attribution": ATTRIBUTION}
        with outputs.atomic_writer(path) as out_file, part.open("rb") as payload:
            out_file.write(lzma.compress((dumps(manifest) + "\n").encode()))
            shutil.copyfileobj(payload, out_file)
    except outputs.OutputError as exc:
        raise KBError(f"{path}: cannot write the bundle: {exc}") from None
    except OSError as exc:
        raise KBError(f"{path}: cannot write the bundle: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
    return manifest


def read_manifest(path: Path, first: bytes) -> dict[str, Any]:
    try:
        manifest = jsontext.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KBError(f"{path}: bundle manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise KBError(f"{path}: not a routerwatch bundle")
    if manifest.get("version") != VERSION:
        raise KBError(f"{path}: bundle format version {manifest.get('version')!r} is not "
                      f"supported (this routerwatch reads version {VERSION}); upgrade routerwatch")
    if not isinstance(manifest.get("payload_sha256"), str) or not isinstance(
            manifest.get("counts"), dict):
        raise KBError(f"{path}: bundle manifest lacks payload_sha256/counts")
    return manifest


def import_bundle(writer: Writer, path: Path, max_size: int) -> Counter[str]:
    """Stream a bundle into the writer; checksum and counts are verified at the end."""
    kind, _ = reader.sniff(path)
    limit = max_size * reader.BUNDLE_RATIO
    counts: Counter[str] = Counter()
    sha = hashlib.sha256()
    kev_state: bool | None = None
    total = 0
    try:
        with reader.open_stream(path, kind) as stream:
            manifest = read_manifest(path, stream.readline(MAX_LINE))
            for number, line in enumerate(iter(lambda: stream.readline(MAX_LINE), b""), 2):
                total += len(line)
                if total > limit:
                    raise KBError(f"{path}: bundle expands to more than {reader.human(limit)}"
                                  " (16 x --max-size)")
                if not line.endswith(b"\n"):
                    raise KBError(f"{path}: line {number}: truncated or longer than 64 MiB")
                sha.update(line)
                source, row = _parse_line(path, number, line)
                if source == "kev":
                    if kev_state is None:
                        meta = manifest.get("sources", {}).get("kev") or {}
                        kev_state = writer.begin_kev_catalog(meta, str(path))
                    if not kev_state:
                        continue
                writer.add(source, row)
                counts[source] += 1
    except reader.DECOMPRESS_ERRORS as exc:
        raise KBError(f"{path}: corrupt or truncated bundle: {exc}") from None
    if sha.hexdigest() != manifest["payload_sha256"]:
        raise KBError(f"{path}: checksum mismatch (payload sha256 {sha.hexdigest()[:16]}..., "
                      f"manifest says {manifest['payload_sha256'][:16]}...): bundle is corrupt")
    expected = {s: n for s, n in manifest["counts"].items() if n}
    got = dict(counts)
    if kev_state is False:
        got["kev"] = expected.get("kev", 0)
    if got != expected:
        raise KBError(f"{path}: record counts {got} differ from the manifest's {expected}")
    epss_meta = (manifest.get("sources") or {}).get("epss") or {}
    if epss_meta.get("score_date") and counts["epss"]:
        stored = get_state(writer.conn, "epss")["meta"].get("score_date") or ""
        if epss_meta["score_date"] >= stored:
            writer.set_meta("epss", epss_meta)
    return counts


def _parse_line(path: Path, number: int, line: bytes) -> tuple[str, dict[str, Any]]:
    try:
        obj = jsontext.loads(line)
        (source, value), = obj.items()
        parser = PARSERS[source]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise KBError(f"{path}: line {number}: not a bundle record") from None
    try:
        return source, parser(value, number)
    except RecordError as exc:
        raise KBError(f"{path}: line {number}{' ' + exc.cve_id if exc.cve_id else ''}: "
                      f"{exc.message}") from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise KBError(f"{path}: line {number}: malformed {source} record ({exc})") from None
