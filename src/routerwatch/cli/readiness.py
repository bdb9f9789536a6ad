"""The ban-readiness options shared by `scan` and `demo` (inventory, exceptions, plan)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from routerwatch.cli.common import fail

if TYPE_CHECKING:
    from routerwatch.assess.readiness import ReadinessInputs

INVENTORY_HELP = (
    "Inventory CSV of what the network cannot show (country_of_production, fcc_id, "
    "purchase_date, authorisation_date, owner, isp_managed), joined by key, address or "
    "vendor+model; turns on the ban-readiness section."
)
EXCEPTIONS_HELP = "Exceptions register CSV (device, policy, reason, approver, expires, ...)."
PLAN_HELP = "Replacement plan CSV (device or vendor+model, target_model, cost, currency, deadline)."
REGULATIONS_HELP = (
    "Restrictions to check readiness against: comma-separated policy names or files "
    "(default: the shipped us-fcc-covered-list-2026, us-ndaa-889, us-texas-prohibited-2026)."
)


def build_inputs(
    inventory: Path | None,
    exceptions: Path | None,
    plan: Path | None,
    regulations: str | None,
    *,
    always: bool = False,
) -> ReadinessInputs | None:
    """ReadinessInputs from the options, or None when none was given (and not ``always``);
    a bad file or policy ends the command with one line."""
    from routerwatch.assess import PolicyError
    from routerwatch.assess.policy import Policy
    from routerwatch.assess.readiness import (
        ReadinessError,
        ReadinessInputs,
        load_exceptions,
        load_inventory,
        load_plan,
        regulation_policies,
    )

    if not (always or inventory or exceptions or plan or regulations):
        return None
    try:
        if regulations and regulations.strip().lower() == "none":
            policies: tuple[Policy, ...] = ()
        elif regulations:
            policies = regulation_policies([n.strip() for n in regulations.split(",") if n.strip()])
        else:
            policies = regulation_policies()
        return ReadinessInputs(
            policies=policies,
            inventory=load_inventory(inventory) if inventory else (),
            exceptions=load_exceptions(exceptions) if exceptions else (),
            plans=load_plan(plan) if plan else (),
            sources=tuple(str(p) for p in (inventory, exceptions, plan) if p),
        )
    except (ReadinessError, PolicyError) as exc:
        fail(str(exc))
