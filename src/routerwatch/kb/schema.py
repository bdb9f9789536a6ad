"""The knowledge-base tables (SQLAlchemy Core). Alembic migrations create them.

Raw JSON is kept as text columns: ``nvd.data`` is the whole NVD record without its
``configurations`` (stored beside it, so the matcher reads only what it needs),
``cve5.data`` is the whole CVE JSON 5 record, ``kev.data`` the catalog entry. Dates are
ISO strings in UTC (``YYYY-MM-DDTHH:MM:SS.mmm``), so they compare as text.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

SOURCES = ("nvd", "cve5", "kev", "epss")

nvd = sa.Table(
    "kb_nvd",
    metadata,
    sa.Column("cve_id", sa.String(32), primary_key=True),
    sa.Column("published", sa.String(32)),
    sa.Column("last_modified", sa.String(32), nullable=False),
    sa.Column("vuln_status", sa.Text),
    sa.Column("rejected", sa.Boolean, nullable=False),
    sa.Column("has_configurations", sa.Boolean, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("cvss_score", sa.Float),
    sa.Column("cvss_version", sa.Text),
    sa.Column("cvss_vector", sa.Text),
    sa.Column("severity", sa.Text),
    sa.Column("nvd_kev_date", sa.String(32)),
    sa.Column("nvd_kev_due", sa.String(32)),
    sa.Column("vendors", sa.Text, nullable=False),  # " tp-link netgear " (CPE vendor ids)
    sa.Column("configurations", sa.Text),  # JSON list, NULL when the record has none
    sa.Column("refs", sa.Text, nullable=False),  # JSON list of reference URLs
    sa.Column("cwes", sa.Text, nullable=False),  # JSON list
    sa.Column("data", sa.Text, nullable=False),  # the rest of the record, JSON
)

cve5 = sa.Table(
    "kb_cve5",
    metadata,
    sa.Column("cve_id", sa.String(32), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("rejected", sa.Boolean, nullable=False),
    sa.Column("date_updated", sa.String(32), nullable=False),
    sa.Column("published", sa.String(32)),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("cvss_score", sa.Float),
    sa.Column("cvss_version", sa.Text),
    sa.Column("cvss_vector", sa.Text),
    sa.Column("severity", sa.Text),
    sa.Column("vendors", sa.Text, nullable=False),
    sa.Column("affected", sa.Text, nullable=False),  # JSON: CNA affected + ADP affected lists
    sa.Column("refs", sa.Text, nullable=False),
    sa.Column("cwes", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # the whole record, JSON
)

kev = sa.Table(
    "kb_kev",
    metadata,
    sa.Column("cve_id", sa.String(32), primary_key=True),
    sa.Column("date_added", sa.String(32), nullable=False),
    sa.Column("due_date", sa.String(32)),
    sa.Column("ransomware", sa.Text),
    sa.Column("vendor", sa.Text),
    sa.Column("product", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("required_action", sa.Text),
    sa.Column("data", sa.Text, nullable=False),  # the catalog entry, JSON
)

epss = sa.Table(
    "kb_epss",
    metadata,
    sa.Column("cve_id", sa.String(32), primary_key=True),
    sa.Column("epss", sa.Float, nullable=False),
    sa.Column("percentile", sa.Float),
    sa.Column("score_date", sa.String(32)),
    sa.Column("model_version", sa.Text),
)

source_state = sa.Table(
    "kb_source_state",
    metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("last_import", sa.String(32)),  # when data of this source was last imported
    sa.Column("last_sync", sa.String(32)),  # when the last online sync completed
    sa.Column("sync_cursor", sa.String(32)),  # NVD: end of the last completed window
    sa.Column("meta", sa.Text, nullable=False),  # JSON: catalog version, score date, resume
)

TABLES = {"nvd": nvd, "cve5": cve5, "kev": kev, "epss": epss}

sa.Index("ix_kb_nvd_status", nvd.c.rejected, nvd.c.has_configurations, nvd.c.last_modified)
sa.Index("ix_kb_cve5_status", cve5.c.rejected, cve5.c.date_updated)

# The match index (see routerwatch.match.index and routerwatch.kb.index): which CVEs name
# which (vendor key, model key), each record's compiled criteria, and the normaliser
# version the index was built with (rebuilt when it differs).
match_index = sa.Table(
    "kb_match_index",
    metadata,
    sa.Column("vendor_key", sa.Text, primary_key=True),
    sa.Column("model_key", sa.Text, primary_key=True),  # "*" vendor-wide, "" vendor only
    sa.Column("cve_id", sa.String(32), primary_key=True),
)

match_compiled = sa.Table(
    "kb_match_compiled",
    metadata,
    sa.Column("cve_id", sa.String(32), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON, routerwatch.match.index.encode
)

match_state = sa.Table(
    "kb_match_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sa.Index("ix_kb_match_index_cve", match_index.c.cve_id)
# max(last_modified) / max(date_updated) for the staleness warning without a table scan
sa.Index("ix_kb_nvd_modified", nvd.c.last_modified)
sa.Index("ix_kb_cve5_updated", cve5.c.date_updated)
