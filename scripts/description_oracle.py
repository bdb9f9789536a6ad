#!/usr/bin/env python3
"""How often is a (model, exact firmware) pair a CVE description names really affected?

The matcher upgrades a ``possible`` finding to ``affected`` when the description names the
device's model on exactly its firmware ("Netgear EX6120 v1.0.0.68 is vulnerable to ...",
``routerwatch.match.description.named_versions``). This script measures that rule against
data it was not written from: for every record of the shipped starter bundle (NVD + CISA
Vulnrichment CVE 5 + KEV) whose description names such pairs, it asks the matcher what the
*structured* data alone says of a device of that model on that firmware (the description
blanked, so the rule cannot answer for itself):

* ``agree``: the structured data says affected;
* ``disagree``: it says not affected (the rule would be wrong there);
* ``undecided``: possible, or the structured data does not name the model (where the rule
  adds something).

    .venv/bin/python scripts/description_oracle.py [--json] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from routerwatch.kb import KnowledgeBase
from routerwatch.kb.store import ensure_starter
from routerwatch.match import Matcher
from routerwatch.match.aliases import vendor_key
from routerwatch.match.description import named_versions
from routerwatch.models import CveRecord, DeviceIdentity, replace


def _vendor(record: CveRecord) -> str | None:
    """The device vendor the record is about: its first CVE 5 / KEV vendor routerwatch knows."""
    names = [str(e.get("vendor") or "") for e in record.cve5_affected if isinstance(e, dict)]
    if record.kev is not None:
        names.append(record.kev.vendor)
    for name in names:
        if vendor_key(name) is not None:
            return name
    return None


def measure(records: list[CveRecord]) -> dict[str, Any]:
    blank = [replace(r, description="") for r in records]
    matcher = Matcher(blank)
    counts: Counter[str] = Counter()
    rows: list[dict[str, str]] = []
    for record in records:
        pairs = named_versions(record.description)
        vendor = _vendor(record) if pairs else None
        if vendor is None:
            continue
        # one verdict per (model key, version): "Netgear EX6120" and "EX6120" are one device
        seen: set[tuple[frozenset[str], str]] = set()
        for model, version in sorted(pairs, key=lambda p: len(p[0])):
            identity = DeviceIdentity(vendor=vendor, model=model, firmware=version)
            key = (matcher.device(identity).keys, version)
            if not key[0] or key in seen:
                continue
            seen.add(key)
            finding = matcher.explain(identity, record.cve_id)
            status = finding.status if finding is not None else "unnamed"
            verdict = {"affected": "agree", "not_affected": "disagree"}.get(status, "undecided")
            counts[verdict] += 1
            rows.append({"cve": record.cve_id, "vendor": vendor, "model": model,
                         "version": version, "structured": status, "verdict": verdict,
                         "why": finding.reason if finding is not None else ""})
    decided = counts["agree"] + counts["disagree"]
    return {"pairs": sum(counts.values()), **counts,
            "precision_where_decided": counts["agree"] / decided if decided else None,
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the disagreements")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(f"sqlite:///{Path(tmp) / 'kb.sqlite'}")
        try:
            ensure_starter(kb)
            records = [r for r in kb.records() if named_versions(r.description)]
        finally:
            kb.close()
    result = measure(records)
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
        return 0
    p = result["precision_where_decided"]
    print(f"description pairs (model, exact firmware) in {len(records)} records: "
          f"{result['pairs']}; structured data agrees {result.get('agree', 0)}, disagrees "
          f"{result.get('disagree', 0)}, undecided {result.get('undecided', 0)}; "
          f"precision where decided {p:.4f}" if p is not None else "none decided")
    if args.verbose:
        for row in result["rows"]:
            if row["verdict"] == "disagree":
                print(f"  {row['cve']} {row['vendor']} {row['model']} {row['version']}: "
                      f"{row['why'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
