"""The one versioned data format of routerwatch: every model that crosses a process boundary.

The models are the frozen dataclasses of :mod:`routerwatch.models`; this package is their only
serialiser (msgspec). Documents carry a header ``{"version", "format", "document"}``::

    encode(model) -> bytes / decode(data, Model) -> Model      # any model, strict
    encode_lines(models) / decode_lines(data, Model) -> [Model]  # JSON Lines (bulk, agents)
    encode_report(report, summary) / decode_report(data) -> Report
    encode_observations(run, observations) / decode_observations(data) -> ObservationBatch
    read_document(data) -> Report | ObservationBatch           # any format version
    device_key(observation), asset_key(...), finding_id(key, ref), new_run_id()
    SchemaError                                                # names the bad field

Format versions and the upgrade rule: docs/schema/README.md. JSON Schemas: docs/schema/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from routerwatch.models import Observation, Report, ScanRun
from routerwatch.schema.codec import (
    decode,
    decode_lines,
    encode,
    encode_lines,
    from_builtins,
    to_builtins,
)
from routerwatch.schema.documents import (
    FORMAT,
    Envelope,
    Header,
    ObservationBatch,
    ReportDocument,
)
from routerwatch.schema.errors import SchemaError
from routerwatch.schema.ids import (
    asset_key,
    description_key,
    device_key,
    device_keys,
    finding_id,
    new_run_id,
    normalise_mac,
)
from routerwatch.schema.upgrade import UPGRADES, legacy_check, upgrade

__all__ = [
    "FORMAT",
    "UPGRADES",
    "Header",
    "ObservationBatch",
    "ReportDocument",
    "SchemaError",
    "asset_key",
    "decode",
    "decode_lines",
    "decode_observations",
    "decode_report",
    "description_key",
    "device_key",
    "device_keys",
    "encode",
    "encode_lines",
    "encode_observations",
    "encode_report",
    "finding_id",
    "from_builtins",
    "new_run_id",
    "normalise_mac",
    "read_document",
    "report_document",
    "report_from_document",
    "to_builtins",
]


def _version() -> str:
    from routerwatch import __version__

    return __version__


def report_document(report: Report, summary: Mapping[str, Any] | None = None) -> ReportDocument:
    """The Report as its wire document (format FORMAT); ``summary`` is stored as given."""
    return ReportDocument(
        routerwatch=Header(version=report.tool_version, format=FORMAT, document="report"),
        kind=report.kind,
        generated=report.generated,
        run_id=report.run_id,
        today=report.today,
        scope=report.scope,
        kb=report.kb,
        kb_snapshot=report.kb_snapshot,
        policy=report.policy,
        elapsed=report.elapsed,
        partial=report.partial,
        warnings=report.warnings,
        summary=dict(summary or {}),
        hosts=report.assessments,
    )


def report_from_document(doc: ReportDocument) -> Report:
    return Report(
        assessments=doc.hosts,
        generated=doc.generated,
        tool_version=doc.routerwatch.version,
        kind=doc.kind,
        scope=doc.scope,
        kb=doc.kb,
        policy=doc.policy,
        elapsed=doc.elapsed,
        warnings=doc.warnings,
        run_id=doc.run_id,
        kb_snapshot=doc.kb_snapshot,
        today=doc.today,
        partial=doc.partial,
    )


def encode_report(report: Report, summary: Mapping[str, Any] | None = None) -> bytes:
    return encode(report_document(report, summary))


def decode_report(data: bytes | str | Mapping[str, Any]) -> Report:
    """Read a report of any supported format; SchemaError names the first bad field."""
    doc = read_document(data)
    if not isinstance(doc, Report):
        raise SchemaError(
            "this is an observations document (a scan's raw results), not a report", "routerwatch"
        )
    return doc


def encode_observations(run: ScanRun, observations: Iterable[Observation]) -> bytes:
    return encode(
        ObservationBatch(
            routerwatch=Header(version=_version(), format=FORMAT, document="observations"),
            run=run,
            observations=tuple(observations),
        )
    )


def decode_observations(data: bytes | str | Mapping[str, Any]) -> ObservationBatch:
    doc = read_document(data)
    if not isinstance(doc, ObservationBatch):
        raise SchemaError("this is a report, not an observations document", "routerwatch")
    return doc


_TYPES: dict[str, type[Any]] = {"report": ReportDocument, "observations": ObservationBatch}


def read_document(data: bytes | str | Mapping[str, Any]) -> Report | ObservationBatch:
    """Any document routerwatch writes, of any format up to FORMAT, validated.

    ``data`` is JSON text/bytes or already-parsed JSON. Older formats are upgraded step by step
    (routerwatch.schema.upgrade); a newer format is refused with a clear message.
    """
    text = isinstance(data, bytes | str)
    parsed: Any = None if text else data
    header: Header | None = None
    if text:
        try:
            header = decode(data, Envelope).routerwatch  # type: ignore[arg-type]
        except SchemaError as exc:
            if exc.path != "routerwatch":
                raise
            parsed = _parse(data)  # type: ignore[arg-type]
    if header is None:
        if not isinstance(parsed, Mapping):
            raise SchemaError("expected a JSON object", "document")
        if "routerwatch" not in parsed:
            legacy = legacy_check(dict(parsed), _version())
            if legacy is None:
                raise SchemaError(
                    "not a routerwatch document: the 'routerwatch' header "
                    '({"version": ..., "format": N}) is missing'
                )
            parsed = legacy
        header = from_builtins({"routerwatch": parsed["routerwatch"]}, Envelope).routerwatch
    oldest = min([*UPGRADES, FORMAT])
    if not oldest <= header.format <= FORMAT:
        newer = header.format > FORMAT
        raise SchemaError(
            f"format {header.format} is not supported: written by "
            f"{'a newer' if newer else 'an unknown'} routerwatch (this one reads formats "
            f"{oldest} to {FORMAT})",
            "routerwatch.format",
        )
    kind = _TYPES[header.document]
    if header.format == FORMAT and text and parsed is None:
        doc = decode(data, kind)  # type: ignore[arg-type]
    else:
        if parsed is None:
            parsed = _parse(data)  # type: ignore[arg-type]
        if header.format != FORMAT:
            parsed = upgrade(_copy(parsed), header.format, FORMAT)
        doc = from_builtins(parsed, kind)
    return report_from_document(doc) if isinstance(doc, ReportDocument) else doc


def _parse(data: bytes | str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from None
    except RecursionError:
        raise SchemaError("JSON nested too deeply") from None


def _copy(value: Any) -> Any:
    """A deep copy of parsed JSON (upgrade steps edit in place; the caller's data stays)."""
    return msgspec.json.decode(msgspec.json.encode(value))
