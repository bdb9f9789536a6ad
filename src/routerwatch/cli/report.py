"""`routerwatch report FILE`: re-render a saved JSON report in another format."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from routerwatch.cli.common import ReportFormat, console, fail

MAX_BYTES = 64 * 1024 * 1024


def report(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A JSON report saved by `scan --format json` or written by `demo`.",
    ),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file, or into this directory (default name)."
    ),
) -> None:
    """Re-render a saved JSON report as a table, JSON, CSV, HTML, CycloneDX or SARIF."""
    from routerwatch.report import ReportError, from_dict, print_table, write

    data = _load(file)
    try:
        parsed = from_dict(data)
    except ReportError as exc:
        fail(f"{file}: not a valid routerwatch report: {exc}")
    try:
        if fmt is ReportFormat.table and output is None:
            print_table(parsed, console)
            return
        path = write(parsed, fmt.value, output)
    except ReportError as exc:
        fail(f"cannot write the {fmt.value} report: {exc}")
    if path is not None:
        console.print(f"wrote {fmt.value} report to {path}", highlight=False)


def _load(file: Path) -> object:
    """Read and parse the file, failing with one clear line on any problem."""
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
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text (byte {exc.start}): not a JSON report")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{file}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        fail(f"{file}: JSON nested too deeply")
