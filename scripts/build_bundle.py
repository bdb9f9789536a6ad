#!/usr/bin/env python3
"""Build the starter knowledge-base bundle shipped inside the package.

    .venv/bin/python scripts/build_bundle.py [--data /work/shared/data] [--date 2026-11-24]

Imports the shared real data (nvd/, cve5/, kev/, epss/) into a temporary SQLite KB and
exports it as src/routerwatch/kb/data/starter-<date>.rwkb.xz (older starter bundles there
are removed). What goes in are facts: ids, dates, CVSS, configurations, affected lists,
references, descriptions, KEV entries and EPSS score/percentile (the shared EPSS table's
other columns are not kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from routerwatch.kb.bundle import export_bundle  # noqa: E402
from routerwatch.kb.store import KnowledgeBase  # noqa: E402

OUT = ROOT / "src" / "routerwatch" / "kb" / "data"
MAX_BYTES = 2 * 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--date", default=datetime.now(UTC).strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    inputs = [args.data / "nvd", args.data / "cve5",
              args.data / "kev" / "known_exploited_vulnerabilities.json",
              args.data / "epss" / "epss_kev_nvd.csv"]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        print(f"missing input: {', '.join(missing)}", file=sys.stderr)
        return 2
    created = datetime.fromisoformat(args.date)
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(f"sqlite:///{Path(tmp) / 'kb.db'}")
        result = kb.import_paths(inputs)
        print(result.summary())
        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / f"starter-{args.date}.rwkb.xz"
        manifest = export_bundle(kb.engine, target, created=created, preset=6)
        kb.close()
    for old in args.out.glob("starter-*.rwkb.xz"):
        if old != target:
            old.unlink()
    size = target.stat().st_size
    print(f"wrote {target} ({size / 1024:.0f} KiB): {manifest['counts']}, "
          f"newest data {manifest['data_date']}")
    if size > MAX_BYTES:
        print(f"warning: bundle is larger than {MAX_BYTES // 1024} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
