"""The one error type of the report package."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be read, rendered or written; the message names what was wrong."""
