"""`routerwatch lab ...` (filled in by the lab work)."""

import typer

app = typer.Typer(help="Run emulated routers on loopback addresses.", no_args_is_help=True)
