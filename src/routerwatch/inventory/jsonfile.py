"""JSON inventories: an array of objects, or an object with a ``devices`` array."""

from __future__ import annotations

import json
from typing import Any

from routerwatch.inventory.rows import InventoryError, RawRow, scalar


def rows_from_data(data: Any, where: str) -> list[RawRow]:
    """Rows from parsed JSON/YAML data (shared by the JSON and YAML readers)."""
    if isinstance(data, dict) and isinstance(data.get("devices"), list):
        data = data["devices"]
    if not isinstance(data, list):
        raise InventoryError(f"{where}: expected a list of devices (or {{\"devices\": [...]}})")
    out = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise InventoryError(f"{where} row {number}: expected an object with columns")
        cells = tuple((str(k), scalar(v, where, number, str(k))) for k, v in item.items())
        out.append(RawRow(number, cells))
    return out


def read_json(text: str, where: str) -> list[RawRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(
            f"{where}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InventoryError(f"{where}: JSON nested too deeply") from None
    return rows_from_data(data, where)
