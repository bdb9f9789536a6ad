"""The terminal view (Rich): summary panel, one row per device, top actions, warnings.

Every device-supplied string goes through ``printable`` and into ``Text`` objects, never into
Rich markup, so a banner can neither inject markup nor terminal escape sequences.
"""

from __future__ import annotations

import io
from collections.abc import Collection

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from routerwatch.models import Assessment, Report
from routerwatch.report.readiness import table_section
from routerwatch.report.summary import SEVERITIES, host_name, summary
from routerwatch.report.text import printable, shorten

WIDTH = 120
RISK_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "none": "green",
}
SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "none": "dim",
    "unknown": "dim",
}


def whole_items(items: list[str], width: int) -> str:
    """``a, b, c and 4 more``: as many whole items (addresses) as fit in ``width``; an item
    is never cut short."""
    shown: list[str] = []
    used = 0
    for n, item in enumerate(items):
        rest = len(items) - n - 1
        tail = len(f" and {rest} more") if rest else 0
        if shown and used + 2 + len(item) + tail > width:
            return ", ".join(shown) + f" and {len(items) - len(shown)} more"
        shown.append(item)
        used += len(item) + (2 if len(shown) > 1 else 0)
    return ", ".join(shown)


def _t(text: str, style: str = "") -> Text:
    return Text(printable(text), style=style)


def _freshness(info: dict[str, object]) -> str:
    """ "228 records, newest 2026-07-05" from one source of `kb status`."""
    records = info.get("records")
    text = f"{records} records" if records is not None else "?"
    newest = info.get("newest") or info.get("last_sync")  # never the import date
    text += f", newest {str(newest)[:10]}" if newest else ", data date unknown"
    return text


def _kb_line(kb: dict[str, object]) -> str:
    """One line about the knowledge base: its sources and how fresh they are."""
    sources = kb.get("sources")
    parts: list[str] = []
    if isinstance(sources, dict):
        for name, info in sources.items():
            when = _freshness(info) if isinstance(info, dict) else str(info)
            parts.append(f"{name} {when}")
    else:
        for key, value in kb.items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                parts.append(f"{key} {value}")
    return ", ".join(parts) if parts else "no knowledge-base status recorded"


def _summary_panel(report: Report, width: int) -> Panel:
    s = summary(report)
    head = Text()
    head.append(f"generated {printable(report.generated) or '?'}", style="dim")
    head.append(f"  ·  routerwatch {printable(report.tool_version)}", style="dim")
    if report.elapsed:
        head.append(f"  ·  {report.elapsed:.1f} s", style="dim")
    lines: list[Text] = [head]
    if report.scope:
        lines.append(_t("scope: " + shorten(", ".join(report.scope), 100)))
    counts = Text()
    for label, key, style in (
        ("hosts", "hosts", "bold"),
        ("identified", "identified", "bold"),
        ("vulnerable", "vulnerable", "bold red" if s["vulnerable"] else "bold"),
        ("compromised", "compromised", "bold white on red" if s["compromised"] else "bold"),
        ("with KEV CVEs", "kev", "bold red" if s["kev"] else "bold"),
        ("possible KEV", "kev_possible", "yellow" if s.get("kev_possible") else "bold"),
        ("not covered by the KB", "not_covered", "yellow" if s.get("not_covered") else "bold"),
    ):
        counts.append(f"{label} ")
        counts.append(str(s.get(key, 0)), style=style)
        counts.append("   ")
    lines.append(counts)
    sev = Text("findings: ")
    for i, name in enumerate(SEVERITIES):
        if i:
            sev.append(" · ")
        sev.append(f"{name} {s['by_severity'][name]}", style=SEVERITY_STYLE[name])
    lines.append(sev)
    vendors = " · ".join(f"{k} {v}" for k, v in s["by_vendor"].items()) or "none"
    lines.append(_t(f"vendors: {vendors}"))
    lines.append(_t(f"knowledge base: {_kb_line(report.kb)}", "dim"))
    if report.policy:
        lines.append(_t(f"policy: {report.policy}"))
    for site in s["replace_by_site"]:
        if site["replace_count"]:
            lines.append(
                _t(
                    f"replace at {site['site']}: {site['replace_count']} of {site['devices']} "
                    f"devices ({whole_items(site['to_replace'], 80)})"
                )
            )
    return Panel(
        Group(*lines),
        title=Text(f"routerwatch {report.kind} report", style="bold"),
        title_align="left",
        box=box.ROUNDED,
        width=width,
    )


def _device_cell(a: Assessment) -> Text:
    ident = a.identity
    text = _t(ident.label(), "bold" if ident.vendor else "dim")
    text.append(f"\nconfidence {ident.confidence:.0%}", style="dim")
    if a.eol:
        text.append(f"\nend of life {printable(a.eol)}", style="yellow")
    for item in a.policy:
        text.append("\npolicy: " + printable(shorten(item, 60)), style="magenta")
    if a.site:
        text.append("\nsite " + printable(a.site), style="dim")
    return text


def _risk_cell(a: Assessment) -> Text:
    level = a.risk_level.lower()
    text = Text(printable(level.upper()), style=RISK_STYLE.get(level, ""))
    text.append(f"\n{a.risk:.0f}/100", style="dim")
    return text


