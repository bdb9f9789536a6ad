"""YAML inventories: a list of mappings, or a mapping with a ``devices`` list."""

from __future__ import annotations

import yaml

from routerwatch.inventory.jsonfile import rows_from_data
from routerwatch.inventory.rows import InventoryError, RawRow


def read_yaml(text: str, where: str) -> list[RawRow]:
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InventoryError(f"{where}: not YAML{at}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise InventoryError(f"{where}: YAML nested too deeply") from None
    return rows_from_data(data, where)
