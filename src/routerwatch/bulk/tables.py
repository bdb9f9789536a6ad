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
    """Rows of the three tables for one partition, as tuples in schema order (turned into
    columns when written). The device columns that come from an Assessment alone are worked
    out once per Assessment object: memoised verdicts are shared by many hosts."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SCHEMAS}
        self._derived: dict[int, tuple[Assessment, tuple[Any, ...], tuple[Any, ...]]] = {}

    def __len__(self) -> int:
        return len(self.rows["devices"])

    def _device_parts(self, a: Assessment) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        hit = self._derived.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1], hit[2]
        ident = a.identity
        identity = (ident.vendor, ident.model, ident.hardware, ident.firmware, ident.confidence)
        verdict = (
            a.risk, a.risk_level,
            sum(1 for f in a.findings if f.status == "affected"),
            sum(1 for f in a.findings if f.status == "possible"),
            sum(1 for f in a.findings if f.kev and f.status == "affected"),
            [i.rule for i in a.indicators], a.eol, list(a.policy),
        )  # fmt: skip
        self._derived[id(a)] = (a, identity, verdict)  # a is kept: its id stays unique
        return identity, verdict

    def add(self, record: ScanRecord, a: Assessment) -> None:
        addr = record.observation.address
        country = record.country
        identity, verdict = self._device_parts(a)
        extra = orjson.dumps(record.extra).decode() if record.extra else None
        self.rows["devices"].append(
            (addr, *identity, country, record.asn, record.source, record.seen,
             list(record.observation.open_ports), *verdict, extra)
        )  # fmt: skip
        ident = a.identity
        if a.findings:
            rows = self.rows["findings"]
            for f in a.findings:
                rows.append(
                    (addr, ident.vendor, ident.model, ident.firmware, country, f.cve, f.status,
                     f.kev, f.kev_date, f.epss, f.cvss, f.severity, f.fixed_in, f.source)
                )  # fmt: skip
        if a.indicators:
            rows = self.rows["indicators"]
            for i in a.indicators:
                evidence = "; ".join(f"{e.source}: {e.value}" for e in i.evidence)[:512]
                rows.append(
                    (addr, ident.vendor, ident.model, country, i.rule, i.kind, i.certainty,
                     i.campaign, i.port, evidence)
                )  # fmt: skip


def write_tables(rows: TableRows, output: Path, partition: int, partition_by: str) -> None:
    """Write each table's rows, one file per (partition key value, task partition); rows keep
    their order within each file."""
    for name, schema in SCHEMAS.items():
        items = rows.rows[name]
        if not items:
            continue
        columns = list(zip(*items, strict=True))
        groups: dict[str, list[int]] = defaultdict(list)
        for index, value in enumerate(columns[schema.get_field_index(partition_by)]):
            groups[value or UNKNOWN].append(index)
        whole = pa.Table.from_arrays(
            [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)],
            schema=schema,
        )
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