def _cve_cell(a: Assessment) -> Text:
    affected = [f for f in a.findings if f.status == "affected"]
    possible = [f for f in a.findings if f.status == "possible"]
    kev = sum(1 for f in affected if f.kev)
    text = Text()
    if not affected and not possible:
        cov = a.coverage
        if cov is not None and cov.level != "yes" and a.identity.model:
            # "none known" only where the KB covers the model (Assessment.coverage)
            text.append("not covered", style="yellow")
            text.append("\nby the KB", style="dim")
        else:
            text.append("none known", style="green")
        return text
    text.append(f"{len(affected)} affected", style="red" if affected else "")
    if kev:
        text.append(f"\n{kev} in KEV", style="bold red")
    campaigns = dict.fromkeys(c for f in affected + possible for c in f.exploited_by)
    if campaigns:
        names = printable(shorten(", ".join(campaigns), 60))
        text.append(f"\nexploited by {names}", style="bold red")
    if possible:
        text.append(f"\n{len(possible)} possible", style="yellow")
    return text


def _indicator_cell(a: Assessment) -> Text:
    if not a.indicators:
        return Text("none", style="green")
    text = Text()
    for i, ind in enumerate(a.indicators):
        if i:
            text.append("\n")
        style = "bold red" if ind.kind == "compromise" else "yellow"
        text.append(printable(shorten(ind.title or ind.rule, 38)), style=style)
        text.append(f" ({ind.certainty})", style="dim")
    return text


def _action_cell(a: Assessment) -> Text:
    if not a.actions:
        return Text("nothing to do", style="dim")
    first = min(a.actions, key=lambda x: x.priority)
    text = _t(shorten(first.text, 80))
    if len(a.actions) > 1:
        text.append(f"\n+{len(a.actions) - 1} more", style="dim")
    return text


COMPACT_BELOW = 110


def _hosts_table(report: Report, width: int) -> Table:
    """One row per device; below 110 columns indicators and action go under the device."""
    compact = width < COMPACT_BELOW
    table = Table(
        title="Devices",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_lines=True,
        width=width,
        expand=True,
    )
    table.add_column("Address", width=15 if compact else 17, overflow="fold")
    table.add_column("Device", ratio=4, overflow="fold")
    table.add_column("Risk", width=9, no_wrap=True)
    table.add_column("CVEs", width=11, no_wrap=True)
    if not compact:
        table.add_column("Indicators", ratio=3, overflow="fold")
        table.add_column("First action", ratio=3, overflow="fold")
    for index, a in enumerate(report.assessments):
        ports = ", ".join(str(p) for p in a.open_ports)
        addr = _t(host_name(a, index))
        if ports:
            addr.append("\nports " + shorten(ports, 40), style="dim")
        if compact:
            device = _device_cell(a)
            if a.indicators:
                device.append("\n")
                device.append_text(_indicator_cell(a))
            if a.actions:
                device.append("\n→ ", style="bold")
                device.append_text(_action_cell(a))
            table.add_row(addr, device, _risk_cell(a), _cve_cell(a))
        else:
            table.add_row(
                addr,
                _device_cell(a),
                _risk_cell(a),
                _cve_cell(a),
                _indicator_cell(a),
                _action_cell(a),
            )
    return table


def _actions_table(report: Report, width: int) -> Table | None:
    actions = summary(report)["top_actions"]
    if not actions:
        return None
    table = Table(title="Top actions", title_justify="left", box=box.SIMPLE_HEAD, width=width)
    rows = []
    for act in actions:
        hosts = [printable(h) for h in act["hosts"]]
        rows.append(hosts[:3] + ([f"+{len(hosts) - 3} more"] if len(hosts) > 3 else []))
    # the Devices column as wide as its longest address (an IPv6 address is 39): never cut
    devices = max(10, *(len(h) for r in rows for h in r))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Action", ratio=4, overflow="fold")
    table.add_column("Devices", width=devices, no_wrap=True)
    for n, (act, shown) in enumerate(zip(actions, rows, strict=True), 1):
        table.add_row(str(n), _t(act["kind"], "bold"), _t(act["text"]), Text("\n".join(shown)))
    return table


def print_table(report: Report, console: Console, *, shown: Collection[str] = ()) -> None:
    """Print the terminal view of the report to ``console`` (at most 120 columns wide).

    ``shown``: warnings the caller already told the user (they are not repeated)."""
    width = min(WIDTH, console.width)
    console.print(_summary_panel(report, width))
    if report.assessments:
        console.print(_hosts_table(report, width))
    else:
        console.print(Text("No devices in this report.", style="dim"))
    actions = _actions_table(report, width)
    if actions is not None:
        console.print(actions)
    readiness = table_section(report)
    if readiness is not None:
        console.print(readiness, width=width)
    for warning in report.warnings:
        if warning in shown:
            continue
        line = Text("warning: ", style="yellow")
        line.append(printable(warning))
        console.print(line)


def render_table(report: Report) -> str:
    """The terminal view as plain text, 120 columns wide (no colour codes)."""
    console = Console(
        file=io.StringIO(),
        record=True,
        width=WIDTH,
        color_system=None,
        force_terminal=False,
        legacy_windows=False,
        emoji=False,
        highlight=False,
    )
    print_table(report, console)
    return console.export_text(styles=False)
