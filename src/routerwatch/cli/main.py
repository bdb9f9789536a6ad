"""The `routerwatch` command: wires the command modules together."""

from __future__ import annotations

import typer

from routerwatch import __version__
from routerwatch.cli import assess, audit, check, demo, kb, lab, report, scan, serve

app = typer.Typer(
    name="routerwatch",
    help=(
        "Find SOHO routers, identify vendor/model/firmware, list their known vulnerabilities "
        "(NVD, CVE 5, CISA KEV, EPSS), spot botnet indicators and say what to do about it."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(kb.app, name="kb")
app.add_typer(lab.app, name="lab")
app.add_typer(serve.app, name="serve")
app.command("check")(check.check)
app.command("scan")(scan.scan)
app.command("audit-config")(audit.audit_config)
app.command("report")(report.report)
app.command("demo")(demo.demo)
app.command("assess")(assess.assess)  # heavy imports (dask, pyarrow) stay inside the command


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


def run() -> None:
    app()
