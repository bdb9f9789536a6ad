"""The "ban readiness" section of every report format, in one place.

Each format module calls one function here, so the section reads the same everywhere:
:func:`readiness_summary` (counts, planned cost, the regulations checked), :func:`readiness_rows`
(one row per device and restriction), the JSON writer/reader helpers and :func:`table_section`.
"""

from __future__ import annotations

from typing import Any

from routerwatch.models import Assessment, ReplacementPlan, Report

__all__ = [
    "STATUS_LABELS",
    "has_readiness",
    "readiness_properties",
    "readiness_rows",
    "readiness_run_properties",
    "readiness_summary",
    "table_section",
]

STATUS_LABELS = {
    "affected": "must act",
    "exception-expired": "exception expired",
    "excepted": "excepted",
    "unknown": "needs inventory data",
}
_ITEM_FIELDS = (
    "policy",
    "restriction",
    "status",
    "reason",
    "scope",
    "effective",
    "deadline",
    "updates_until",
    "detail",
    "exception",
    "source",
)


def has_readiness(report: Report) -> bool:
    return any(a.readiness or a.extra or a.replacement for a in report.assessments)


def _label(a: Assessment) -> str:
    return a.identity.label()


def readiness_rows(report: Report) -> list[dict[str, Any]]:
    """One row per (device, restriction), most urgent first."""
    rows = []
    for a in report.assessments:
        plan = a.replacement or ReplacementPlan()
        inventory = dict(a.extra)
        for item in a.readiness:
            rows.append(
                {
                    "address": a.address or "",
                    "device": _label(a),
                    **{k: getattr(item, k) or "" for k in _ITEM_FIELDS},
                    "status_label": STATUS_LABELS.get(item.status, item.status),
                    "country_of_production": inventory.get("country_of_production", ""),
                    "fcc_id": inventory.get("fcc_id", ""),
                    "owner": inventory.get("owner", "") or (plan.owner or ""),
                    "isp_managed": inventory.get("isp_managed", ""),
                    "target_model": plan.target_model or "",
                    "cost": "" if plan.cost is None else f"{plan.cost:g}",
                    "currency": plan.currency,
                    "plan_deadline": plan.deadline or "",
                }
            )
    order = {"affected": 0, "exception-expired": 0, "unknown": 1, "excepted": 2}
    rows.sort(key=lambda r: (order.get(r["status"], 3), r["deadline"] or "9999", r["address"]))
    return rows


def readiness_summary(report: Report, today: str | None = None) -> dict[str, Any]:
    """Counts by status, overdue, devices without a plan, planned cost per currency."""
    today = today or report.generated[:10]
    devices = [a for a in report.assessments if a.readiness]
    items = [i for a in devices for i in a.readiness]
    due = [
        a
        for a in devices
        if any(i.status in ("affected", "exception-expired") for i in a.readiness)
    ]
    cost: dict[str, float] = {}
    for a in due:
        if a.replacement and a.replacement.cost is not None:
            cur = a.replacement.currency or "?"
            cost[cur] = cost.get(cur, 0.0) + a.replacement.cost
    return {
        "devices_in_scope": len(devices),
        "devices_to_replace": len(due),
        "overdue": sum(
            1
            for a in due
            if any(
                i.deadline and i.deadline < today
                for i in a.readiness
                if i.status in ("affected", "exception-expired")
            )
        ),
        "without_plan": sum(
            1 for a in due if a.replacement is None or not a.replacement.target_model
        ),
        "by_status": {s: sum(1 for i in items if i.status == s) for s in STATUS_LABELS},
        "planned_cost": {k: round(v, 2) for k, v in sorted(cost.items())},
        "with_inventory": sum(1 for a in report.assessments if a.extra),
        "policies": sorted({i.policy for i in items}),
    }


# --------------------------------------------------------------------------- SARIF / CycloneDX


def readiness_run_properties(report: Report) -> dict[str, Any]:
    """SARIF run properties: the section's summary and rows (empty when there is none)."""
    if not has_readiness(report):
        return {}
    return {"banReadiness": {"summary": readiness_summary(report), "items": readiness_rows(report)}}


def readiness_properties(report: Report) -> list[tuple[str, str | None]]:
    """CycloneDX metadata properties summarising the section (device properties carry the
    per-device items)."""
    if not has_readiness(report):
        return []
    s = readiness_summary(report)
    pairs: list[tuple[str, str | None]] = [
        ("readiness:devices_in_scope", str(s["devices_in_scope"])),
        ("readiness:devices_to_replace", str(s["devices_to_replace"])),
        ("readiness:overdue", str(s["overdue"])),
        ("readiness:without_plan", str(s["without_plan"])),
    ]
    pairs += [(f"readiness:planned_cost:{k}", f"{v:g}") for k, v in s["planned_cost"].items()]
    pairs += [("readiness:policy", p) for p in s["policies"]]
    return pairs


# --------------------------------------------------------------------------- table


def table_section(report: Report) -> Any:
    """A Rich renderable for the terminal table, or None when there is nothing to show."""
    if not has_readiness(report):
        return None
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from routerwatch.report.text import printable, shorten

    s = readiness_summary(report)
    cost = ", ".join(f"{v:g} {k}" for k, v in s["planned_cost"].items()) or "none planned"
    head = Text(
        f"Ban readiness: {s['devices_in_scope']} devices in scope of "
        f"{', '.join(s['policies']) or 'no restriction'}; {s['devices_to_replace']} to replace "
        f"({s['overdue']} overdue, {s['without_plan']} without a plan); "
        f"{s['by_status']['unknown']} need inventory data; planned cost {cost}",
        style="bold",
    )
    table = Table(box=box.SIMPLE, expand=True)
    table.add_column("device", ratio=3)
    table.add_column("restriction / status", ratio=3)
    table.add_column("by", no_wrap=True)
    table.add_column("why / exception / plan", ratio=5)
    rows = readiness_rows(report)
    unknown = sorted({r["address"] or r["device"] for r in rows if r["status"] == "unknown"})
    for r in rows:
        if r["status"] == "unknown":
            continue
        plan = " ".join(x for x in (r["target_model"], r["cost"], r["currency"]) if x)
        why = r["exception"] or r["detail"] or r["reason"]
        table.add_row(
            printable(f"{r['address']}\n{r['device']}".strip()),
            printable(f"{r['policy']}: {r['restriction']}\n{r['status_label']}"),
            r["deadline"],
            printable(shorten(why, 90) + (f"\nplan: {plan}" if plan else "")),
        )
    parts: list[Any] = [head, table]
    if unknown:
        parts.append(
            Text(
                f"{len(unknown)} devices need inventory data (country of production) to be "
                f"decided: {printable(shorten(', '.join(unknown), 200))}",
                style="dim",
            )
        )
    return Group(*parts)
