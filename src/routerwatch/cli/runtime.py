"""What the pipeline commands (scan, check, demo, report, audit-config) share at the CLI edge:
engines from ``--db``, a policy from ``--policy``, and a Report written per ``--format`` and
``--output``. Errors end as one line (cli.common.fail)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from routerwatch.cli.common import console, fail, warn

if TYPE_CHECKING:
    from routerwatch.assess.policy import Policy
    from routerwatch.models import Report
    from routerwatch.pipeline import Engines


def load_policy_or_fail(policy: str | None) -> Policy | None:
    """The vendor policy named by ``--policy`` (a file or a shipped example), or None."""
    if not policy:
        return None
    from routerwatch.assess import PolicyError, load_policy

    try:
        return load_policy(policy)
    except PolicyError as exc:
        fail(str(exc))


def load_engines_or_fail(db: str | None, *, fingerprints: bool = True) -> Engines:
    """Open the KB (importing the starter bundle on first use) and build the engines. The KB
    stays open while the matcher reads it (until the process ends). An up-to-date SQLite KB
    is read the lean way (no SQLAlchemy/Alembic import, cached status)."""
    from routerwatch.kb import KBError
    from routerwatch.pipeline import load_engines_lean

    try:
        lean = load_engines_lean(db, fingerprints=fingerprints)
    except KBError as exc:
        fail(str(exc))
    if lean is not None:
        if lean.kb_warning:
            warn(lean.kb_warning)
        return lean
    from routerwatch.kb import ensure_starter, open_kb
    from routerwatch.pipeline import load_engines

    try:
        kb = open_kb(db)
        if ensure_starter(kb):
            warn("the knowledge base was empty: imported the starter bundle shipped with "
                 "routerwatch")
        engines = load_engines(kb, fingerprints=fingerprints)
    except KBError as exc:
        fail(str(exc))
    if engines.kb_warning:
        warn(engines.kb_warning)
    return engines


@contextmanager
def kb_errors() -> Iterator[None]:
    """Around pipeline calls: a KB that fails while the matcher reads it ends as one line."""
    from routerwatch.kb import KBError

    try:
        yield
    except KBError as exc:
        fail(str(exc))


def emit(report: Report, fmt: str, output: Path | None) -> None:
    """Print or write the report in the chosen format (a table goes to the terminal)."""
    from routerwatch.report import ReportError, print_table, write

    try:
        if fmt == "table" and output is None:
            print_table(report, console)
            return
        path = write(report, fmt, output)
    except (ReportError, OSError) as exc:
        fail(f"cannot write the {fmt} report: {exc}")
    if path is not None:
        console.print(f"wrote {fmt} report to {path}", highlight=False)
