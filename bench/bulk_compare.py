"""Compare two bulk outputs (`routerwatch assess -o A` and `-o B`): the three Parquet tables
(rows sorted) and the summary. Exit status 0 when equal, 1 when not (the first differing rows
are printed).

How the bulk passes check that a speed-up changed no result, e.g. against main:

    mkdir /tmp/main-code && git -C /work/main archive main src | tar -x -C /tmp/main-code
    PYTHONPATH=/tmp/main-code/src .venv/bin/python -m routerwatch assess DATA... --db KB \\
        --single-process --partitions 4 -o /tmp/out-main
    .venv/bin/python -m routerwatch assess DATA... --db KB --single-process --partitions 4 \\
        -o /tmp/out-new
    .venv/bin/python bench/bulk_compare.py /tmp/out-main /tmp/out-new

(PYTHONPATH puts main's code before this checkout's; the same KB and partition count on both
sides: the summary counts partitions. Data: bench/bench_bulk.py's generator, fixed seeds.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

TABLES = ("devices", "findings", "indicators")


def _row_key(row: dict[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in row.items()))


def table_rows(output: Path, name: str) -> list[str]:
    """The rows of one table as sortable texts (every column, values by repr)."""
    from routerwatch.bulk.tables import read_table

    return sorted(_row_key(r) for r in read_table(output, name).to_pylist())


def compare(a: Path, b: Path) -> list[str]:
    """What differs between the outputs ``a`` and ``b`` (empty: equal)."""
    problems = []
    for name in TABLES:
        ra, rb = table_rows(a, name), table_rows(b, name)
        print(f"{name}: {len(ra):,} rows / {len(rb):,} rows: {'equal' if ra == rb else 'DIFFER'}")
        if ra != rb:
            only_a, only_b = set(ra) - set(rb), set(rb) - set(ra)
            problems.append(f"{name}: {len(only_a)} rows only in {a}, {len(only_b)} only in {b}")
            problems += [f"  only in A: {r[:400]}" for r in sorted(only_a)[:2]]
            problems += [f"  only in B: {r[:400]}" for r in sorted(only_b)[:2]]
    sa = orjson.loads((a / "summary.json").read_bytes())["summary"]
    sb = orjson.loads((b / "summary.json").read_bytes())["summary"]
    print(f"summary: {'equal' if sa == sb else 'DIFFERS'}")
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key) != sb.get(key):
            shown = f"{str(sa.get(key))[:200]} / {str(sb.get(key))[:200]}"
            problems.append(f"summary[{key!r}]: {shown}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args()
    for out in (args.a, args.b):
        if not (out / "summary.json").is_file():
            print(f"error: {out} holds no finished bulk run (no summary.json)", file=sys.stderr)
            return 2
    problems = compare(args.a, args.b)
    for p in problems:
        print(p)
    print("ALL EQUAL" if not problems else "NOT EQUAL")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
