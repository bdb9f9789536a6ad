"""`routerwatch check`: the known CVEs of one device, each with why, how sure and what fixes it;
with ``--inventory FILE`` the same for every device of an asset list, in one report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from routerwatch.cli.common import (
    DbOption,
    FailOnOption,
    QuietOption,
    ReportFormat,
    ReportFormatOption,
    TodayOption,
    VerboseOption,
    check_output,
    console,
    fail,
    gate,
    parse_fail_on_or_fail,
    parse_today,
    set_verbosity,
)
from routerwatch.models import DeviceIdentity, Finding

_WIDE = 120  # console width from which the reason fits as a table column
_STATUS_STYLE = {"affected": "bold red", "possible": "yellow", "not_affected": "green"}


def check(
    text: str | None = typer.Argument(
        None, help='The device in words, e.g. "TP-Link Archer AX21 v3".', show_default=False
    ),
    vendor: str | None = typer.Option(None, "--vendor", help="Vendor, e.g. TP-Link."),
    model: str | None = typer.Option(None, "--model", help="Model, e.g. Archer AX21."),
    hardware: str | None = typer.Option(None, "--hardware", help="Hardware revision, e.g. 3."),
    firmware: str | None = typer.Option(
        None, "--firmware", help='Firmware as the device shows it, e.g. "1.1.4 Build 20230219".'
    ),
    region: str | None = typer.Option(None, "--region", help="Region, e.g. EU or US."),
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        "-i",
        help="Check every device of an asset list (CSV, JSON or YAML; columns vendor, model, "
        "hardware, firmware, site, address, ...; other columns are kept) in one report.",
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="Vendor policy file (or a shipped example name)."
    ),
    fmt: ReportFormat = ReportFormatOption,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (or directory) instead of stdout."
    ),
    db: str | None = DbOption,
    show_all: bool = typer.Option(
        False, "--all", help="Also list CVEs that name the model but do not affect this device."
    ),
    today: str | None = TodayOption,
    fail_on: list[str] = FailOnOption,
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
) -> None:
    """List the CVEs that affect one device (status affected/possible, KEV, EPSS, CVSS, fix),
    or with --inventory every device of an asset list.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage error, 3 runtime error
    (docs/cli.md)."""
    from routerwatch.cli.runtime import emit, kb_errors, load_engines_or_fail, load_policy_or_fail

    set_verbosity(quiet, verbose)
    thresholds = parse_fail_on_or_fail(fail_on)
    as_of = parse_today(today)
    if inventory is not None:
        if any(v for v in (text, vendor, model, hardware, firmware, region)):
            fail("--inventory checks the devices of the file: give no device on the command line")
        _check_inventory(inventory, policy, fmt, output, db, show_all, as_of, thresholds)
        return
    if not any(v and v.strip() for v in (text, vendor, model)):
        fail('say which device: TEXT (e.g. "TP-Link Archer AX21 v3") or --vendor/--model, '
             "or --inventory FILE")
    from routerwatch.identity.parse import parse_identity
    from routerwatch.pipeline import check_device, make_report, unmatched_reason

    try:
        identity = parse_identity(
            text, vendor=vendor, model=model, hardware=hardware, firmware=firmware, region=region
        )
    except ValueError as exc:
        fail(f"cannot read the device description: {exc}")
    check_output(output, fmt.value)
    pol = load_policy_or_fail(policy)
    engines = None
    if unmatched_reason(None, identity) is None:
        engines = load_engines_or_fail(db, fingerprints=False)
    if engines is None:
        from routerwatch.assess import assess

        message = unmatched_reason(None, identity)
        assessment = assess(identity, [], [], policy=pol, today=as_of)
    else:
        with kb_errors():
            result = check_device(
                engines, identity, policy=pol, include_unaffected=show_all, today=as_of
            )
        message, assessment = result.message, result.assessment
    report = make_report(
        [assessment], kind="check", engines=engines, scope=[identity.label()], policy=pol,
        warnings=[message] if message else [], today=as_of,
    )
    if fmt.value == "table" and output is None:
        render(identity, list(assessment.findings), message)
    else:
        emit(report, fmt.value, output)
    gate(report, thresholds)


def _check_inventory(
    path: Path,
    policy: str | None,
    fmt: ReportFormat,
    output: Path | None,
    db: str | None,
    show_all: bool,
    today: date | None,
    thresholds: tuple[str, ...] = (),
) -> None:
    import time

    from routerwatch.cli.runtime import emit, kb_errors, load_engines_or_fail, load_policy_or_fail
    from routerwatch.inventory import InventoryError, read_inventory
    from routerwatch.pipeline import check_inventory

    started = time.monotonic()
    try:
        rows = read_inventory(path)
    except InventoryError as exc:
        fail(str(exc))
    check_output(output, fmt.value)
    pol = load_policy_or_fail(policy)
    engines = load_engines_or_fail(db, fingerprints=False)
    with kb_errors():
        report = check_inventory(
            engines, rows, policy=pol, include_unaffected=show_all, scope=[str(path)],
            started=started, today=today,
        )
    emit(report, fmt.value, output)
    gate(report, thresholds)


def render(identity: DeviceIdentity, findings: list[Finding], message: str | None = None) -> None:
    """Print the result of one check as a table."""
    console.print(Text(identity.label(), style="bold"))
    if message:
        console.print(message, highlight=False)
        return
    if not findings:
        console.print("No known CVEs affect this device in the knowledge base (it covers this "
                      "model).", highlight=False)
        return
    wide = console.width >= _WIDE
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("CVE", "status", "KEV", "EPSS", "CVSS"):
        table.add_column(col, no_wrap=True)
    table.add_column("fixed in", overflow="fold", max_width=28)
    if wide:
        table.add_column("reason", overflow="fold", ratio=1)
    for f in findings:
        row: list[Any] = [
            f.cve,
            Text(f.status, style=_STATUS_STYLE.get(f.status, "")),
            Text("yes", style="bold red") if f.kev else "",
            f"{f.epss:.3f}" if f.epss is not None else "",
            f"{f.cvss:.1f}" if f.cvss is not None else "",
            f.fixed_in or "",
        ]
        table.add_row(*row, *([f.reason] if wide else []))
    console.print(table)
    if not wide:  # too narrow for a reason column: the reasons follow the table
        for f in findings:
            console.print(Text.assemble((f.cve, "bold"), " ", f.reason))
    counts = {s: sum(1 for f in findings if f.status == s) for s in _STATUS_STYLE}
    console.print(
        f"{counts['affected']} affected, {counts['possible']} possible"
        + (f", {counts['not_affected']} not affected" if counts["not_affected"] else ""),
        highlight=False,
    )
