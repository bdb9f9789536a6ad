"""A description that names a model on an exact firmware ("Netgear EX6120 v1.0.0.68 ... is
vulnerable") decides a finding the structured data leaves possible (issue 9): on the real
CVE-2024-35519 record (CISA Vulnrichment, CC0, tests/fixtures/cve5), whose ADP entry lists
another version with ``defaultStatus: unknown``."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from routerwatch.kb import KnowledgeBase
from routerwatch.kb.store import ensure_starter
from routerwatch.match import Matcher
from routerwatch.match.description import named_versions, same_version
from routerwatch.models import CveRecord, DeviceIdentity

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "tests" / "fixtures" / "cve5" / "netgear" / "2024" / "35xxx" / "CVE-2024-35519.json"


def _record() -> CveRecord:
    doc = json.loads(RECORD.read_text())
    cna = doc["containers"]["cna"]
    affected: list[Any] = list(cna.get("affected", []))
    for adp in doc["containers"].get("adp", []):
        affected += adp.get("affected", [])
    text = next(d["value"] for d in cna["descriptions"] if d["lang"].startswith("en"))
    return CveRecord(cve_id="CVE-2024-35519", description=text, cve5_affected=tuple(affected))


@pytest.mark.parametrize(("text", "pairs"), [
    ("Tenda AC18 V15.03.05.19 was discovered to contain a stack overflow",
     {("AC18", "15.03.05.19"), ("Tenda AC18", "15.03.05.19")}),
    ("TOTOLINK A3300R V17.0.0cu.557_B20221024 was discovered to contain",
     {("A3300R", "17.0.0cu.557_B20221024"), ("TOTOLINK A3300R", "17.0.0cu.557_B20221024")}),
    ("This issue is fixed in EX6120 v1.0.0.70.", set()),          # a fix, not a victim
    ("RT-N56U router with firmware before 1.0.1.4o", set()),     # a range, not a version
    ("Upgrade to DGA2232 v19.4-810 to fix it.", set()),
    ("TP-LINK TL-ER5120G 4.0 2.0.0 Build 210817 allows", set()),  # 4.0 is the hardware
])
def test_named_versions(text: str, pairs: set[tuple[str, str]]) -> None:
    assert named_versions(text) >= pairs if pairs else not named_versions(text)
    assert all(v != "4.0" for _m, v in named_versions(text))


def test_same_version_reads_the_digits_and_letters() -> None:
    assert same_version("V1.0.0.68", "1.0.0.68")
    assert same_version("3.0.0.4.380_8591", "3.0.0.4.380.8591")
    assert not same_version("1.0.0.68", "1.0.0.6")
    assert not same_version("1.0.1.4", "1.0.1.4o")
    assert not same_version("1.1.2 Build 20220714 rel.46227", "1.1.2")


def test_the_named_model_on_that_firmware_is_affected() -> None:
    m = Matcher([_record()])
    f = m.explain(DeviceIdentity(vendor="NETGEAR", model="EX6120", firmware="V1.0.0.68"),
                  "CVE-2024-35519")
    assert f is not None and f.status == "affected"
    assert "the description names" in f.reason and "1.0.0.68" in f.reason


@pytest.mark.parametrize(("model", "firmware"), [
    ("EX6120", "V1.0.0.70"),   # another firmware of the named model: the data decides
    ("EX6100", "V1.0.0.68"),   # the version named for another model
])
def test_other_devices_stay_possible(model: str, firmware: str) -> None:
    m = Matcher([_record()])
    f = m.explain(DeviceIdentity(vendor="NETGEAR", model=model, firmware=firmware),
                  "CVE-2024-35519")
    assert f is not None and f.status == "possible"


def test_structured_data_agrees_with_named_pairs_on_the_starter_bundle() -> None:
    """Outside check (scripts/description_oracle.py): where NVD/CVE 5 data decide a pair the
    description names, they call it affected in >= 98 % of cases."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from description_oracle import measure  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(f"sqlite:///{Path(tmp) / 'kb.sqlite'}")
        try:
            ensure_starter(kb)
            records = [r for r in kb.records() if named_versions(r.description)]
        finally:
            kb.close()
    result = measure(records)
    assert result["pairs"] > 500
    assert result["precision_where_decided"] >= 0.98


@pytest.mark.parametrize("text", ["a1" * 50_000, "A-" * 50_000 + "(JP", "x1 " * 30_000,
                                  "1." * 50_000, "a" * 100_000 + "1"])
def test_hostile_description_is_read_in_linear_time(text: str) -> None:
    """A KB record's description is outside data: a long run of letters and digits must not
    make the regexes backtrack (the first version of the pair regex took 54 s on 2,000 chars)."""
    import time

    from routerwatch.match.description import advisory_regions, names_firmware_version

    start = time.process_time()
    named_versions(text), advisory_regions(text), names_firmware_version(text)
    assert time.process_time() - start < 1.0
