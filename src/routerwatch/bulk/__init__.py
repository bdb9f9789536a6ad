"""Bulk assessment of scan datasets (ZGrab2, masscan, nmap, Shodan, Censys) on one machine or
a Dask cluster: readers → partitions → identify → match → indicators → assess → Parquet and a
summary report. See docs/bulk.md.
"""

from routerwatch.bulk.io import DatasetError
from routerwatch.bulk.record import ReadStats, ScanRecord

__all__ = ["DatasetError", "ReadStats", "ScanRecord"]
