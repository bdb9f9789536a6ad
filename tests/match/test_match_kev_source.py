"""KEV as a source: an entry whose vendorProject/product names the device gives a possible
finding ("KEV names ..."), and NVD or CVE 5 data that name the device decide instead.

Uses the real CISA KEV catalog of tests/fixtures/kev (catalogVersion 2025.08.25) through a real
SQLite knowledge base, and synthetic NVD records for the "data decides" half."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from match_helpers import device

from routerwatch.kb.store import KnowledgeBase
from routerwatch.match import Matcher
from routerwatch.models import CveRecord, KevEntry

KEV = Path(__file__).parent.parent / "fixtures" / "kev" / "known_exploited_vulnerabilities.json"


@pytest.fixture(scope="module")
def kev_only(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    kb = KnowledgeBase(f"sqlite:///{tmp_path_factory.mktemp('kev') / 'kb.db'}")
    kb.import_paths([KEV])
    records = list(kb.records())
    kb.close()
    assert len(records) == len(json.loads(KEV.read_text())["vulnerabilities"])
    return Matcher(records)


def found(m: Matcher, *args: str | None) -> dict[str, str]:
    return {f.cve: f.reason for f in m.check(device(*args))}  # type: ignore[arg-type]


@pytest.mark.parametrize(("vendor", "model", "firmware", "cve", "why"), [
    ("Cisco", "RV320", "1.4.2.17", "CVE-2019-1653", "KEV names RV320"),
    ("Cisco", "RV325", None, "CVE-2019-1652", "KEV names RV325"),
    ("Cisco", "RV320", "1.4.2.17", "CVE-2023-20118", "KEV names RV Series"),
    ("Cisco", "RV345P", None, "CVE-2022-20699", "KEV names RV345 Series"),
    ("MikroTik", "RB750Gr3", "6.40.5", "CVE-2018-14847", "KEV names RouterOS"),
    ("Tenda", "AC15", "V15.03.05.19_multi", "CVE-2020-10987", "KEV names AC15"),
    ("Tenda", "AC9", None, "CVE-2018-14558", "KEV names AC9"),
    ("TP-Link", "Archer AX21", None, "CVE-2023-1389", "KEV names Archer AX21"),
    ("NETGEAR", "WNR2000", None, "CVE-2016-10174", "KEV names WNR2000v5"),
    ("DrayTek", "Vigor2960", None, "CVE-2020-8515", "KEV names Vigor Routers"),
    ("Zyxel", "USG FLEX 200", None, "CVE-2022-30525", "KEV names Firewalls"),
    ("D-Link", "DIR-859", None, "CVE-2019-17621", "KEV names DIR-859"),
])
def test_kev_names_the_device(kev_only: Matcher, vendor: str, model: str,
                              firmware: str | None, cve: str, why: str) -> None:
    findings = {f.cve: f for f in kev_only.check(device(vendor, model, None, firmware))}
    f = findings[cve]
    assert (f.status, f.source, f.kev) == ("possible", "kev", True)
    assert why in f.reason


def test_kev_does_not_name_other_models(kev_only: Matcher) -> None:
    rv340 = found(kev_only, "Cisco", "RV340", None, None)
    assert "CVE-2019-1653" not in rv340  # RV320 and RV325 only
    assert "CVE-2022-20699" in rv340
    # "Multiple Routers" names no model: KEV alone never flags every model of a vendor.
    assert "CVE-2018-6530" not in found(kev_only, "D-Link", "DIR-860L", None, None)
    # WNR2000v5: the hardware revision counts.
    assert "CVE-2016-10174" not in found(kev_only, "NETGEAR", "WNR2000", "3", None)
    assert kev_only.knows(device("MikroTik", "hAP ac2", None, None)) == (True, True)


def _nvd_rv320(end: str) -> tuple[dict, ...]:  # type: ignore[type-arg]
    return ({"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [{
        "vulnerable": True, "criteria": "cpe:2.3:o:cisco:rv320_firmware:*:*:*:*:*:*:*:*",
        "versionEndExcluding": end}]}, {"operator": "OR", "negate": False, "cpeMatch": [{
            "vulnerable": False, "criteria": "cpe:2.3:h:cisco:rv320:-:*:*:*:*:*:*:*"}]}],
        "operator": "AND"},)


def test_nvd_that_names_the_device_decides() -> None:
    kev = KevEntry("CVE-2019-1653", "2021-11-03", vendor="Cisco",
                   product="Small Business RV320 and RV325 Routers")
    rec = CveRecord("CVE-2019-1653", configurations=_nvd_rv320("1.4.2.20"), kev=kev)
    m = Matcher([rec])
    [old] = m.check(device("Cisco", "RV320", None, "1.4.2.17"))
    assert (old.status, old.source) == ("affected", "nvd")  # upgraded: the version decides
    assert m.check(device("Cisco", "RV320", None, "1.4.2.22")) == []  # fixed: no KEV guess
    [rv325] = m.check(device("Cisco", "RV325", None, "1.4.2.22"))  # NVD does not name it
    assert (rv325.status, rv325.source) == ("possible", "kev")
    assert "NVD and CVE 5 data do not name this model" in rv325.reason
