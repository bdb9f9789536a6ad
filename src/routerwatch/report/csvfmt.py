"""CSV: one row per device, per (device, finding) and per (device, indicator).

The ``type`` column says which (``device``, ``finding``, ``indicator``). Cells that a
spreadsheet would take for a formula (starting with = + - @, tab or carriage return, after any
leading blanks) get a leading apostrophe, so a hostile banner cannot become ``=HYPERLINK(...)``
in someone's spreadsheet. Control characters (ANSI escapes, bidi overrides) are escaped as in
the terminal view, so ``cat report.csv`` is safe too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from routerwatch.models import Assessment, Report
from routerwatch.report.summary import host_name
from routerwatch.report.text import fmt_score, printable

COLUMNS: tuple[str, ...] = (
    "type",
    "address",
    "vendor",
    "model",
    "hardware",
    "firmware",
    "confidence",
    "risk",
    "risk_level",
    "id",
    "status",
    "severity",
    "cvss",
    "kev",
    "kev_date",
    "epss",
    "fixed_in",
    "certainty",
    "campaign",
    "title",
    "detail",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Escape control characters; prefix an apostrophe when a spreadsheet would read a formula.

    Leading blanks are looked through: some spreadsheets trim them before parsing.
    """
    cell = printable(cell)
    return "'" + cell if cell.lstrip(" ").startswith(_FORMULA_START) else cell


def _bool(value: bool) -> str:
    return "yes" if value else "no"


def _rows(a: Assessment, index: int) -> Iterable[dict[str, str]]:
    ident = a.identity
    base = {
        "address": host_name(a, index),
        "vendor": ident.vendor or "",
        "model": ident.model or "",
        "hardware": ident.hardware or "",
        "firmware": ident.firmware or "",
        "confidence": f"{ident.confidence:.2f}",
        "risk": f"{a.risk:.1f}",
        "risk_level": a.risk_level,
    }
    actions = sorted(a.actions, key=lambda x: x.priority)
    yield {
        **base,
        "type": "device",
        "title": ident.label(),
        "detail": " | ".join(
            [f"{x.priority}. {x.text}" for x in actions]
            + [f"policy: {p}" for p in a.policy]
            + ([f"end of life: {a.eol}"] if a.eol else [])
        ),
    }
    for f in a.findings:
        yield {
            **base,
            "type": "finding",
            "id": f.cve,
            "status": f.status,
            "severity": (f.severity or "").lower(),
            "cvss": fmt_score(f.cvss),
            "kev": _bool(f.kev),
            "kev_date": f.kev_date or "",
            "epss": fmt_score(f.epss, 5),
            "fixed_in": f.fixed_in or "",
            "campaign": "; ".join(f.exploited_by),
            "title": f.description,
            "detail": f.reason,
        }
    for r in a.readiness:
        plan = a.replacement
        planned = (
            f"plan: {plan.target_model or '?'} {'' if plan.cost is None else f'{plan.cost:g}'} "
            f"{plan.currency} by {plan.deadline or '?'}"
            if plan
            else ""
        )
        yield {
            **base,
            "type": "readiness",
            "id": f"{r.policy}/{r.restriction}",
            "status": r.status,
            "title": r.reason,
            "detail": " | ".join(
                x
                for x in (
                    f"deadline {r.deadline}" if r.deadline else "",
                    f"updates until {r.updates_until}" if r.updates_until else "",
                    r.exception or r.detail,
                    planned,
                    ", ".join(f"{k}={v}" for k, v in a.extra),
                )
                if x
            ),
        }
    for ind in a.indicators:
        yield {
            **base,
            "type": "indicator",
            "id": ind.rule,
            "status": ind.kind,
            "certainty": ind.certainty,
            "campaign": ind.campaign or "",
            "title": ind.title,
            "detail": " | ".join(f"{e.source}: {e.value}" for e in ind.evidence),
        }


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for index, a in enumerate(report.assessments):
        for row in _rows(a, index):
            writer.writerow([neutralise(row.get(col, "")) for col in COLUMNS])
    return buf.getvalue()
