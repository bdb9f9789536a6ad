"""The one error type of the schema: a message that names the field that was wrong."""

from __future__ import annotations


class SchemaError(ValueError):
    """Input that is not a valid routerwatch document; ``str()`` names the bad field first.

    ``path`` is the field's JSON path (``hosts[2].findings[0].status``), empty for the whole
    document.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message
