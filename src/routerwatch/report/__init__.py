"""Report formats: render a Report as table text, JSON, CSV, HTML, CycloneDX 1.6 or SARIF.

The public API (the CLI's ``scan``, ``check``, ``audit-config``, ``demo`` and ``report`` call it)::

    FORMATS                                  # the registered names, in order
    REGISTRY[name] -> ReportFormatSpec       # renderer, default file name, description
    render(report, fmt) -> str               # the whole document as text
    print_table(report, console)             # the terminal view
    to_dict(report) / from_dict(data)        # the JSON document and its inverse (any format)
    write(report, fmt, output) -> Path|None  # stdout, a file, or a directory (default name)
    summary(report) -> dict
    ReportError

Adding a format is one module with a ``render_<name>(report) -> str`` function plus one
``register(...)`` line below; the CLI's ``--format`` choices and the tests follow the registry.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from routerwatch import outputs
from routerwatch.models import Report
from routerwatch.report.errors import ReportError
from routerwatch.report.jsonfmt import from_dict, to_dict
from routerwatch.report.summary import summary
from routerwatch.report.table import print_table


@dataclass(frozen=True)
class ReportFormatSpec:
    """One report format: ``renderer`` is "module:function", imported on first use (CycloneDX
    and Jinja2 cost time that a table view does not need)."""

    name: str
    renderer: str
    filename: str
    description: str


REGISTRY: dict[str, ReportFormatSpec] = {}


def register(spec: ReportFormatSpec) -> None:
    """Add a report format (its name becomes a ``--format`` choice everywhere)."""
    REGISTRY[spec.name] = spec


register(ReportFormatSpec("table", "routerwatch.report.table:render_table",
                          "routerwatch-report.txt", "the terminal view as plain text"))
register(ReportFormatSpec("json", "routerwatch.report.jsonfmt:render_json",
                          "routerwatch-report.json", "the report document (reads back)"))
register(ReportFormatSpec("csv", "routerwatch.report.csvfmt:render_csv",
                          "routerwatch-report.csv", "one row per finding or indicator"))
register(ReportFormatSpec("html", "routerwatch.report.html:render_html",
                          "routerwatch-report.html", "a self-contained page"))
register(ReportFormatSpec("cyclonedx", "routerwatch.report.cyclonedx:render_cyclonedx",
                          "routerwatch-report.cdx.json", "CycloneDX 1.6 with VEX"))
register(ReportFormatSpec("sarif", "routerwatch.report.sarif:render_sarif",
                          "routerwatch-report.sarif", "SARIF 2.1.0"))

FORMATS: tuple[str, ...] = tuple(REGISTRY)
DEFAULT_NAMES: dict[str, str] = {name: spec.filename for name, spec in REGISTRY.items()}

__all__ = [
    "DEFAULT_NAMES",
    "FORMATS",
    "REGISTRY",
    "ReportError",
    "ReportFormatSpec",
    "destination",
    "from_dict",
    "print_table",
    "register",
    "render",
    "summary",
    "to_dict",
    "write",
]


def _renderer(fmt: str) -> Callable[[Report], str]:
    spec = REGISTRY.get(fmt)
    if spec is None:
        raise ReportError(f"unknown report format {fmt!r}; choose one of: {', '.join(REGISTRY)}")
    module, _, function = spec.renderer.partition(":")
    render_fn: Callable[[Report], str] = getattr(importlib.import_module(module), function)
    return render_fn


def render(report: Report, fmt: str) -> str:
    """The whole document in format ``fmt`` (one of FORMATS) as text."""
    return _renderer(fmt)(report)


def destination(output: Path, fmt: str) -> Path:
    """The file ``write`` would write for ``output`` (checked now: call it before the work)."""
    try:
        return outputs.destination(output, DEFAULT_NAMES[fmt])
    except outputs.OutputError as exc:
        raise ReportError(str(exc)) from None


def write(report: Report, fmt: str, output: Path | None) -> Path | None:
    """Render and write the report.

    ``output`` None writes to stdout and returns None; an existing directory gets the
    format's default file name (DEFAULT_NAMES); anything else is the file to (over)write.
    The file appears complete or not at all. Returns the path written.
    """
    text = render(report, fmt)
    if output is None:
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:  # a terminal in a legacy encoding: send UTF-8 bytes
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
        return None
    path = destination(output, fmt)
    try:
        outputs.write_text(path, text)
    except OSError as exc:
        raise ReportError(
            str(exc) if isinstance(exc, outputs.OutputError)
            else f"cannot write {path}: {exc.strerror or exc}"
        ) from None
    return path
