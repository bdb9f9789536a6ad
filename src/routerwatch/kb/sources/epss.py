"""EPSS scores in FIRST's CSV format, or the shared KEV/EPSS table -> ``kb_epss`` rows (pure).

FIRST: ``#model_version:v2025.03.14,score_date:2025-03-17T00:00:00+0000`` then
``cve,epss,percentile``. Shared file (jgamblin/KEV_EPSS): ``CVE,CVSS3,EPSS,EPSS Percentile,...``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from typing import Any

from routerwatch.kb.errors import RecordError
from routerwatch.kb.sources.common import check_id, optional_timestamp

NAME = "epss"
HEADERS = {
    ("cve", "epss", "percentile"): ("cve", "epss", "percentile"),
    ("cve", "cvss3", "epss", "epss percentile"): ("cve", "epss", "epss percentile"),
}


def _first_lines(text: str) -> list[str]:
    lines = []
    for line in text[:4096].splitlines():
        if line.strip():
            lines.append(line.strip())
        if len(lines) == 2:
            break
    return lines


def _header_key(line: str) -> tuple[str, ...] | None:
    cols = tuple(c.strip().lower() for c in next(csv.reader([line]), []))
    for key in HEADERS:
        if cols[: len(key)] == key:
            return key
    return None


def detect(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    lines = _first_lines(text)
    if not lines:
        return False
    if lines[0].lower().startswith("#model_version"):
        return True
    return _header_key(lines[0]) is not None


def meta(text: str) -> dict[str, Any]:
    """``model_version`` and ``score_date`` from FIRST's comment line (None when absent)."""
    info: dict[str, Any] = {"model_version": None, "score_date": None}
    first = _first_lines(text)
    if first and first[0].startswith("#"):
        for part in first[0].lstrip("#").split(","):
            key, _, value = part.partition(":")
            if key.strip() in info:
                info[key.strip()] = value.strip() or None
    if info["score_date"]:
        info["score_date"] = optional_timestamp(info["score_date"], "score_date", None, None)
    return info


def _number(value: str | None, field: str, index: int, cve_id: str) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise RecordError(f"{field} {value!r} is not a number", index, cve_id) from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise RecordError(f"{field} {value!r} is outside 0..1", index, cve_id)
    return number


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The CSV rows; a csv.Error (NUL byte, broken quoting) becomes a RecordError."""
    index = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RecordError(f"malformed CSV line ({exc})", max(index - 1, 0)) from None
        index += 1
        yield row


def parse(text: str) -> Iterator[dict[str, Any]]:
    info = meta(text)
    # splitlines: a bare CR (old Mac line ends, or one stray byte) ends a line too, instead
    # of reaching the csv module as "new-line character seen in unquoted field"
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = _rows(csv.reader(lines))
    header = next(rows, None)
    key = _header_key(",".join(header)) if header else None
    if header is None or key is None:
        raise RecordError("no EPSS header line (cve,epss,percentile)")
    names = [c.strip().lower() for c in header]
    cve_col, epss_col, pct_col = (names.index(n) for n in HEADERS[key])
    for index, cols in enumerate(rows):
        if len(cols) <= max(cve_col, epss_col, pct_col):
            raise RecordError(f"row has {len(cols)} columns, expected {len(names)}", index)
        cve_id = check_id(cols[cve_col].strip(), index)
        yield {
            "cve_id": cve_id,
            "epss": _number(cols[epss_col], "epss", index, cve_id),
            "percentile": _number(cols[pct_col], "percentile", index, cve_id),
            "score_date": info["score_date"],
            "model_version": info["model_version"],
        }
