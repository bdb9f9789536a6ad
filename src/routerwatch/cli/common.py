"""Helpers shared by the CLI commands: console, errors, output formats, progress bars."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


def _report_formats() -> list[tuple[str, str]]:
    from routerwatch.report import FORMATS

    return [(name, name) for name in FORMATS]


#: The registered report formats (routerwatch.report.REGISTRY) as a CLI choice.
ReportFormat = StrEnum("ReportFormat", _report_formats())  # type: ignore[misc]


#: ``--format`` of the commands whose result is a report (scan, check, audit-config, ...).
ReportFormatOption = typer.Option(
    ReportFormat("table"),
    "--format",
    "-f",
    help="table, or a report: json (reads back with `routerwatch report`), csv, html, "
    "cyclonedx, sarif.",
)

TodayOption = typer.Option(
    None,
    "--today",
    help="Assess as of this date, YYYY-MM-DD (end of life, policy deadlines); default: today.",
    show_default=False,
)


def parse_today(value: str | None) -> date | None:
    """``--today`` as a date (None: the real today); a bad value ends with one error line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"--today: not a date (YYYY-MM-DD): {value!r}")


DbOption = typer.Option(
    None, "--db", help="Database URL (default: $ROUTERWATCH_DB, else SQLite in the data dir)."
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line and exit non-zero (never a traceback).

    The message is plain text, not Rich markup: file names like "[x].txt" print as they are.
    """
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    raise typer.Exit(code)


def check_output(
    output: Path | None, *formats: str, name: str | None = None, label: str | None = None
) -> None:
    """Fail now, before the work starts, when ``--output`` cannot take the report(s).

    ``formats``: the report formats that will be written there (their default file names
    are used when ``output`` is a directory; ``name`` overrides them); none: ``output`` is
    a plain file (e.g. a bundle). A directory that does not exist yet (demo) needs an
    existing, writable parent. See routerwatch.outputs for what is refused.
    """
    from routerwatch import outputs
    from routerwatch.report import DEFAULT_NAMES

    if output is None:
        return
    what = label or (f"the {formats[0]} report" if len(formats) == 1 else "the output")
    try:
        if len(formats) > 1 and not output.exists():  # a report directory to be created
            outputs.destination(output)
            return
        for fmt in formats or (None,):
            default = name or (DEFAULT_NAMES.get(fmt) if fmt else None)
            outputs.destination(output, default)
    except outputs.OutputError as exc:
        fail(f"cannot write {what}: {exc}")


def warn(message: str) -> None:
    err_console.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


def print_json(data: Any) -> None:
    """Write JSON to stdout, unstyled, for machines."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str))
    sys.stdout.write("\n")


class RichBar:
    """The Progress observer (routerwatch.progress) drawn as a Rich progress bar on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        self._bar: RichProgress | None = None
        self._task: Any = None
        self._enabled = enabled and err_console.is_terminal

    def start(self, label: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self._bar.start()
        self._task = self._bar.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
