"""Ban readiness: which restrictions catch which devices, with what the network cannot show.

Inputs (each optional, all CSV with a header row; see docs/policy.md):

* the **inventory**: attributes a scan cannot see — ``country_of_production``, ``fcc_id``,
  ``purchase_date``, ``authorisation_date``, ``owner``, ``isp_managed`` — for a device named by
  ``key`` (the stable device key), ``address``, or ``vendor`` + ``model`` (every device of that
  model; the most specific row wins: key, then address, then model);
* the **exceptions register**: ``device`` (key or address), ``policy`` (policy name,
  restriction id, or ``*``), ``reason``, ``approver``, ``expires``, ``compensating_controls``;
* the **replacement plan**: ``device`` (key or address) or ``vendor`` + ``model``,
  ``target_model``, ``cost``, ``currency``, ``deadline``, ``owner``.

:func:`apply_readiness` fills ``Assessment.extra`` (the imported attributes; columns a batch
``check`` inventory already put there count too), ``.readiness`` (one item per
restriction that catches the device, or might once the inventory says more) and
``.replacement``, adds a "replace by" action per restriction and a "no more updates" note.
Restrictions come from policies (``assess/policies``: FCC Covered List 2026, Texas 2026,
NDAA §889, a TP-Link phase-out example). Bad input raises :class:`ReadinessError` with one line
naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from routerwatch.assess.policy import (
    ANY_VENDOR,
    Policy,
    Restriction,
    load_policy,
    shipped_policies,
)
from routerwatch.models import (
    Action,
    Assessment,
    DeviceIdentity,
    ReadinessItem,
    ReadinessStatus,
    ReplacementPlan,
    replace,
)

__all__ = [
    "INVENTORY_FIELDS",
    "ExceptionEntry",
    "InventoryRow",
    "PlanRow",
    "ProgressPoint",
    "ReadinessError",
    "ReadinessInputs",
    "apply_readiness",
    "load_exceptions",
    "load_inventory",
    "load_plan",
    "readiness_progress",
    "regulation_policies",
]

MAX_BYTES = 16 * 2**20
INVENTORY_FIELDS = (
    "country_of_production",
    "fcc_id",
    "purchase_date",
    "authorisation_date",
    "owner",
    "isp_managed",
)
_SELECTORS = ("key", "address", "vendor", "model")
_ALIASES = {"authorization_date": "authorisation_date", "device_key": "key", "ip": "address"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


class ReadinessError(ValueError):
    """An inventory, exceptions or plan file cannot be used (one line: file, line, field)."""


@dataclass(frozen=True)
class Selector:
    """Which device(s) a row is about."""

    key: str | None = None
    address: str | None = None
    vendor: str | None = None
    model: str | None = None

    def rank(self, a: Assessment) -> int | None:
        """3 key, 2 address, 1 vendor+model match; None when the row is not about ``a``."""
        if self.key and self.key == getattr(a, "key", None):
            return 3
        if self.address and self.address == a.address:
            return 2
        if self.model and _same_model(a.identity, self.vendor, self.model):
            return 1
        return None


@dataclass(frozen=True)
class InventoryRow:
    selector: Selector
    attributes: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        return dict(self.attributes).get(name)


@dataclass(frozen=True)
class ExceptionEntry:
    selector: Selector
    policy: str  # policy name, restriction id or "*"
    reason: str
    approver: str
    expires: date
    compensating_controls: str = ""

    def covers(self, policy: Policy, r: Restriction) -> bool:
        return self.policy in ("*", policy.name) or (bool(r.id) and self.policy == r.id)

    def text(self, today: date) -> str:
        state = "expired" if today > self.expires else "until"
        controls = f"; controls: {self.compensating_controls}" if self.compensating_controls else ""
        return (
            f"exception {state} {self.expires.isoformat()}, approved by {self.approver}: "
            f"{self.reason}{controls}"
        )


@dataclass(frozen=True)
class PlanRow:
    selector: Selector
    plan: ReplacementPlan


R = TypeVar("R", InventoryRow, PlanRow)


@dataclass(frozen=True)
class ReadinessInputs:
    policies: tuple[Policy, ...] = ()
    inventory: tuple[InventoryRow, ...] = ()
    exceptions: tuple[ExceptionEntry, ...] = ()
    plans: tuple[PlanRow, ...] = ()
    sources: tuple[str, ...] = field(default=())  # file names, for the report


def regulation_policies(names: Iterable[str] | None = None) -> tuple[Policy, ...]:
    """The shipped dated regulations (``us-*`` except the old illustration), or the named
    policies (shipped names or files)."""
    if names is None:
        names = [
            n for n in shipped_policies() if n.startswith("us-") and n != "us-restricted-example"
        ]
    return tuple(load_policy(n) for n in names)


# --------------------------------------------------------------------------- CSV loading


def _rows(path: Path | str, what: str) -> list[tuple[int, dict[str, str]]]:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ReadinessError(f"{what} {path}: larger than 16 MiB")
        raw = p.read_bytes()
    except OSError as e:
        raise ReadinessError(f"{what} {path}: cannot read: {e.strerror or e}") from None
    if b"\0" in raw:
        raise ReadinessError(f"{what} {path}: binary data, expected CSV text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadinessError(f"{what} {path}: not UTF-8 text") from None
    # lines starting with '#' are comments: blanked (so line numbers stay right), and the
    # header is the first line that is neither blank nor a comment
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.split("\n")]
    skip = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    text = "\n".join(lines[skip:])
    try:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ReadinessError(f"{what} {path}: empty (expected a CSV header row)")
        out = []
        for row in reader:
            if None in row:
                raise ReadinessError(
                    f"{what} {path} line {reader.line_num + skip}: more fields than the header"
                )
            clean = {}
            for k, v in row.items():
                name = (k or "").strip().lower().replace(" ", "_").replace("-", "_")
                clean[_ALIASES.get(name, name)] = (v or "").strip()
            if any(clean.values()):
                out.append((reader.line_num + skip, clean))
    except csv.Error as e:
        raise ReadinessError(f"{what} {path}: not valid CSV: {e}") from None
    return out


def _selector(row: dict[str, str], where: str, device_column: bool) -> Selector:
    device = row.get("device", "") if device_column else ""
    key = row.get("key") or (device if ":" in device and not _looks_ip(device) else "")
    address = row.get("address") or (device if _looks_ip(device) else "")
    vendor, model = row.get("vendor") or None, row.get("model") or None
    if not (key or address or model):
        raise ReadinessError(f"{where}: name the device by key, address, or vendor and model")
    return Selector(key or None, address or None, vendor, model)


def _looks_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _date(value: str, where: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReadinessError(f"{where}: {name} {value!r} is not a date (YYYY-MM-DD)") from None


def _each(
    path: Path | str, what: str, device_column: bool
) -> Iterator[tuple[str, Selector, dict[str, str]]]:
    """(where, selector, row) for every data row of a CSV input."""
    for line, row in _rows(path, what):
        where = f"{what} {path} line {line}"
        yield where, _selector(row, where, device_column), row


def load_inventory(path: Path | str) -> tuple[InventoryRow, ...]:
    """Inventory rows; dates and the isp_managed flag are checked."""
    out = []
    for where, sel, row in _each(path, "inventory", device_column=False):
        attrs = []
        for name in INVENTORY_FIELDS:
            value = row.get(name, "")
            if not value:
                continue
            if name.endswith("_date"):
                value = _date(value, where, name).isoformat()
            elif name == "isp_managed":
                if value.lower() not in _YES | _NO:
                    raise ReadinessError(f"{where}: isp_managed {value!r} is not yes or no")
                value = "yes" if value.lower() in _YES else "no"
            elif name == "country_of_production":
                value = value.upper()
            attrs.append((name, value))
        out.append(InventoryRow(sel, tuple(attrs)))
    return tuple(out)


def load_exceptions(path: Path | str) -> tuple[ExceptionEntry, ...]:
    """Exceptions register; reason, approver and expiry are required."""
    out = []
    for where, sel, row in _each(path, "exceptions", device_column=True):
        for need in ("reason", "approver", "expires"):
            if not row.get(need):
                raise ReadinessError(f"{where}: {need} missing")
        out.append(
            ExceptionEntry(
                selector=sel,
                policy=row.get("policy") or "*",
                reason=row["reason"],
                approver=row["approver"],
                expires=_date(row["expires"], where, "expires"),
                compensating_controls=row.get("compensating_controls", ""),
            )
        )
    return tuple(out)


def load_plan(path: Path | str) -> tuple[PlanRow, ...]:
    """Replacement plan rows; cost must be a non-negative number."""
    out = []
    for where, sel, row in _each(path, "plan", device_column=True):
        cost = None
        if row.get("cost"):
            try:
                cost = float(row["cost"].replace(",", ""))
            except ValueError:
                raise ReadinessError(f"{where}: cost {row['cost']!r} is not a number") from None
            if not cost >= 0 or cost == float("inf"):
                raise ReadinessError(f"{where}: cost must be zero or more")
        deadline = None
        if row.get("deadline"):
            deadline = _date(row["deadline"], where, "deadline").isoformat()
        plan = ReplacementPlan(
            target_model=row.get("target_model") or None,
            cost=cost,
            currency=row.get("currency", "").upper(),
            deadline=deadline,
            owner=row.get("owner") or None,
        )
        out.append(PlanRow(sel, plan))
    return tuple(out)


# --------------------------------------------------------------------------- evaluation


def _same_model(identity: DeviceIdentity, vendor: str | None, model: str) -> bool:
    from routerwatch.assess.policy import _model_key, _vendor_key

    if identity.model is None or _model_key(identity.model) != _model_key(model):
        return False
    return vendor is None or _vendor_key(identity.vendor) == _vendor_key(vendor)


def _best(a: Assessment, rows: Sequence[R]) -> R | None:
    best: tuple[int, R] | None = None
    for row in rows:
        rank = row.selector.rank(a)
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, row)
    return best[1] if best else None


def _item(
    policy: Policy,
    index: int,
    r: Restriction,
    a: Assessment,
    inv: InventoryRow | None,
    exceptions: Sequence[ExceptionEntry],
    today: date,
) -> ReadinessItem | None:
    status: ReadinessStatus = "affected"
    details = []
    if r.produced_abroad:
        country = inv.get("country_of_production") if inv else None
        if country is None:
            status, details = "unknown", ["country of production unknown: add it to the inventory"]
        elif country in r.home:
            return None
        else:
            details.append(f"produced in {country}")
        if inv is not None and inv.get("isp_managed") == "yes":
            status = "unknown"
            details.append("ISP-managed CPE: whether it is covered is not stated; ask the ISP")
        authorised = inv.get("authorisation_date") if inv else None
        if authorised and r.effective and authorised > r.effective.isoformat():
            details.append(
                f"authorised {authorised}, after the restriction took effect: "
                "needs its own approval"
            )
    exception = ""
    matching = [e for e in exceptions if e.covers(policy, r) and e.selector.rank(a) is not None]
    if matching:
        e = max(matching, key=lambda x: x.expires)
        exception = e.text(today)
        status = "excepted" if today <= e.expires else "exception-expired"
    return ReadinessItem(
        policy=policy.name,
        restriction=r.id or f"{policy.name}#{index + 1}",
        status=status,
        reason=r.reason,
        scope=r.scope,
        effective=r.effective.isoformat() if r.effective else None,
        deadline=r.deadline.isoformat(),
        updates_until=r.updates_until.isoformat() if r.updates_until else None,
        detail="; ".join(details),
        exception=exception,
        source=r.citation(),
    )


def _view(a: Assessment, inv: InventoryRow | None) -> Assessment:
    """The assessment with vendor/model from the inventory row when the scan did not name them."""
    if inv is None or (a.identity.vendor and a.identity.model):
        return a
    sel = inv.selector
    ident = replace(
        a.identity,
        vendor=a.identity.vendor or sel.vendor,
        model=a.identity.model or sel.model,
    )
    return replace(a, identity=ident)


def _assess_one(a: Assessment, inputs: ReadinessInputs, today: date) -> Assessment:
    row = _best(a, inputs.inventory)
    attrs = dict(a.extra)
    if row is not None:
        attrs.update(row.attributes)
    inv = (
        InventoryRow(row.selector if row else Selector(), tuple(attrs.items())) if attrs else None
    )
    view = _view(a, row)
    items = []
    known = bool(view.identity.vendor) or inv is not None  # an unidentified host is no router
    for policy in inputs.policies:
        for i, r in enumerate(policy.restricted):
            if (known or r.vendor != ANY_VENDOR) and r.applies(view.identity):
                item = _item(policy, i, r, view, inv, inputs.exceptions, today)
                if item is not None:
                    items.append(item)
    plan_row = _best(a, inputs.plans)
    plan = plan_row.plan if plan_row else None
    due = [x for x in items if x.status in ("affected", "exception-expired")]
    if plan is None and due:
        plan = ReplacementPlan(deadline=min(x.deadline for x in due if x.deadline))
    actions = list(a.actions)
    label = view.identity.label()
    for x in due:
        state = "overdue since" if x.deadline and x.deadline < today.isoformat() else "by"
        actions.append(
            Action(
                priority=len(actions) + 1,
                kind="replace",
                text=f"Replace {label} {state} {x.deadline} ({x.policy}: {x.reason})",
            )
        )
    notes = list(a.notes)
    cutoff = min((x.updates_until for x in items if x.updates_until), default=None)
    if cutoff:
        why = ", ".join(sorted({x.policy for x in items if x.updates_until}))
        notes.append(f"no firmware updates allowed after {cutoff} ({why})")
    return replace(
        a,
        extra=tuple(attrs.items()),
        readiness=tuple(items),
        replacement=plan,
        actions=tuple(actions),
        notes=tuple(notes),
    )


def apply_readiness(
    assessments: Sequence[Assessment], inputs: ReadinessInputs, *, today: date | None = None
) -> list[Assessment]:
    """Every assessment with its inventory attributes, readiness items and replacement plan."""
    today = today or date.today()
    return [_assess_one(a, inputs, today) for a in assessments]


# --------------------------------------------------------------------------- progress over time

# A device's state is its worst item: what still has to happen decides.
_ORDER: dict[str, int] = {"affected": 3, "exception-expired": 2, "unknown": 1, "excepted": 0}


@dataclass(frozen=True)
class ProgressPoint:
    """Ban readiness of a fleet at one moment (one upload/scan), for a progress chart.

    ``in_scope``: devices some restriction catches or may catch now; of those ``affected``
    (must be replaced), ``exception_expired``, ``unknown`` (the inventory lacks what decides
    it), ``excepted`` (a valid exception), ``overdue`` (affected past a deadline).
    ``replaced``: devices caught at an earlier point that are gone or no longer caught (the
    work done). ``progress``: the share of every device ever caught that needs nothing now,
    ``1 - (affected + exception_expired + unknown) / ever_in_scope`` (1.0 when none ever was).
    """

    at: str  # ISO timestamp of the snapshot
    devices: int
    in_scope: int
    affected: int
    exception_expired: int
    unknown: int
    excepted: int
    overdue: int
    replaced: int
    progress: float


def readiness_progress(
    snapshots: Iterable[tuple[str, Sequence[tuple[str, Sequence[ReadinessItem]]]]],
) -> list[ProgressPoint]:
    """Ban-readiness progress over time from fleet snapshots, oldest first: each snapshot is
    (ISO time, [(device key, its readiness items)]) — the fleet as known at that time (the
    fleet server builds them from its upload history). Devices without items are out of
    scope."""
    ever: set[str] = set()
    out: list[ProgressPoint] = []
    for at, devices in snapshots:
        day = at[:10]
        counts = {"affected": 0, "exception-expired": 0, "unknown": 0, "excepted": 0}
        overdue = 0
        caught: set[str] = set()
        for key, items in devices:
            if not items:
                continue
            caught.add(key)
            worst = max(items, key=lambda x: _ORDER.get(x.status, 0))
            counts[worst.status] = counts.get(worst.status, 0) + 1
            if any(x.status == "affected" and x.deadline and x.deadline < day for x in items):
                overdue += 1
        ever |= caught
        open_now = counts["affected"] + counts["exception-expired"] + counts["unknown"]
        out.append(ProgressPoint(
            at=at, devices=len(devices), in_scope=len(caught), affected=counts["affected"],
            exception_expired=counts["exception-expired"], unknown=counts["unknown"],
            excepted=counts["excepted"], overdue=overdue, replaced=len(ever - caught),
            progress=round(1.0 - open_now / len(ever), 4) if ever else 1.0,
        ))
    return out
