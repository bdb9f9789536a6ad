"""`routerwatch report FILE`: re-render any JSON document routerwatch wrote, in any format."""

from __future__ import annotations

from pathlib import Path

import typer

from routerwatch.cli.common import (
    DbOption,
    QuietOption,
    ReportFormat,
    check_output,
    fail,
    set_verbosity,
)

MAX_BYTES = 64 * 1024 * 1024


def report(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A JSON document routerwatch wrote: a report of `scan`, `check` (also with "
        "--inventory), `audit-config` or `demo` (`--format json`, any format version), or an "
        "observations document (a scan's raw results), which is assessed against the KB.",
    ),
    fmt: ReportFormat = typer.Option(
        ReportFormat("table"), "--format", "-f", help="Output format."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file, or into this directory (default name)."
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="Vendor policy for assessing an observations document."
    ),
    db: str | None = DbOption,
    quiet: bool = QuietOption,
) -> None:
    """Re-render a saved JSON report as a table, JSON, CSV, HTML, CycloneDX or SARIF (or
    assess a saved observations document first)."""
    set_verbosity(quiet)
    from routerwatch.cli.runtime import emit
    from routerwatch.models import Report
    from routerwatch.schema import SchemaError, read_document

    check_output(output, fmt.value)
    raw = _load(file)
    try:
        doc = read_document(raw)
    except SchemaError as exc:
        fail(f"{file}: not a valid routerwatch document: {exc}")
    if isinstance(doc, Report):
        parsed = doc
    else:
        from routerwatch.cli.runtime import kb_errors, load_engines_or_fail, load_policy_or_fail
        from routerwatch.pipeline import assess_observations, make_report

        pol = load_policy_or_fail(policy)
        engines = load_engines_or_fail(db)
        with kb_errors():
            assessments = assess_observations(engines, doc.observations, policy=pol)
        parsed = make_report(
            assessments, kind=doc.run.kind, engines=engines, scope=doc.run.scope, policy=pol,
            run_id=doc.run.id,
        )
    emit(parsed, fmt.value, output)


def _load(file: Path) -> bytes:
    """Read the file, failing with one clear line on any problem."""
    if not file.exists():
        fail(f"{file}: no such file")
    if not file.is_file():
        fail(f"{file}: not a regular file")
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror or exc}")
    if len(raw) > MAX_BYTES:
        fail(f"{file}: larger than {MAX_BYTES // (1024 * 1024)} MiB, not a routerwatch report")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text (byte {exc.start}): not a JSON report")
    return raw.removeprefix(b"\xef\xbb\xbf")
