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


#: Exit status of a runtime error (the work could not be done); 2 is a usage error.
RUNTIME = 3


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line and exit non-zero (never a traceback): 2 for usage errors
    (the default: bad flags, arguments, inputs, output paths), RUNTIME (3) when the work
    could not be done (see routerwatch.gate for the contract).

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


class _Output:
    """How chatty this run is (``-q`` 0, default 1, ``--verbose`` 2) and the warnings given."""

    level = 1
    warned: set[str] = set()


def set_verbosity(quiet: bool = False, verbose: bool = False) -> None:
    """From ``-q/--quiet`` and ``-v/--verbose`` (both given: an error line)."""
    if quiet and verbose:
        fail("--quiet and --verbose exclude each other")
    _Output.level = 0 if quiet else 2 if verbose else 1
    _Output.warned = set()


def is_quiet() -> bool:
    return _Output.level == 0


def warn(message: str) -> None:
    """A warning on stderr: once per problem, none under ``-q``."""
    if message in _Output.warned:
        return
    _Output.warned.add(message)
    if _Output.level == 0:
        return
    err_console.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


def already_warned() -> frozenset[str]:
    """The warnings printed (or silenced) so far: a report's table does not repeat them."""
    return frozenset(_Output.warned)


def note(message: str) -> None:
    """A progress or status line on stderr ("wrote ...", "scanned ..."); none under ``-q``."""
    if _Output.level >= 1:
        err_console.print(message, highlight=False, soft_wrap=True, markup=False)


def detail(message: str) -> None:
    """What ``--verbose`` adds (timings, KB details, per-host probe errors)."""
    if _Output.level >= 2:
        err_console.print(Text(message, style="dim"), highlight=False, soft_wrap=True)


QuietOption = typer.Option(
    False, "--quiet", "-q",
    help="Only results and errors: no progress bar, no warnings, no status lines.",
)
VerboseOption = typer.Option(
    False, "--verbose", "-v", help="Also say what was done: the KB used, scan size, timings."
)
FailOnOption = typer.Option(
    [],
    "--fail-on",
    help="Exit 1 when the result has findings at or above this threshold: critical, high, "
    "medium, low (affected findings of that severity or worse, or a compromised device), "
    "kev, compromised, policy. Repeatable or comma-separated. Exit codes: 0 clean, 1 "
    "findings at/above the threshold, 2 usage error, 3 runtime error, 130 interrupted "
    "(docs/cli.md).",
    show_default=False,
)


def parse_fail_on_or_fail(values: list[str] | None) -> tuple[str, ...]:
    """``--fail-on`` checked before the work starts (a bad value: one error line, exit 2)."""
    from routerwatch.gate import GateError, parse_fail_on

    try:
        return parse_fail_on(values or [])
    except GateError as exc:
        fail(str(exc))


def gate(report: Any, thresholds: tuple[str, ...]) -> None:
    """Exit 1, saying why on stderr, when the report crosses a ``--fail-on`` threshold."""
    if not thresholds:
        return
    from routerwatch.gate import EXIT_FINDINGS, failures, report_facts

    reasons = failures(report_facts(report), thresholds)
    if reasons:
        err_console.print(
            Text.assemble(("fail-on:", "bold red"), " ", "; ".join(reasons)), soft_wrap=True
        )
        raise typer.Exit(EXIT_FINDINGS)


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
