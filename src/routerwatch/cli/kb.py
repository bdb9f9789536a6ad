"""`routerwatch kb ...` (filled in by the knowledge-base work)."""

import typer

app = typer.Typer(help="Manage the vulnerability knowledge base.", no_args_is_help=True)
