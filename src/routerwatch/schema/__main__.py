"""``python -m routerwatch.schema write [DIR]``: regenerate the JSON Schemas (docs/schema)."""

from __future__ import annotations

import sys
from pathlib import Path

from routerwatch.schema.jsonschema import write


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "write" or len(argv) > 2:
        print("usage: python -m routerwatch.schema write [DIR]", file=sys.stderr)
        return 2
    for path in write(Path(argv[1] if len(argv) > 1 else "docs/schema")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
