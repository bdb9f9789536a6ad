"""`routerwatch check`: the known CVEs of one device, each with why, how sure and what fixes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from routerwatch.cli.common import DbOption, ReportFormat, console, fail, print_json, warn
from routerwatch.identity.parse import parse_identity
from routerwatch.kb import KBError, ensure_starter, open_kb, stale_warning
from routerwatch.match import Matcher
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
    fmt: ReportFormat = typer.Option(
        ReportFormat.table,
        "--format",
        "-f",
        help="table or json (device + findings); csv, html, cyclonedx, sarif as full reports.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (or directory) instead of stdout."
    ),
    db: str | None = DbOption,
    show_all: bool = typer.Option(
        False, "--all", help="Also list CVEs that name the model but do not affect this device."
    ),
) -> None:
    """List the CVEs that affect one device (status affected/possible, KEV, EPSS, CVSS, fix)."""
    if not any(v and v.strip() for v in (text, vendor, model)):
        fail('say which device: TEXT (e.g. "TP-Link Archer AX21 v3") or --vendor/--model')
    try:
        identity = parse_identity(
            text, vendor=vendor, model=model, hardware=hardware, firmware=firmware, region=region
        )
    except ValueError as exc:
        fail(f"cannot read the device description: {exc}")
    findings: list[Finding] = []
    message = _unknown_message(identity)
    if message is None:
        matcher = _matcher(db)
        try:
            vendor_known, model_known = matcher.knows(identity)
        except KBError as exc:
            fail(str(exc))
        if not vendor_known:
            message = (
                f"the knowledge base has no CVEs for vendor {identity.vendor}; nothing to list "
                "(routerwatch does not guess)"
            )
        elif not model_known:
            message = (
                f"the knowledge base names no {identity.vendor} model {identity.model!r}; "
                "nothing to list (routerwatch does not guess). Check the model spelling."
            )
        else:
            try:
                findings = matcher.check(identity, include_unaffected=show_all)
            except KBError as exc:
                fail(str(exc))
    if fmt in (ReportFormat.table, ReportFormat.json) and output is None:
        render(identity, findings, fmt, message)
    elif fmt is ReportFormat.json:
        _write_json(identity, findings, message, output)
    else:
        _write_report(identity, findings, fmt, output, db)


def _check_json(
    identity: DeviceIdentity, findings: list[Finding], message: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "device": identity.to_dict(),
        "findings": [f.to_dict() for f in findings],
    }
    if message:
        data["message"] = message
    return data


def _write_json(
    identity: DeviceIdentity, findings: list[Finding], message: str | None, output: Path | None
) -> None:
    assert output is not None
    path = output / "routerwatch-check.json" if output.is_dir() else output
    try:
        path.write_text(json.dumps(_check_json(identity, findings, message), indent=2) + "\n")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    console.print(f"wrote json to {path}")


def _write_report(
    identity: DeviceIdentity,
    findings: list[Finding],
    fmt: ReportFormat,
    output: Path | None,
    db: str | None,
) -> None:
    """Other formats: a one-device report (assessed: risk, actions, EOL) in that format."""
    from datetime import UTC, datetime

    from routerwatch import __version__
    from routerwatch.assess import assess
    from routerwatch.cli.scan import emit
    from routerwatch.models import Report

    assessment = assess(identity, [f for f in findings if f.status != "not_affected"], [])
    try:
        with open_kb(db) as kb:
            kb_status = kb.status()
    except KBError as exc:
        fail(str(exc))
    report = Report(
        assessments=(assessment,),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        kind="check",
        scope=(identity.label(),),
        kb=kb_status,
    )
    emit(report, fmt.value, output)


def _unknown_message(identity: DeviceIdentity) -> str | None:
    if identity.vendor is None:
        return "routerwatch could not tell the vendor; no CVEs listed (it does not guess)"
    if identity.model is None:
        return f"no {identity.vendor} model given; no CVEs listed (routerwatch does not guess)"
    return None


def _matcher(db: str | None) -> Matcher:
    """A matcher over the KB's stored index: the check reads only the candidate records."""
    try:
        kb = open_kb(db)  # stays open while the matcher reads it (until the process ends)
        if ensure_starter(kb):
            warn("the knowledge base was empty: imported the starter bundle shipped with "
                 "routerwatch")
        stale = stale_warning(kb)
        matcher = Matcher.from_index(kb.match_index())
    except KBError as exc:
        fail(str(exc))
    if stale:
        warn(stale)
    return matcher


def render(
    identity: DeviceIdentity,
    findings: list[Finding],
    fmt: ReportFormat,
    message: str | None = None,
) -> None:
    """Print the result of one check as a table or as JSON."""
    if fmt is ReportFormat.json:
        print_json(_check_json(identity, findings, message))
        return
    console.print(Text(identity.label(), style="bold"))
    if message:
        console.print(message, highlight=False)
        return
    if not findings:
        console.print("No known CVEs affect this device in the knowledge base.", highlight=False)
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
