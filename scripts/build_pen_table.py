"""Write src/routerwatch/fingerprint/data/pen.tsv: IANA private enterprise numbers of the vendors
in routerwatch's vendor registry.

Input: the IANA registry (https://www.iana.org/assignments/enterprise-numbers.txt) or
Wireshark's ``enterprises.tsv`` generated from it (Debian package libwireshark-data,
/usr/share/wireshark/enterprises.tsv). An organisation is kept when its whole name (company
words such as "Inc", "Co", "Ltd" dropped) is a spelling the vendor registry knows - the same
vocabulary that reads UPnP manufacturers - so "Huawei Technology Co.,Ltd" stays and
"Huawei Symantec" does not.

    python3 scripts/build_pen_table.py /usr/share/wireshark/enterprises.tsv
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from routerwatch.identity.vendors import _key, _registry

OUT = Path(__file__).resolve().parents[1] / "src/routerwatch/fingerprint/data/pen.tsv"


def read_registry(path: Path) -> tuple[str, list[tuple[int, str]]]:
    """(last-updated note, [(number, organisation)]) from either file format."""
    text = path.read_text("utf-8", errors="replace")
    updated = re.search(r"last updated (\d{4}-\d{2}-\d{2})", text)
    rows: list[tuple[int, str]] = []
    if "\t" in text:  # Wireshark's enterprises.tsv
        for line in text.splitlines():
            m = re.match(r"^(\d+)\s+(.+?)\s*(?:\t#.*)?$", line)
            if m:
                rows.append((int(m.group(1)), m.group(2)))
    else:  # IANA's text: number on its own line, organisation indented by two spaces below
        lines = text.splitlines()
        for i, line in enumerate(lines[:-1]):
            if (
                re.fullmatch(r"\d+", line.strip())
                and lines[i + 1].startswith("  ")
                and not lines[i + 1].startswith("    ")
            ):
                rows.append((int(line.strip()), lines[i + 1].strip()))
    return (updated.group(1) if updated else "unknown"), rows


# Organisations whose name reads as a registry spelling but are another company (checked by hand):
# 153 "Unifi Communications Corp." is not Ubiquiti's UniFi; "HP Inc." and "hp" make PCs and
# printers (HPE's network gear uses 11); "Thomson Technology Limited" is not Thomson/Technicolor.
EXCLUDE = {153, 6534, 58515, 46898, 20840}


def vendor_of(org: str) -> str | None:
    """The registry vendor whose spelling is the whole organisation name, else None."""
    reg = _registry()
    name = re.sub(r"\(.*?\)", " ", org)
    full = _key(name)
    if full in reg.by_key:
        return reg.by_key[full]
    kept = [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t and t not in reg.company_words]
    return reg.by_key.get("".join(kept))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    try:
        updated, rows = read_registry(source)
    except OSError as exc:
        print(f"error: cannot read {source}: {exc}", file=sys.stderr)
        return 2
    kept = [
        (n, org, v) for n, org in rows if n not in EXCLUDE and (v := vendor_of(org)) is not None
    ]
    header = [
        "# IANA private enterprise numbers -> routerwatch vendor",
        "# (written by scripts/build_pen_table.py)",
        "# Source: IANA 'SMI Network Management Private Enterprise Codes',",
        "# https://www.iana.org/assignments/enterprise-numbers.txt, as generated into Wireshark's",
        f"# enterprises.tsv (Debian libwireshark-data 4.0.17), registry last updated {updated}.",
        "# Kept: organisations whose whole name is a spelling of a vendor in",
        "# identity/data/vendors.yaml.",
        "# pen\tIANA organisation\tvendor",
    ]
    OUT.write_text("\n".join(header + [f"{n}\t{org}\t{v}" for n, org, v in kept]) + "\n", "utf-8")
    print(f"{len(kept)} of {len(rows)} enterprise numbers kept -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
