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
    """Rows of the three tables for one partition, as column lists (one list per field of the
    table's schema). The columns that come from an Assessment alone are worked out once per
    Assessment object: memoised verdicts are shared by many hosts."""

    def __init__(self) -> None:
        self.columns: dict[str, dict[str, list[Any]]] = {
            name: {f: [] for f in schema.names} for name, schema in SCHEMAS.items()
        }
        self._derived: dict[int, tuple[Assessment, tuple[Any, ...]]] = {}

    def __len__(self) -> int:
        return len(self.columns["devices"]["address"])

    def _device_part(self, a: Assessment) -> tuple[Any, ...]:
        hit = self._derived.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
        ident = a.identity
        part = (
            ident.vendor, ident.model, ident.hardware, ident.firmware, ident.confidence,
            a.risk, a.risk_level,
            sum(1 for f in a.findings if f.status == "affected"),
            sum(1 for f in a.findings if f.status == "possible"),
            sum(1 for f in a.findings if f.kev and f.status == "affected"),
            [i.rule for i in a.indicators], a.eol, list(a.policy),
        )  # fmt: skip
        self._derived[id(a)] = (a, part)  # the Assessment is kept: its id stays unique
        return part

    def add(self, record: ScanRecord, a: Assessment) -> None:
        ident = a.identity
        addr = record.observation.address
        (vendor, model, hardware, firmware, confidence, risk, risk_level, affected, possible,
         kev, indicators, eol, policy) = self._device_part(a)  # fmt: skip
        d = self.columns["devices"]
        d["address"].append(addr)
        d["vendor"].append(vendor)
        d["model"].append(model)
        d["hardware"].append(hardware)
        d["firmware"].append(firmware)
        d["confidence"].append(confidence)
        d["country"].append(record.country)
        d["asn"].append(record.asn)
        d["source"].append(record.source)
        d["seen"].append(record.seen)
        d["open_ports"].append(list(record.observation.open_ports))
        d["risk"].append(risk)
        d["risk_level"].append(risk_level)
        d["affected"].append(affected)
        d["possible"].append(possible)
        d["kev"].append(kev)
        d["indicators"].append(indicators)
        d["eol"].append(eol)
        d["policy"].append(policy)
        d["extra"].append(orjson.dumps(record.extra).decode() if record.extra else None)
        if a.findings:
            f_cols = self.columns["findings"]
            for f in a.findings:
                for name, value in (
                    ("address", addr), ("vendor", ident.vendor), ("model", ident.model),
                    ("firmware", ident.firmware), ("country", record.country), ("cve", f.cve),
                    ("status", f.status), ("kev", f.kev), ("kev_date", f.kev_date),
                    ("epss", f.epss), ("cvss", f.cvss), ("severity", f.severity),
                    ("fixed_in", f.fixed_in), ("source", f.source),
                ):  # fmt: skip
                    f_cols[name].append(value)
        if a.indicators:
            i_cols = self.columns["indicators"]
            for i in a.indicators:
                evidence = "; ".join(f"{e.source}: {e.value}" for e in i.evidence)[:512]
                for name, value in (
                    ("address", addr), ("vendor", ident.vendor), ("model", ident.model),
                    ("country", record.country), ("rule", i.rule), ("kind", i.kind),
                    ("certainty", i.certainty), ("campaign", i.campaign), ("port", i.port),
                    ("evidence", evidence),
                ):  # fmt: skip
                    i_cols[name].append(value)


def write_tables(rows: TableRows, output: Path, partition: int, partition_by: str) -> None:
    """Write each table's rows, one file per (partition key value, task partition); rows keep
    their order within each file."""
    for name, schema in SCHEMAS.items():
        columns = rows.columns[name]
        groups: dict[str, list[int]] = defaultdict(list)
        for index, value in enumerate(columns[partition_by]):
            groups[value or UNKNOWN].append(index)
        if not groups:
            continue
        whole = pa.Table.from_pydict(columns, schema=schema)
        for value, indices in groups.items():
            folder = output / name / f"{partition_by}={quote(value, safe=' -._')}"
            folder.mkdir(parents=True, exist_ok=True)
            table = whole if len(groups) == 1 else whole.take(pa.array(indices, pa.int64()))
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
