"""CSV (or TSV/semicolon) inventories: a header row, then one device a row."""

from __future__ import annotations

import csv
import io

from routerwatch.inventory.rows import InventoryError, RawRow


def read_csv(text: str, where: str) -> list[RawRow]:
    lines = text.splitlines()
    header_line = next((ln for ln in lines if ln.strip()), "")
    if not header_line:
        raise InventoryError(f"{where}: empty file")
    delimiter = max(",;\t|", key=header_line.count)
    if header_line.count(delimiter) == 0:
        delimiter = ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        rows = list(reader)
    except csv.Error as exc:
        raise InventoryError(f"{where}: not CSV: {exc}") from None
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InventoryError(f"{where}: column {dup!r} appears twice in the header")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise InventoryError(
                f"{where} row {number}: {len(row)} values but the header has {len(header)} columns"
            )
        cells = list(row) + [""] * (len(header) - len(row))
        out.append(RawRow(number, tuple(zip(header, cells, strict=False))))
    return out
