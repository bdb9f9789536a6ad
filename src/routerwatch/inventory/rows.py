"""Inventory rows: the columns every reader produces, mapped onto a device description."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from routerwatch.models import DeviceIdentity

MAX_ROWS = 1_000_000
MAX_VALUE = 1024


class InventoryError(ValueError):
    """An inventory that cannot be read; the message names the file, row and column."""


@dataclass(frozen=True)
class RawRow:
    """One row as a reader found it: where it was (``line``: 1-based row or line number) and
    its columns in order, values as text."""

    line: int
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class InventoryRow:
    """One device of an asset list, ready for pipeline.check_inventory."""

    line: int
    identity: DeviceIdentity
    key: str
    address: str | None = None
    site: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # the columns routerwatch does not read


_ALIASES = {
    "vendor": ("vendor", "manufacturer", "make", "brand"),
    "model": ("model", "modelname", "product"),
    "hardware": ("hardware", "hw", "hardwareversion", "hwversion", "revision", "hwrevision"),
    "firmware": ("firmware", "fw", "firmwareversion", "softwareversion", "swversion", "version"),
    "region": ("region",),
    "text": ("device", "description", "name"),
    "address": ("address", "ip", "ipaddress", "host"),
    "mac": ("mac", "macaddress"),
    "asset": ("asset", "assetid", "assettag", "id", "serial", "serialnumber"),
    "site": ("site", "location"),
}
_COLUMN = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_FOLD = re.compile(r"[\s_\-.]+")


def column_field(name: str) -> str | None:
    """The field a column header means (None: an extra column, kept as given)."""
    return _COLUMN.get(_FOLD.sub("", name.strip().lower()))


@lru_cache(maxsize=65536)
def _identity(
    text: str | None, vendor: str | None, model: str | None, hardware: str | None,
    firmware: str | None, region: str | None,
) -> DeviceIdentity:
    from routerwatch.identity.parse import parse_identity

    return parse_identity(
        text, vendor=vendor, model=model, hardware=hardware, firmware=firmware, region=region
    )


def to_rows(raw_rows: list[RawRow], where: str) -> list[InventoryRow]:
    """Map every raw row; InventoryError names the first row that cannot be read."""
    from routerwatch.schema import asset_key

    if len(raw_rows) > MAX_ROWS:
        raise InventoryError(f"{where}: more than {MAX_ROWS:,} rows")
    out: list[InventoryRow] = []
    for raw in raw_rows:
        known: dict[str, str] = {}
        extra: list[tuple[str, str]] = []
        for name, value in raw.columns:
            if len(value) > MAX_VALUE:
                raise InventoryError(
                    f"{where} row {raw.line}, column {name!r}: value longer than {MAX_VALUE}"
                )
            value = value.strip()
            field = column_field(name)
            if field is None:
                extra.append((name, value))
            elif value and field not in known:
                known[field] = value
        if not any(known.get(f) for f in ("text", "vendor", "model")):
            if not known and not any(v for _, v in extra):
                continue  # a blank line
            raise InventoryError(
                f"{where} row {raw.line}: no device: give a vendor and model (or a device "
                "column with the device in words)"
            )
        try:
            identity = _identity(
                known.get("text"), known.get("vendor"), known.get("model"),
                known.get("hardware"), known.get("firmware"), known.get("region"),
            )
        except ValueError as exc:
            raise InventoryError(
                f"{where} row {raw.line}: cannot read the device description: {exc}"
            ) from None
        key = asset_key(
            identity, asset=known.get("asset"), mac=known.get("mac"), address=known.get("address")
        )
        out.append(
            InventoryRow(
                line=raw.line,
                identity=identity,
                key=key,
                address=known.get("address"),
                site=known.get("site"),
                extra=tuple(extra),
            )
        )
    if not out:
        raise InventoryError(f"{where}: no devices in the inventory")
    return out


def scalar(value: object, where: str, line: int, column: str) -> str:
    """A JSON/YAML cell as text: strings, numbers and booleans; null → ""; else an error."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, date | datetime):  # YAML reads 2024-01-31 as a date
        return value.isoformat()
    raise InventoryError(
        f"{where} row {line}, column {column!r}: expected text or a number, got "
        f"{type(value).__name__}"
    )
