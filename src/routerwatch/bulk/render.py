"""The bulk summary in the report formats that fit a population: table (Rich), JSON, CSV, HTML.

(The per-device formats — CycloneDX, SARIF — describe single devices; for millions of hosts the
Parquet tables are the per-device output.)
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from routerwatch.bulk.run import BulkResult

FORMATS = ("table", "json", "csv", "html")
TOP = 15


def sections(result: BulkResult, top: int = TOP) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(title, rows) of every summary section, the same for every format."""
    s = result.summary
    overview = [
        ("records read", result.read.records),
        ("malformed lines", result.read.malformed),
        ("hosts", s.hosts),
        ("routers identified (vendor)", s.routers),
        ("… with model", s.with_model),
        ("… with firmware", s.with_firmware),
        ("routers with an affected CVE", s.vulnerable),
        ("routers with an affected KEV CVE", s.kev_exposed),
        ("hosts with a compromise indicator", s.compromised),
        ("partitions", result.partitions),
    ]
    cves = [(f"{c['cve']}{' (KEV)' if c['kev'] else ''}", c["devices"]) for c in s.top_cves(top)]
    return [
        ("Overview", overview),
        ("Vendors", s.top("vendors", top)),
        ("Models", s.top("models", top)),
        ("Firmware", s.top("firmware", top)),
        ("Countries", s.top("countries", top)),
        ("KEV exposure (devices per KEV CVE)", s.top("kev_by_cve", top)),
        ("Top CVEs (affected devices)", cves),
        ("Indicator hits", s.top("indicators", top)),
        ("Campaigns", s.top("campaigns", top)),
        ("Risk levels", s.top("risk_levels", top)),
    ]


def print_summary(result: BulkResult, console: Console) -> None:
    for title, rows in sections(result):
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for k, v in rows:
            table.add_row(str(k), f"{v:,}" if isinstance(v, int) else str(v))
        console.print(table)


def render(result: BulkResult, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["section", "key", "count"])
        for title, rows in sections(result, top=1000):
            for k, v in rows:
                w.writerow([title, k, v])
        return buf.getvalue()
    if fmt == "html":
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'><title>routerwatch bulk summary"
            "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "table{border-collapse:collapse;margin-bottom:1.5em}td{border:1px solid #ccc;"
            "padding:.2em .6em}td.n{text-align:right}</style></head><body>",
            "<h1>routerwatch bulk summary</h1>",
        ]
        for title, rows in sections(result):
            if not rows:
                continue
            parts.append(f"<h2>{html.escape(title)}</h2><table>")
            for k, v in rows:
                parts.append(
                    f"<tr><td>{html.escape(str(k))}</td>"
                    f"<td class='n'>{html.escape(str(v))}</td></tr>"
                )
            parts.append("</table>")
        parts.append("</body></html>\n")
        return "".join(parts)
    raise ValueError(f"unknown summary format {fmt!r} (known: {', '.join(FORMATS)})")
