"""`routerwatch kb ...`: status, import, sync and export of the vulnerability knowledge base."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from routerwatch.cli.common import (
    RUNTIME,
    DbOption,
    Format,
    QuietOption,
    RichBar,
    check_output,
    console,
    fail,
    print_json,
    set_verbosity,
    warn,
)

app = typer.Typer(help="Manage the vulnerability knowledge base.", no_args_is_help=True)

if TYPE_CHECKING:  # the KB is imported lazily: keeps `routerwatch --help` fast
    from routerwatch.kb import KnowledgeBase


class SyncSource(StrEnum):
    nvd = "nvd"
    kev = "kev"
    epss = "epss"


@contextmanager
def _kb(db: str | None, check_age: bool = True) -> Iterator[KnowledgeBase]:
    """Open the KB; turn every KB failure into one error line; warn when it is stale."""
    from sqlalchemy.exc import SQLAlchemyError

    from routerwatch.kb import KBError, open_kb, stale_warning
    from routerwatch.kb.errors import KBUnreachable

    try:
        kb = open_kb(db)
    except KBError as exc:  # the --db given cannot be used: a usage error
        fail(str(exc))
    try:
        yield kb
        if check_age:
            message = stale_warning(kb)
            if message:
                warn(message)
    except KBUnreachable as exc:
        fail(str(exc), RUNTIME)
    except KBError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"file error: {exc.strerror or exc}", RUNTIME)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).splitlines()
        fail(f"database error: {first[0] if first else 'unknown'}", RUNTIME)
    finally:
        kb.close()


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} d"


def _date(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else "-"


def _print_status(status: dict[str, Any]) -> None:
    table = Table(title=f"Knowledge base {status['database']}", title_justify="left")
    for column in ("source", "records", "newest data", "last import", "last sync", "age"):
        table.add_column(column, justify="right" if column in ("records", "age") else "left")
    notes: list[str] = []
    for name, src in status["sources"].items():
        table.add_row(name, str(src["records"]), _date(src["newest"]), _date(src["last_import"]),
                      _date(src["last_sync"]), _days(src["age_days"]))
        if src.get("rejected"):
            notes.append(f"{name}: {src['rejected']} rejected CVEs kept out of results")
    nvd = status["sources"]["nvd"]
    if nvd["without_configurations"]:
        notes.append(f"nvd: {nvd['without_configurations']} records not yet analysed "
                     "(no configurations; CVE 5 data used where present)")
    kev = status["sources"]["kev"]
    if kev.get("catalog_version"):
        notes.append(f"kev: catalog {kev['catalog_version']}")
    console.print(table)
    if status.get("vendors"):
        by_vendor = Table(title="Coverage per vendor (records naming the vendor; newest date)",
                          title_justify="left")
        for column in ("vendor", "NVD", "newest", "CVE 5", "newest", "KEV", "newest"):
            by_vendor.add_column(column, justify="right" if column in (
                "NVD", "CVE 5", "KEV") else "left")
        for vendor, figures in status["vendors"].items():
            cells: list[str] = [vendor]
            for source in ("nvd", "cve5", "kev"):
                cells += [str(figures[source]["records"]), _date(figures[source]["newest"])[:10]]
            by_vendor.add_row(*cells)
        console.print(by_vendor)
    for line in notes:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    if status["empty"]:
        console.print(status["hint"], highlight=False, soft_wrap=True)


@app.command("status")
def status(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    db: str | None = DbOption,
) -> None:
    """Show per source: records, newest data, last import/sync and age; and per vendor what
    the KB holds (records per source, newest date), so "no known CVEs" can be weighed."""
    with _kb(db) as kb:
        data = kb.status()
        if fmt == Format.json:
            print_json(data)
        else:
            _print_status(data)


def _max_size(text: str | None) -> int:
    from routerwatch.kb import KBError
    from routerwatch.kb.reader import DEFAULT_MAX_SIZE, parse_size

    if text is None:
        return DEFAULT_MAX_SIZE
    try:
        return parse_size(text)
    except KBError as exc:
        fail(f"--max-size: {exc}")


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        None, help="Files and folders: NVD API 2.0 JSON, CVE JSON 5, KEV, EPSS CSV, bundles "
        "(plain, .gz or .xz; the kind is recognised by content)."
    ),
    starter: bool = typer.Option(False, "--starter", help="Import the bundled starter KB."),
    max_size: str = typer.Option(
        None, "--max-size", metavar="SIZE",
        help="Refuse files larger than this, on disk or decompressed (default 256M).",
    ),
    db: str | None = DbOption,
) -> None:
    """Import data files, folders and bundles in one transaction (all or nothing)."""
    limit = _max_size(max_size)
    if not paths and not starter:
        fail("give files or folders to import, or --starter for the bundled starter KB")
    with _kb(db) as kb:
        targets: list[Path] = list(paths or [])
        if starter:
            from routerwatch.kb.store import starter_bundle

            targets.insert(0, starter_bundle())
        result = kb.import_paths(targets, max_size=limit, progress=RichBar())
        console.print(result.summary(), highlight=False)
        for note in result.notes:
            warn(note)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r} is not an ISO date (e.g. 2026-10-01 or 2026-10-01T12:00:00)")


@app.command("sync")
def sync(
    source: list[SyncSource] = typer.Option(
        None, "--source", "-s", help="Source to sync (repeatable; default: nvd, kev, epss)."
    ),
    url: str = typer.Option(
        None, "--url",
        help="Base URL for the (single) --source instead of the public one "
        "(or $ROUTERWATCH_NVD_URL / _KEV_URL / _EPSS_URL).",
    ),
    since: str = typer.Option(
        None, "--since", help="NVD: fetch changes since this date instead of the last sync."
    ),
    full: bool = typer.Option(False, "--full", help="NVD: download every record again."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds to wait for a response."),
    db: str | None = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """Download NVD (API 2.0; NVD_API_KEY raises the rate limit), CISA KEV and EPSS.

    Says which source it is fetching from where as it goes; a source that cannot be reached
    (offline, DNS, firewall) ends at once with one line (exit 3), without retrying."""
    from routerwatch.kb import KBError
    from routerwatch.kb.sync import SYNC_SOURCES, SyncOptions, source_url
    from routerwatch.kb.sync import sync as run_sync

    set_verbosity(quiet)
    chosen = [s.value for s in source] if source else list(SYNC_SOURCES)
    if url and len(chosen) != 1:
        fail("--url needs exactly one --source")
    if not timeout > 0:
        fail("--timeout must be more than 0 seconds")
    after = _since(since)
    with _kb(db) as kb:
        for n, name in enumerate(chosen, 1):
            try:
                where = source_url(name, url)
            except KBError as exc:
                fail(str(exc))
            if not quiet:  # on stdout with the sync's result lines; errors alone on stderr
                console.print(f"[{n}/{len(chosen)}] syncing {name} from {where} ...",
                              highlight=False, markup=False, soft_wrap=True)
            options = SyncOptions(sources=[name], urls={name: url} if url else {},
                                  since=after, full=full, timeout=timeout)
            for line in run_sync(kb, options, progress=RichBar(enabled=not quiet)):
                console.print(line, highlight=False)


@app.command("export")
def export(
    file: Path = typer.Argument(..., help="Bundle file to write (xz-compressed)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    db: str | None = DbOption,
) -> None:
    """Write the whole KB as one checksummed bundle for air-gapped networks."""
    if file.exists() and not force:
        fail(f"{file} exists (use --force to overwrite)")
    check_output(file, label="the bundle")
    with _kb(db) as kb:
        manifest = kb.export(file, progress=RichBar())
        counts = ", ".join(f"{n} {s}" for s, n in manifest["counts"].items())
        console.print(f"wrote {file}: {counts} (sha256 {manifest['payload_sha256'][:16]}...)",
                      highlight=False)

