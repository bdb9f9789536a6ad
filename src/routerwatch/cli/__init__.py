"""Command-line interface: Typer commands only; the work is done by the stages."""
