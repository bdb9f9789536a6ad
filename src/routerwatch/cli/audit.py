"""`routerwatch audit-config` (placeholder until its issue lands)."""

from routerwatch.cli.common import fail


def audit_config() -> None:
    """Not available yet."""
    fail("this command is not available yet")
