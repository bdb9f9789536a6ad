"""The documents routerwatch writes and reads: a header, then the models of routerwatch.models.

Every document starts with ``"routerwatch": {"version": ..., "format": N, "document": ...}``.
``format`` is the integer version of the shape (FORMAT); ``document`` says what follows:

* ``report``: a Report (the hosts are its Assessments), written by scan/check/demo/audit-config;
* ``observations``: a ScanRun header plus the Observations of that run (agent uploads,
  bulk readers), to be assessed later.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

from routerwatch.models import (
    Assessment,
    IsoDate,
    KbSnapshot,
    Observation,
    ReportKind,
    ScanRun,
    Seconds,
)

#: The current format version. See docs/schema/README.md for when it changes.
FORMAT = 2

DocumentKind = Literal["report", "observations"]


class Header(Struct, frozen=True, gc=False):
    """``"routerwatch": {...}``: the tool version that wrote the document and its format."""

    version: str
    format: Annotated[int, Meta(ge=0, le=2**31)]
    document: DocumentKind = "report"


class ReportDocument(Struct, frozen=True, gc=False, kw_only=True):
    """A Report on the wire. ``summary`` is derived (report.summary) and ignored on reading."""

    routerwatch: Header
    kind: ReportKind = "scan"
    generated: str = ""
    run_id: str | None = None
    today: IsoDate | None = None
    scope: tuple[str, ...] = ()
    kb: dict[str, Any] = field(default_factory=dict)
    kb_snapshot: KbSnapshot | None = None
    policy: str | None = None
    elapsed: Seconds = 0.0
    partial: bool = False  # interrupted: only the hosts that finished (see Report.partial)
    warnings: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    hosts: tuple[Assessment, ...]


class ObservationBatch(Struct, frozen=True, gc=False, kw_only=True):
    """One run's observations: what an agent uploads and a bulk reader produces."""

    routerwatch: Header
    run: ScanRun
    observations: tuple[Observation, ...] = ()


class Envelope(Struct, frozen=True, gc=False):
    """Only the header: read first, to pick the decoder (or the upgrade) for the rest."""

    routerwatch: Header
