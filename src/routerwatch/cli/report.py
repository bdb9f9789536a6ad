"""`routerwatch report` (placeholder until its issue lands)."""

from routerwatch.cli.common import fail


def report() -> None:
    """Not available yet."""
    fail("this command is not available yet")
