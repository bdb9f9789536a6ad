"""What the pipeline commands (scan, check, demo, report, audit-config) share at the CLI edge:
engines from ``--db``, a policy from ``--policy``, and a Report written per ``--format`` and
``--output``. Errors end as one line (cli.common.fail)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from routerwatch.cli.common import (
    RUNTIME,
    already_warned,
    console,
    detail,
    fail,
    is_quiet,
    warn,
)

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
    from routerwatch.fingerprint.nuclei import check_env
    from routerwatch.fingerprint.rules import RuleError
    from routerwatch.kb import KBError

    try:
        check_env()  # a bad ROUTERWATCH_NUCLEI_TEMPLATES: one line, before any work
    except RuleError as exc:
        fail(str(exc))
    from routerwatch.pipeline import load_engines_lean

    try:
        lean = load_engines_lean(db, fingerprints=fingerprints)
    except KBError as exc:
        fail(str(exc))
    if lean is not None:
        return _announced(lean)
    from routerwatch.kb import ensure_starter, open_kb
    from routerwatch.pipeline import load_engines

    try:
        kb = open_kb(db)
    except KBError as exc:  # the --db given cannot be used: a usage error
        fail(str(exc))
    try:
        if ensure_starter(kb):
            warn("the knowledge base was empty: imported the starter bundle shipped with "
                 "routerwatch")
        engines = load_engines(kb, fingerprints=fingerprints)
    except KBError as exc:
        fail(str(exc), RUNTIME)
    return _announced(engines)


def _announced(engines: Engines) -> Engines:
    """The KB's staleness warning, and under --verbose which KB snapshot this run uses."""
    if engines.kb_warning:
        warn(engines.kb_warning)
    detail(f"knowledge base {engines.kb_snapshot.id}: {engines.kb_snapshot.records} records; "
           "newest " + ", ".join(f"{k} {str(v)[:10] if v else 'unknown'}"
                                 for k, v in engines.kb_snapshot.newest.items()))
    return engines


@contextmanager
def kb_errors() -> Iterator[None]:
    """Around pipeline calls: a KB that fails while the matcher reads it, or fingerprint rules
    loaded on first use that cannot be used, end as one line."""
    from routerwatch.fingerprint.rules import RuleError
    from routerwatch.kb import KBError

    try:
        yield
    except RuleError as exc:  # bad fingerprint/nuclei rules: a usage error
        fail(str(exc))
    except KBError as exc:
        fail(str(exc), RUNTIME)


def emit(report: Report, fmt: str, output: Path | None) -> None:
    """Print or write the report in the chosen format (a table goes to the terminal)."""
    from routerwatch.report import ReportError, print_table, write

    try:
        if fmt == "table" and output is None:
            print_table(report, console, shown=already_warned())
            return
        path = write(report, fmt, output)
    except (ReportError, OSError) as exc:
        fail(f"cannot write the {fmt} report: {exc}", RUNTIME)
    if path is not None and not is_quiet():  # stdout holds no report here: say where it is
        console.print(f"wrote {fmt} report to {path}", highlight=False, soft_wrap=True)
