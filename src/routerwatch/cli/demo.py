"""`routerwatch demo`: the whole pipeline against the emulated lab, on loopback only."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from routerwatch.cli.common import (
    RUNTIME,
    QuietOption,
    VerboseOption,
    already_warned,
    check_output,
    console,
    fail,
    set_verbosity,
    warn,
)
from routerwatch.cli.readiness import (
    EXCEPTIONS_HELP,
    INVENTORY_HELP,
    PLAN_HELP,
    REGULATIONS_HELP,
    build_inputs,
)

if TYPE_CHECKING:
    from routerwatch.lab import LabDevice
    from routerwatch.models import Report
    from routerwatch.pipeline import Engines

DEMO_FORMATS = ("html", "json", "csv", "cyclonedx", "sarif")


def demo(
    output: Path = typer.Option(
        Path("routerwatch-report"), "--output", "-o", help="Directory for the reports."
    ),
    base: str = typer.Option(
        "127.0.30.0", "--base", help="Loopback base address for the lab (127.0.0.0/8 only)."
    ),
    policy: str = typer.Option(
        "phase-out-tp-link",
        "--policy",
        help="Vendor policy to demonstrate (a shipped example name or a file; 'none' for none).",
    ),
    inventory: Path | None = typer.Option(
        None, "--inventory", help=INVENTORY_HELP + " Default: the lab's example inventory."
    ),
    exceptions: Path | None = typer.Option(
        None, "--exceptions", help=EXCEPTIONS_HELP + " Default: the lab's example register."
    ),
    plan: Path | None = typer.Option(
        None, "--plan", help=PLAN_HELP + " Default: the lab's example plan."
    ),
    regulations: str | None = typer.Option(None, "--regulations", help=REGULATIONS_HELP),
    db: str | None = typer.Option(None, "--db", help="Knowledge base URL."),
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
    no_bulk: bool = typer.Option(False, "--no-bulk", help="Skip the bulk-assessment step "
                                 "(a generated Shodan + masscan dataset assessed to Parquet)."),
    no_creds: bool = typer.Option(False, "--no-creds", help="Skip the credentialed step (three "
                                  "routers of the credentialed lab scanned without and with "
                                  "their owners' credentials)."),
    no_fleet: bool = typer.Option(False, "--no-fleet", help="Skip the fleet-server step "
                                  "(routerwatch serve on 127.0.0.1, the scan uploaded to it)."),
) -> None:
    """Start the emulated router lab on loopback, scan it, assess every device, print the
    summary and write the HTML report (plus JSON, CSV, CycloneDX and SARIF) into --output.

    Then it scans three routers of the credentialed lab without and with their owners'
    credentials (read-only logins; --no-creds skips it), and it shows the other front ends on
    the same core: a bulk assessment of a generated
    Shodan + masscan dataset into Parquet tables (bulk/; --no-bulk skips it) and a real fleet
    server on 127.0.0.1 with this scan uploaded to it, its dashboard's overview page saved and
    one enrolled agent that probes its (recorded) home gateway, a lab router, and reports it
    (fleet/; --no-fleet skips it).

    The ban-readiness section uses the lab's example inventory, exceptions register and
    replacement plan (src/routerwatch/lab/demo/) unless you give your own files.

    Needs no network beyond loopback: the knowledge base is the bundled starter KB when yours
    is empty. The lab is stopped again at the end.
    """
    from routerwatch.cli.common import RichBar
    from routerwatch.cli.runtime import kb_errors, load_engines_or_fail, load_policy_or_fail
    from routerwatch.config import db_url
    from routerwatch.lab import Lab
    from routerwatch.pipeline import run_scan
    from routerwatch.report import ReportError, print_table, write
    from routerwatch.scan.scanner import ScanOptions
    from routerwatch.scan.scope import ScopeError, parse_scope

    set_verbosity(quiet, verbose)
    if output.exists() and not output.is_dir():
        fail(f"--output {output} exists and is not a directory")
    check_output(output, *DEMO_FORMATS)
    started = time.monotonic()
    pol = load_policy_or_fail(None if policy.lower() == "none" else policy)
    from routerwatch.lab.demo_data import demo_inputs

    default_inventory, default_exceptions, default_plan = demo_inputs()
    readiness = build_inputs(
        inventory or default_inventory,
        exceptions or default_exceptions,
        plan or default_plan,
        regulations,
        always=True,
    )
    engines = load_engines_or_fail(db)
    try:
        lab = Lab(base=base)
        lab.start()
    except (OSError, ValueError) as exc:
        fail(f"cannot start the lab on {base}: {exc}", RUNTIME)
    try:
        devices = lab.devices()
        addresses = [d.address for d in devices]
        try:
            scope = parse_scope(addresses)
        except ScopeError as exc:
            fail(str(exc))
        console.print(
            f"[bold]routerwatch demo[/]: {len(devices)} emulated devices on "
            f"{addresses[0]}–{addresses[-1]} (loopback only)"
        )
        bar = RichBar(enabled=not quiet)
        try:
            with kb_errors():
                report = run_scan(
                    scope,
                    engines,
                    targets=[f"{addresses[0]}-{addresses[-1]}"],
                    options=ScanOptions(host_timeout=8.0),
                    policy=pol,
                    progress=bar,
                    kind="demo",
                    readiness=readiness,
                )
        finally:
            bar.finish()
        print_table(report, console, shown=already_warned())
        _score(report, devices)
        output.mkdir(parents=True, exist_ok=True)
        for fmt in DEMO_FORMATS:
            try:
                path = write(report, fmt, output)
            except (ReportError, OSError) as exc:
                fail(f"cannot write the {fmt} report: {exc}", RUNTIME)
            console.print(f"wrote {fmt:<9} {path}")
        kb_url = db_url(db)
        if not no_creds:
            _creds_step(engines)
        if not no_bulk:
            _bulk_step(output, kb_url, engines)
        if not no_fleet:  # the lab still runs: the agent's "gateway" is one of its routers
            _fleet_step(report, output, kb_url, _agent_gateway(devices))
    finally:
        lab.stop()
    took = time.monotonic() - started
    console.print(f"demo finished in {took:.1f} s; open {output / 'routerwatch-report.html'}")
    if took > 60:
        warn("the demo took longer than 60 s")


def _creds_step(engines: Engines) -> None:
    """Credentialed reads (issue 17's `scan --creds`) of three credentialed-lab routers."""
    from routerwatch.creds.demo import DEMO_BASE, creds_step

    try:
        result = creds_step(engines)
    except (OSError, ValueError) as exc:
        warn(f"credentialed step skipped: cannot start the credentialed lab on {DEMO_BASE}: "
             f"{exc}")
        return
    console.print(result.line(), highlight=False)


def _bulk_step(output: Path, kb_url: str, engines: Engines) -> None:
    """Bulk assessment (issue 15's `routerwatch assess`) of a small generated scan dataset."""
    from routerwatch.bulk.io import DatasetError
    from routerwatch.bulk.service import demo_step

    try:
        _result, line = demo_step(output / "bulk", kb_url, engines=engines)
    except (DatasetError, OSError) as exc:
        warn(f"bulk step skipped: {exc}")
        return
    console.print(line, highlight=False)


def _agent_gateway(devices: Sequence[LabDevice]) -> str | None:
    """The lab router the demo's agent takes for its home gateway: a TP-Link one (the
    vendor of most US home routers) when the lab has one."""
    routers = [d for d in devices if d.identity is not None]
    tplink = [d for d in routers if (d.identity.vendor or "") == "TP-Link"]  # type: ignore[union-attr]
    chosen = (tplink or routers or list(devices))
    return chosen[0].address if chosen else None


def _fleet_step(report: Report, output: Path, kb_url: str, gateway: str | None) -> None:
    """The fleet server (`routerwatch serve`) on loopback, with this scan uploaded to it and
    one enrolled agent's round against ``gateway``."""
    from routerwatch.report import to_dict
    from routerwatch.server.demo import FleetDemoError, fleet_step

    try:
        fleet = fleet_step(to_dict(report), output / "fleet", kb_url, gateway=gateway)
    except (FleetDemoError, OSError) as exc:
        warn(f"fleet step skipped: {exc}")
        return
    console.print(fleet.line(), highlight=False)


def _score(report: Report, devices: Sequence[LabDevice]) -> None:
    """Tell how many lab devices were identified correctly (the lab knows the truth)."""
    from routerwatch.identity.hardware import model_key

    truth = {d.address: d.identity for d in devices if d.identity is not None}
    got = {a.address: a.identity for a in report.assessments}
    right = 0
    for address, true in truth.items():
        seen = got.get(address)
        if (
            seen is not None
            and seen.vendor == true.vendor
            and seen.model is not None
            and true.model is not None
            and model_key(seen.model) == model_key(true.model)
        ):
            right += 1
    console.print(
        f"identified vendor and model of {right} of {len(truth)} lab routers "
        f"(the other {len(devices) - len(truth)} lab hosts are hostile or a decoy)"
    )
