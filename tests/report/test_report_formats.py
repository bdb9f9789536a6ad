"""One snapshot per format, plus the table's and CSV's defences against hostile strings."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from rich.console import Console

from routerwatch.models import DeviceIdentity, Report, replace
from routerwatch.report import FORMATS, ReportError, print_table, render
from routerwatch.report.csvfmt import COLUMNS, neutralise

SNAPSHOT_NAMES = {
    "table": "report.txt",
    "json": "report.json",
    "csv": "report.csv",
    "html": "report.html",
    "cyclonedx": "report.cdx.json",
    "sarif": "report.sarif",
}


def test_formats_are_the_documented_six() -> None:
    assert FORMATS == ("table", "json", "csv", "html", "cyclonedx", "sarif")


@pytest.mark.parametrize("fmt", FORMATS)
def test_snapshot(fmt: str, report: Report, snapshot: Callable[[str, str], None]) -> None:
    text = render(report, fmt)
    assert render(report, fmt) == text, "rendering is deterministic"
    snapshot(SNAPSHOT_NAMES[fmt], text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_report_renders(fmt: str, empty_report: Report) -> None:
    assert render(empty_report, fmt).strip()


def test_unknown_format_names_the_choices(report: Report) -> None:
    with pytest.raises(ReportError, match="unknown report format 'pdf'; choose one of: table"):
        render(report, "pdf")


# --------------------------------------------------------------------------- table


def test_table_shows_summary_hosts_and_actions(report: Report) -> None:
    text = render(report, "table")
    assert "routerwatch scan report" in text
    assert "hosts 4   identified 3   vulnerable 2   compromised 2   with KEV CVEs 2" in text
    assert "Quad7 xlogin shell" in text
    assert "2 in KEV" in text
    assert "Top actions" in text
    assert all(len(line) <= 120 for line in text.splitlines())
    assert text.index("192.168.1.1 ") < text.index("192.168.1.20")


def test_table_neutralises_terminal_escapes_and_markup(report: Report) -> None:
    hostile = replace(
        report.assessments[1],
        identity=DeviceIdentity(vendor="[bold red]ASUS[/]", model="RT\x1b[2JAX55\u202e"),
    )
    buf = io.StringIO()
    console = Console(file=buf, width=120, force_terminal=True, color_system="truecolor")
    print_table(replace(report, assessments=(hostile,)), console)
    out = buf.getvalue()
    assert "\x1b[2J" not in out, "a device must not clear the user's screen"
    assert "\u202e" not in out
    assert "RT\\x1b[2JAX55\\u202e" in out, "shown escaped instead"
    assert "[bold red]ASUS[/]" in render(replace(report, assessments=(hostile,)), "table")


@pytest.mark.parametrize("width", [80, 100, 200])
def test_table_fits_the_terminal(report: Report, width: int) -> None:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    print_table(report, console)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= min(width, 120)
    assert any("Quad7" in line for line in lines)


def test_print_table_of_an_empty_report(empty_report: Report) -> None:
    assert "No devices in this report." in render(empty_report, "table")


# --------------------------------------------------------------------------- CSV


def test_csv_rows_per_device_finding_and_indicator(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert tuple(rows[0]) == COLUMNS
    kinds = [r["type"] for r in rows]
    assert kinds.count("device") == 4
    assert kinds.count("finding") == sum(len(a.findings) for a in report.assessments)
    assert kinds.count("indicator") == sum(len(a.indicators) for a in report.assessments)
    quad7 = next(r for r in rows if r["id"] == "quad7-xlogin-7777")
    assert (quad7["type"], quad7["address"], quad7["certainty"]) == (
        "indicator",
        "192.168.1.1",
        "high",
    )
    kev = next(r for r in rows if r["id"] == "CVE-2023-33538")
    assert (kev["status"], kev["kev"], kev["kev_date"], kev["cvss"]) == (
        "affected",
        "yes",
        "2025-06-16",
        "8.8",
    )


def test_csv_has_no_formula_cells(report: Report) -> None:
    text = render(report, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    cells = {cell for row in rows for cell in row}
    assert '\'=HYPERLINK("http://evil.example/","update")' in cells
    assert "'+SUM(1,2) firmware =1+1 is before the fixed 3.0.0.4.386_51529" in cells
    assert '\'@SUM(A1) command injection <script>alert("pwned")</script>' in cells
    assert "\x1b" not in text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "' =1"),
        ("  =1", "'  =1"),
        ("a=1", "a=1"),
        ("", ""),
        ("TP-Link", "TP-Link"),
    ],
)
def test_neutralise(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_csv_quoting_survives_commas_quotes_and_newlines(report: Report) -> None:
    a = replace(
        report.assessments[2],
        identity=DeviceIdentity(vendor='Ac"me, Inc.', model="line1\nline2"),
    )
    rows = list(csv.DictReader(io.StringIO(render(replace(report, assessments=(a,)), "csv"))))
    assert rows[0]["vendor"] == 'Ac"me, Inc.'
    assert rows[0]["model"] == "line1 line2"
