"""Asset lists (inventories) for the batch check: CSV, JSON or YAML, one device a row.

``read_inventory(path)`` → list of InventoryRow. A reader per format is one module here plus one
entry in READERS; each turns the file into plain rows (column → value), and :mod:`.rows` maps the
columns. Columns routerwatch reads (case, spaces, ``-``/``_`` ignored; aliases in brackets):

* ``vendor`` [manufacturer, make, brand], ``model`` [model_name, product], ``hardware``
  [hw, hardware_version, revision, hw_version], ``firmware`` [fw, firmware_version,
  software_version, sw_version, version], ``region``;
* ``device`` [description, name]: the device in words ("TP-Link Archer C7 v2"), read like
  ``routerwatch check TEXT``; the columns above override what it says;
* ``address`` [ip, ip_address, host], ``mac`` [mac_address], ``asset`` [asset_id, asset_tag,
  id, serial, serial_number]: what identifies the box (its device key), ``site`` [location].

Every other column (owner, cost centre, ...) is kept as given and travels with the device's
assessment into the report (``extra``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from routerwatch.inventory.csvfile import read_csv
from routerwatch.inventory.jsonfile import read_json
from routerwatch.inventory.rows import InventoryError, InventoryRow, RawRow, to_rows
from routerwatch.inventory.yamlfile import read_yaml

__all__ = ["MAX_BYTES", "READERS", "InventoryError", "InventoryRow", "read_inventory"]

MAX_BYTES = 64 * 1024 * 1024

Reader = Callable[[str, str], list[RawRow]]  # (text, file name for messages) -> rows

#: format name -> (file name endings, reader)
READERS: dict[str, tuple[tuple[str, ...], Reader]] = {
    "csv": ((".csv", ".tsv", ".txt"), read_csv),
    "json": ((".json",), read_json),
    "yaml": ((".yaml", ".yml"), read_yaml),
}


def format_for(path: Path) -> str:
    """The format of an inventory file from its name; InventoryError when none fits."""
    name = path.name.lower()
    for fmt, (endings, _) in READERS.items():
        if name.endswith(endings):
            return fmt
    known = ", ".join(e for endings, _ in READERS.values() for e in endings)
    raise InventoryError(f"{path}: unknown inventory format (file name ending: {known})")


def read_inventory(path: Path | str, fmt: str | None = None) -> list[InventoryRow]:
    """Read and check one inventory file; InventoryError (one line, naming file, row and
    column) on anything wrong."""
    path = Path(path)
    fmt = fmt or format_for(path)
    if fmt not in READERS:
        raise InventoryError(
            f"unknown inventory format {fmt!r}; choose one of {', '.join(READERS)}"
        )
    if not path.exists():
        raise InventoryError(f"{path}: no such file")
    if not path.is_file():
        raise InventoryError(f"{path}: not a regular file")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise InventoryError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InventoryError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    raw_rows = READERS[fmt][1](text, str(path))
    return to_rows(raw_rows, str(path))
