"""The Parquet output: devices, findings and indicators tables, Hive-partitioned by vendor (or
country): ``<output>/devices/vendor=TP-Link/part-00012.parquet``. Each assess task writes its own
``part-<partition>`` files (temp file + rename), so re-running a partition replaces its files
and never duplicates rows."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from routerwatch.bulk.record import ScanRecord
from routerwatch.models import Assessment

UNKNOWN = "unknown"

DEVICE_SCHEMA = pa.schema(
    [
        ("address", pa.string()),
        ("vendor", pa.string()),
        ("model", pa.string()),
        ("hardware", pa.string()),
        ("firmware", pa.string()),
        ("confidence", pa.float32()),
        ("country", pa.string()),
        ("asn", pa.string()),
        ("source", pa.string()),
        ("seen", pa.string()),
        ("open_ports", pa.list_(pa.int32())),
        ("risk", pa.float32()),
        ("risk_level", pa.string()),
        ("affected", pa.int32()),
        ("possible", pa.int32()),
        ("kev", pa.int32()),
        ("indicators", pa.list_(pa.string())),
        ("eol", pa.string()),
        ("policy", pa.list_(pa.string())),
        ("extra", pa.string()),
    ]
)
FINDING_SCHEMA = pa.schema(
    [
        ("address", pa.string()),
        ("vendor", pa.string()),
        ("model", pa.string()),
        ("firmware", pa.string()),
        ("country", pa.string()),
        ("cve", pa.string()),
        ("status", pa.string()),
        ("kev", pa.bool_()),
        ("kev_date", pa.string()),
        ("epss", pa.float32()),
        ("cvss", pa.float32()),
        ("severity", pa.string()),
        ("fixed_in", pa.string()),
        ("source", pa.string()),
    ]
)
INDICATOR_SCHEMA = pa.schema(
    [
        ("address", pa.string()),
        ("vendor", pa.string()),
        ("model", pa.string()),
        ("country", pa.string()),
        ("rule", pa.string()),
        ("kind", pa.string()),
        ("certainty", pa.string()),
        ("campaign", pa.string()),
        ("port", pa.int32()),
        ("evidence", pa.string()),
    ]
)
SCHEMAS = {"devices": DEVICE_SCHEMA, "findings": FINDING_SCHEMA, "indicators": INDICATOR_SCHEMA}


class TableRows:
    """Rows of the three tables for one partition, as column lists."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}

    def add(self, record: ScanRecord, a: Assessment) -> None:
        ident = a.identity
        addr = record.observation.address
        kev = sum(1 for f in a.findings if f.kev and f.status == "affected")
        self.rows["devices"].append(
            {
                "address": addr,
                "vendor": ident.vendor,
                "model": ident.model,
                "hardware": ident.hardware,
                "firmware": ident.firmware,
                "confidence": ident.confidence,
                "country": record.country,
                "asn": record.asn,
                "source": record.source,
                "seen": record.seen,
                "open_ports": list(record.observation.open_ports),
                "risk": a.risk,
                "risk_level": a.risk_level,
                "affected": sum(1 for f in a.findings if f.status == "affected"),
                "possible": sum(1 for f in a.findings if f.status == "possible"),
                "kev": kev,
                "indicators": [i.rule for i in a.indicators],
                "eol": a.eol,
                "policy": list(a.policy),
                "extra": orjson.dumps(record.extra).decode() if record.extra else None,
            }
        )
        for f in a.findings:
            self.rows["findings"].append(
                {
                    "address": addr,
                    "vendor": ident.vendor,
                    "model": ident.model,
                    "firmware": ident.firmware,
                    "country": record.country,
                    "cve": f.cve,
                    "status": f.status,
                    "kev": f.kev,
                    "kev_date": f.kev_date,
                    "epss": f.epss,
                    "cvss": f.cvss,
                    "severity": f.severity,
                    "fixed_in": f.fixed_in,
                    "source": f.source,
                }
            )
        for i in a.indicators:
            self.rows["indicators"].append(
                {
                    "address": addr,
                    "vendor": ident.vendor,
                    "model": ident.model,
                    "country": record.country,
                    "rule": i.rule,
                    "kind": i.kind,
                    "certainty": i.certainty,
                    "campaign": i.campaign,
                    "port": i.port,
                    "evidence": "; ".join(f"{e.source}: {e.value}" for e in i.evidence)[:512],
                }
            )


def write_tables(rows: TableRows, output: Path, partition: int, partition_by: str) -> None:
    """Write each table's rows, one file per (partition key value, task partition)."""
    for name, schema in SCHEMAS.items():
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows.rows[name]:
            groups[row.get(partition_by) or UNKNOWN].append(row)
        for value, items in groups.items():
            folder = output / name / f"{partition_by}={quote(value, safe=' -._')}"
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pylist(items, schema=schema)
            path = folder / f"part-{partition:05d}.parquet"
            tmp = folder / f".part-{partition:05d}.parquet.tmp{os.getpid()}"
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, path)


def read_table(output: Path, name: str) -> pa.Table:
    """One output table back (all partitions), e.g. for tests and follow-up analysis."""
    import pyarrow.dataset as ds

    folder = output / name
    if not folder.exists():
        return SCHEMAS[name].empty_table()
    dataset = ds.dataset(folder, format="parquet", partitioning="hive", schema=None)
    return dataset.to_table()
