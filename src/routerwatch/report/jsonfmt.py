"""The JSON report: the Report as a routerwatch.schema document, and back.

The shape is the ``report`` document of :mod:`routerwatch.schema` (format 2; JSON Schema in
docs/schema/report.schema.json, described in docs/reports.md)::

    {"routerwatch": {"version": "0.1.0", "format": 2, "document": "report"}, "kind": "scan",
     "generated": "...", "run_id": "...", "today": "...", "scope": [...], "kb": {...},
     "kb_snapshot": {...}, "policy": null, "elapsed": 1.2, "warnings": [...], "summary": {...},
     "hosts": [Assessment, ...]}

``summary`` is derived and ignored on reading. ``from_dict`` reads every format routerwatch
ever wrote (older ones are upgraded) and raises ReportError naming the first bad field
(``hosts[2].findings[0].status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routerwatch.jsontext import escape_unsafe
from routerwatch.models import Report
from routerwatch.report.errors import ReportError
from routerwatch.report.summary import summary
from routerwatch.schema import (
    FORMAT,
    SchemaError,
    decode_report,
    encode_report,
    report_document,
    to_builtins,
)

FORMAT_VERSION = FORMAT


def to_dict(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (the current format)."""
    data: dict[str, Any] = to_builtins(report_document(report, summary(report)))
    return data


def render_json(report: Report) -> str:
    """The JSON document, indented; checked to read back before it is returned."""
    raw = encode_report(report, summary(report))
    try:
        decode_report(raw)
    except SchemaError as exc:  # e.g. NaN (written as null) where a number is required
        raise ReportError(f"report holds a value JSON cannot carry: {exc}") from exc
    return escape_unsafe(msgspec.json.format(raw, indent=2).decode("utf-8")) + "\n"


def from_dict(data: bytes | str | Mapping[str, Any]) -> Report:
    """Read a report (JSON text or parsed data, any format version) back."""
    try:
        return decode_report(data)
    except SchemaError as exc:
        raise ReportError(str(exc)) from None
