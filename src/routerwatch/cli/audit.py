"""`routerwatch audit-config FILE`: indicators from the owner's own configuration export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from routerwatch.cli.common import (
    FailOnOption,
    QuietOption,
    ReportFormat,
    ReportFormatOption,
    VerboseOption,
    check_output,
    console,
    fail,
    gate,
    parse_fail_on_or_fail,
    set_verbosity,
)

if TYPE_CHECKING:
    from routerwatch.checks.config_audit import ConfigAudit

KNOWN_KEYS_MAX = 2**20


def _list(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def _known_keys(path: Path) -> list[str]:
    from routerwatch.checks.config_audit import parse_ssh_keys

    where = f"--known-key {path}"
    try:
        if path.is_dir():
            fail(f"{where}: is a directory")
        with open(path, "rb") as f:
            data = f.read(KNOWN_KEYS_MAX + 1)
    except FileNotFoundError:
        fail(f"{where}: no such file")
    except OSError as e:
        fail(f"{where}: cannot read: {e.strerror or e}")
    if len(data) > KNOWN_KEYS_MAX:
        fail(f"{where}: larger than 1 MiB, not an authorized_keys file")
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        fail(f"{where}: not UTF-8 text")
    if not parse_ssh_keys(lines):
        fail(f"{where}: no SSH public keys found (expected authorized_keys lines)")
    return lines


_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def audit_config(
    file: Path = typer.Argument(
        ..., help="Configuration export: name=value text (nvram show), XML or JSON."
    ),
    dns_allow: str | None = typer.Option(
        None, "--dns-allow", help="Comma-separated DNS servers or networks you use on purpose."
    ),
    isp_dns: str | None = typer.Option(
        None, "--isp-dns", help="Comma-separated DNS servers your ISP hands out."
    ),
    known_key: Path | None = typer.Option(
        None, "--known-key", help="authorized_keys-style file with your own SSH public keys."
    ),
    fmt: ReportFormat = ReportFormatOption,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to this file or directory."
    ),
    fail_on: list[str] = FailOnOption,
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
) -> None:
    """Check a router configuration export for signs of compromise and risky settings.

    Reads the file only (nothing is contacted): DNS servers that are not yours or well known
    (GhostDNS-style hijack), SSH keys not in --known-key and SSH on TCP 53282 (AyySSHush),
    remote management on the WAN, telnet, UPnP and odd port forwards.

    Exit status: 0 clean, 1 findings at or above --fail-on (e.g. compromised), 2 usage
    error, 3 runtime error (docs/cli.md).
    """
    from routerwatch.checks.config_audit import ConfigAuditError
    from routerwatch.cli.runtime import emit
    from routerwatch.pipeline import audit_config as run

    set_verbosity(quiet, verbose)
    thresholds = parse_fail_on_or_fail(fail_on)
    check_output(output, fmt.value)
    keys = _known_keys(known_key) if known_key is not None else []
    try:
        audited = run(file, dns_allow=_list(dns_allow), isp_dns=_list(isp_dns), known_keys=keys)
    except ConfigAuditError as e:
        fail(str(e))
    if fmt.value != "table" or output is not None:
        emit(audited.report, fmt.value, output)
    else:
        _print_audit(audited.audit)
    gate(audited.report, thresholds)


def _print_audit(result: ConfigAudit) -> None:
    """The terminal view of one config audit."""
    compromise = sum(1 for i in result.indicators if i.kind == "compromise")
    found = (
        f"{len(result.indicators)} indicator(s), {compromise} of compromise"
        if result.indicators
        else "no indicators"
    )
    console.print(
        f"[bold]{escape(result.name)}[/] ({result.format}, {result.settings} settings): {found}",
        highlight=False,
        soft_wrap=True,
    )
    if result.indicators:
        table = Table(show_lines=True)
        table.add_column("certainty", no_wrap=True)
        table.add_column("indicator", overflow="fold", ratio=1)
        table.add_column("evidence", overflow="fold", ratio=1)
        for i in result.indicators:
            table.add_row(
                f"[{_STYLE[i.certainty]}]{i.certainty}[/]",
                f"{escape(i.title)}\n[dim]{escape(i.rule)} ({i.kind})"
                + (f" · {escape(i.campaign)}" if i.campaign else "")
                + "[/]",
                escape("\n".join(f"{e.source}: {e.value}" for e in i.evidence)),
            )
        console.print(table)
        refs = sorted(
            {r for i in result.indicators if i.kind == "compromise" for r in i.references}
        )
        if refs:
            console.print("[bold]references[/]")
            for r in refs:
                console.print(f"  {escape(r)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    if any(i.kind == "compromise" and i.certainty == "high" for i in result.indicators):
        console.print(
            "[bold red]Treat this router as compromised:[/] disconnect it, factory-reset it, "
            "update its firmware and change every password it stored (see docs/checks.md)."
        )
