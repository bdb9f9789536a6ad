"""The `routerwatch` command: wires the command modules together, lazily.

Each command's module (and what it imports: the KB, SQLAlchemy, the scanner) is loaded only
when that command runs or shows its own help, so `routerwatch --help` imports none of them.
The one-line summaries of `routerwatch --help` are kept here (a test checks they equal the
commands' own docstrings).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from routerwatch import __version__

# name -> (module, attribute: a Typer app or a command function, the first sentence of its
# help, shown by `routerwatch --help`; tests/test_cli_basics.py checks they agree)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "kb": ("routerwatch.cli.kb", "app", "Manage the vulnerability knowledge base."),
    "lab": ("routerwatch.cli.lab", "app", "Run emulated routers on loopback addresses."),
    "serve": ("routerwatch.cli.serve", "app",
              "Run the fleet monitoring server (REST API, inventory over time, events)."),
    "check": ("routerwatch.cli.check", "check",
              "List the CVEs that affect one device (status affected/possible, KEV, EPSS, "
              "CVSS, fix), or with --inventory every device of an asset list."),
    "scan": ("routerwatch.cli.scan", "scan",
             "Scan TARGETS for routers, identify them and report CVEs, botnet indicators and "
             "exposure."),
    "creds": ("routerwatch.cli.creds", "app",
              "Keep device credentials (SSH, SNMPv3, RouterOS API, TR-064) for read-only "
              "credentialed scans, encrypted at rest."),
    "audit-config": ("routerwatch.cli.audit", "audit_config",
                     "Check a router configuration export for signs of compromise and risky "
                     "settings."),
    "report": ("routerwatch.cli.report", "report",
               "Re-render a saved JSON report as a table, JSON, CSV, HTML, CycloneDX or SARIF "
               "(or assess a saved observations document first)."),
    "demo": ("routerwatch.cli.demo", "demo",
             "Start the emulated router lab on loopback, scan it, assess every device, print "
             "the summary and write the HTML report (plus JSON, CSV, CycloneDX and SARIF) into "
             "--output."),
    "assess": ("routerwatch.cli.assess", "assess",  # dask, pyarrow: imported on use only
               "Assess scan datasets in bulk: read (streaming), identify routers, match CVEs, "
               "run the compromise/exposure checks and assess every host, on a local Dask "
               "cluster (default), an existing one (--scheduler) or in this process "
               "(--single-process)."),
    "agent": ("routerwatch.cli.agent", "app",
              "Check this machine's default gateway (and nothing else) on a schedule and report "
              "it to a fleet server (outbound only; results queue on disk while it is "
              "unreachable)."),
    "sensor": ("routerwatch.cli.sensor", "app",
               "Run the scan jobs the fleet server schedules for this site, only within the "
               "local scope, and upload the results (outbound only)."),
}


def load_command(name: str) -> Any:
    """Import one command's module and build its Click command (a group for kb and lab)."""
    module, attr, _summary = COMMANDS[name]
    target = getattr(importlib.import_module(module), attr)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer(pretty_exceptions_enable=False, rich_markup_mode=None)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _plain_help(command)
    return command


def _plain_help(command: Any) -> None:
    """The same plain help everywhere (Typer's Rich help for sub-apps costs ~0.1 s)."""
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class LazyGroup(TyperGroup):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        cached = self.commands.get(cmd_name)
        if cached is None:
            cached = self.commands[cmd_name] = load_command(cmd_name)
        return cached

    def invoke(self, ctx: Any) -> Any:
        """Ctrl-C anywhere else than a scan (which writes what finished): one line, exit 130
        (the contract of docs/cli.md), not Click's "Aborted!" and exit 1."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from COMMANDS, without importing any command module."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_m, _a, summary) in COMMANDS.items()])


app = typer.Typer(
    name="routerwatch",
    cls=LazyGroup,
    help=(
        "Find SOHO routers, identify vendor/model/firmware, list their known vulnerabilities "
        "(NVD, CVE 5, CISA KEV, EPSS), spot botnet indicators and say what to do about it."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help: importing Rich's formatter costs ~0.1 s
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"routerwatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """routerwatch: which routers you have, what is wrong with them, and what to do."""
    from routerwatch.cli.common import set_verbosity

    set_verbosity()  # each run starts chatty-by-default with no warning given yet


def run(args: Any = None) -> None:
    app(args)
