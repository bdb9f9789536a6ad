"""Report formats: render a Report as table text, JSON, CSV, HTML, CycloneDX 1.6 or SARIF.

The public API (the CLI's ``scan``, ``check``, ``demo`` and ``report`` call it)::

    FORMATS                                  # table json csv html cyclonedx sarif
    render(report, fmt) -> str               # the whole document as text
    print_table(report, console)             # the terminal view
    to_dict(report) / from_dict(data)        # the JSON shape (format 1) and its inverse
    write(report, fmt, output) -> Path|None  # stdout, a file, or a directory (default name)
    summary(report) -> dict
    ReportError
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from routerwatch.models import Report
from routerwatch.report.errors import ReportError
from routerwatch.report.jsonfmt import from_dict, to_dict
from routerwatch.report.summary import summary
from routerwatch.report.table import print_table

FORMATS: tuple[str, ...] = ("table", "json", "csv", "html", "cyclonedx", "sarif")

DEFAULT_NAMES: dict[str, str] = {
    "table": "routerwatch-report.txt",
    "json": "routerwatch-report.json",
    "csv": "routerwatch-report.csv",
    "html": "routerwatch-report.html",
    "cyclonedx": "routerwatch-report.cdx.json",
    "sarif": "routerwatch-report.sarif",
}

__all__ = [
    "DEFAULT_NAMES",
    "FORMATS",
    "ReportError",
    "from_dict",
    "print_table",
    "render",
    "summary",
    "to_dict",
    "write",
]


def _renderer(fmt: str) -> Callable[[Report], str]:
    # Imported on demand: CycloneDX and Jinja2 cost time that a table view does not need.
    if fmt == "table":
        from routerwatch.report.table import render_table

        return render_table
    if fmt == "json":
        from routerwatch.report.jsonfmt import render_json

        return render_json
    if fmt == "csv":
        from routerwatch.report.csvfmt import render_csv

        return render_csv
    if fmt == "html":
        from routerwatch.report.html import render_html

        return render_html
    if fmt == "cyclonedx":
        from routerwatch.report.cyclonedx import render_cyclonedx

        return render_cyclonedx
    if fmt == "sarif":
        from routerwatch.report.sarif import render_sarif

        return render_sarif
    raise ReportError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def render(report: Report, fmt: str) -> str:
    """The whole document in format ``fmt`` (one of FORMATS) as text."""
    return _renderer(fmt)(report)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and rename: all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    path = Path(output).expanduser()
    if path.is_dir():
        path = path / DEFAULT_NAMES[fmt]
    if not path.parent.is_dir():
        raise ReportError(f"directory {path.parent} does not exist")
    try:
        _atomic_write(path, text)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
