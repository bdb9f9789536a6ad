"""Importing the real fixture files: counts, merging, upsert rules, formats."""

from __future__ import annotations

import copy
import gzip
import json
import lzma
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_testlib import (
    ALL_DATA,
    CVE5_COUNTS,
    EPSS_FIRST,
    EPSS_SHARED,
    FIX,
    KEV_FILE,
    NVD_COUNTS,
    find_cve,
    new_kb,
    nvd_cves,
    page_of,
    snapshot,
    write_json,
)

from routerwatch.kb import KBError, KnowledgeBase


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """All fixture data imported once, for the read-only tests."""
    kb = new_kb(tmp_path_factory.mktemp("kbload"))
    kb.import_paths(ALL_DATA)
    yield kb
    kb.close()


def test_every_fixture_file_imports_with_the_files_record_counts(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    result = kb.import_paths(ALL_DATA)
    per_file = {Path(p).relative_to(FIX).as_posix(): (src, n) for p, src, n in result.files}
    for vendor, count in NVD_COUNTS.items():
        assert per_file[f"nvd/{vendor}.json"] == ("nvd", count)
    for vendor, count in CVE5_COUNTS.items():
        cve5 = [v for k, v in per_file.items() if k.startswith(f"cve5/{vendor}/")]
        assert len(cve5) == count and all(v == ("cve5", 1) for v in cve5)
    assert per_file["kev/known_exploited_vulnerabilities.json"] == ("kev", 1404)
    assert per_file["epss/epss_kev_nvd.csv"] == ("epss", 1556)
    # provenance .tsv files are not KB data: skipped by content, not fatal
    assert sorted(Path(p).name for p in result.skipped) == [
        "asus.provenance.tsv", "netgear.provenance.tsv", "tp-link.provenance.tsv"]
    sources = kb.status()["sources"]
    assert sources["nvd"]["records"] == sum(NVD_COUNTS.values())
    assert sources["cve5"]["records"] == sum(CVE5_COUNTS.values())
    assert sources["kev"]["records"] == 1404
    assert sources["epss"]["records"] == 1556
    assert sources["kev"]["catalog_version"] == "2025.08.25"
    kb.close()


def test_records_merge_nvd_and_cve5_only_without_duplicates(loaded: KnowledgeBase) -> None:
    kb = loaded
    records = list(kb.records())
    ids = [r.cve_id for r in records]
    assert len(ids) == len(set(ids))
    nvd_ids = {c["id"] for v in NVD_COUNTS for c in nvd_cves(v)}
    cve5_ids = {p.stem for p in (FIX / "cve5").rglob("CVE-*.json")}
    kev_ids = {v["cveID"] for v in json.loads(
        (FIX / "kev" / "known_exploited_vulnerabilities.json").read_text())["vulnerabilities"]}
    assert set(ids) == nvd_ids | cve5_ids | kev_ids  # KEV entries neither source has, too
    kev_only = next(r for r in records if r.cve_id in kev_ids - nvd_ids - cve5_ids)
    assert kev_only.kev is not None and kev_only.kev.product and not kev_only.configurations
    assert len(nvd_ids & cve5_ids) == 93  # README: all 92 TP-Link + 1 ASUS overlap
    only5 = next(r for r in records if r.cve_id in cve5_ids - nvd_ids)
    assert only5.vuln_status is None and only5.cve5_affected and only5.configurations == ()
    assert only5.description and only5.last_modified


def test_awaiting_analysis_records_are_kept_and_marked(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "tp-link.json", FIX / "cve5" / "tp-link"])
    tplink = list(kb.records(vendors=None))
    no_config = [r for r in tplink if r.vuln_status is not None and not r.configurations]
    assert len(no_config) == 35
    assert kb.status()["sources"]["nvd"]["without_configurations"] == 35
    for cve_id in ("CVE-2023-27359", "CVE-2024-5035"):
        record = kb.get(cve_id)
        assert record is not None and record.configurations == ()
        assert record.vuln_status in ("Received", "Awaiting Analysis", "Undergoing Analysis")
        # the CVE 5 record is the second opinion for what NVD has not analysed
        assert record.cve5_affected and record.cve5_affected[0]["vendor"]
    kb.close()


def test_kev_and_nvd_disagreement_stays_visible(loaded: KnowledgeBase) -> None:
    kb = loaded
    record = kb.get("CVE-2023-50224")
    assert record is not None
    assert record.kev is None  # not in the 2025-08-25 catalog
    assert record.nvd_kev_date == "2025-09-03"  # but NVD says CISA added it
    assert record.in_kev
    listed = kb.get("CVE-2023-1389")
    assert listed is not None and listed.kev is not None
    assert listed.kev.date_added == "2023-05-01" and listed.kev.vendor == "TP-Link"
    assert listed.epss is not None and listed.epss > 0.9


def test_best_cvss_and_parsed_fields(loaded: KnowledgeBase) -> None:
    kb = loaded
    v4 = kb.get("CVE-2024-9284")  # only Secondary v4.0 / v3.1 / v2 metrics
    assert v4 is not None and (v4.cvss_version, v4.cvss_score) == ("4.0", 7.1)
    v31 = kb.get("CVE-2024-1180")  # v3.1 Primary 8.0 beats v3.0 Secondary 6.8
    assert v31 is not None and (v31.cvss_version, v31.cvss_score) == ("3.1", 8.0)
    assert v31.cvss_vector and v31.cvss_vector.startswith("CVSS:3.1/")
    v2 = kb.get("CVE-2012-2440")
    assert v2 is not None
    assert (v2.cvss_version, v2.cvss_score, v2.severity) == ("2.0", 7.5, "HIGH")
    assert v2.cwes == ("CWE-264",)
    assert "http://www.kb.cert.org/vuls/id/834723" in v2.references
    assert v2.configurations[0]["nodes"][0]["cpeMatch"][0]["criteria"].startswith(
        "cpe:2.3:a:tp-link:8840t")
    assert v2.published == "2012-04-28T00:55:01.313" and v2.description.startswith("The default")
    assert kb.get("cve-2012-2440") == v2
    assert kb.get("CVE-1999-0001") is None


def test_vendor_filter(loaded: KnowledgeBase) -> None:
    kb = loaded
    everything = {r.cve_id for r in kb.records()}
    asus = {r.cve_id for r in kb.records(vendors=["asus"])}
    assert asus and asus < everything
    assert "CVE-2021-32030" in asus and "CVE-2012-2440" not in asus


def test_whole_records_are_kept(loaded: KnowledgeBase) -> None:
    for vendor in NVD_COUNTS:
        for cve in nvd_cves(vendor):
            assert loaded.raw(cve["id"]) == cve
    sample = next((FIX / "cve5" / "asus").rglob("CVE-*.json"))
    assert loaded.raw(sample.stem, "cve5") == json.loads(sample.read_text())
    kev = loaded.raw("CVE-2023-1389", "kev")
    assert kev is not None and kev["vendorProject"] == "TP-Link"
    assert loaded.raw("CVE-1999-0001") is None


def test_reimport_changes_nothing(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths(ALL_DATA)
    before = snapshot(kb, data_only=True)
    kb.import_paths(ALL_DATA)
    assert snapshot(kb, data_only=True) == before
    kb.close()


def test_newer_replaces_older_never_does(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "asus.json"])
    original = find_cve("CVE-2021-32030")
    newer = copy.deepcopy(original)
    newer["lastModified"] = "2030-01-01T00:00:00.000"
    newer["descriptions"][0]["value"] = "newer text"
    older = copy.deepcopy(original)
    older["lastModified"] = "2001-01-01T00:00:00.000"
    older["descriptions"][0]["value"] = "older text"
    kb.import_paths([write_json(tmp_path / "newer.json", page_of([newer]))])
    record = kb.get("CVE-2021-32030")
    assert record is not None and record.description == "newer text"
    kb.import_paths([write_json(tmp_path / "older.json", page_of([older]))])
    kb.import_paths([FIX / "nvd" / "asus.json"])  # the original is older too
    record = kb.get("CVE-2021-32030")
    assert record is not None and record.description == "newer text"
    assert record.last_modified == "2030-01-01T00:00:00.000"
    kb.close()


def test_rejected_cves_leave_the_results(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "asus.json"])
    count = sum(1 for _ in kb.records())
    rejected = copy.deepcopy(find_cve("CVE-2021-32030"))
    rejected["vulnStatus"] = "Rejected"
    rejected["lastModified"] = "2030-01-01T00:00:00.000"
    rejected.pop("configurations")
    kb.import_paths([write_json(tmp_path / "rej.json", {"cve": rejected})])
    assert kb.get("CVE-2021-32030") is None
    assert sum(1 for _ in kb.records()) == count - 1
    status = kb.status()["sources"]["nvd"]
    assert status["rejected"] == 1 and status["records"] == count - 1
    kb.close()


def test_a_cve5_rejection_hides_the_cve(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "tp-link.json", FIX / "cve5" / "tp-link"])
    assert kb.get("CVE-2023-50224") is not None
    record = json.loads(next((FIX / "cve5").rglob("CVE-2023-50224.json")).read_text())
    record["cveMetadata"].update(state="REJECTED", dateUpdated="2030-01-01T00:00:00.000Z",
                                 dateRejected="2030-01-01T00:00:00.000Z")
    record["containers"] = {"cna": {"providerMetadata": record["containers"]["cna"][
        "providerMetadata"], "rejectedReasons": [{"lang": "en", "value": "duplicate"}]}}
    write_json(tmp_path / "rejected.json", record)
    kb.import_paths([tmp_path / "rejected.json"])
    assert kb.get("CVE-2023-50224") is None
    assert "CVE-2023-50224" not in {r.cve_id for r in kb.records()}
    assert kb.status()["sources"]["cve5"]["rejected"] == 1
    kb.close()


def test_compressed_and_single_record_files_by_content(tmp_path: Path) -> None:
    src = (FIX / "nvd" / "netgear.json").read_bytes()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "pages.bin").write_bytes(gzip.compress(src))
    (tmp_path / "in" / "other.dat").write_bytes(lzma.compress((FIX / "nvd" / "asus.json")
                                                              .read_bytes()))
    shutil.copy(KEV_FILE, tmp_path / "in" / "kev.csv")  # the name lies; content decides
    bare = find_cve("CVE-2012-2440")
    write_json(tmp_path / "in" / "bare-record.txt", bare)  # fkie-style bare CVE object
    write_json(tmp_path / "in" / "wrapped.json", {"cve": find_cve("CVE-2023-1389")})
    kb = new_kb(tmp_path)
    result = kb.import_paths([tmp_path / "in"])
    kinds = {Path(p).name: (s, n) for p, s, n in result.files}
    assert kinds == {"pages.bin": ("nvd", 73), "other.dat": ("nvd", 32), "kev.csv": ("kev", 1404),
                     "bare-record.txt": ("nvd", 1), "wrapped.json": ("nvd", 1)}
    assert kb.status()["sources"]["nvd"]["records"] == 73 + 32 + 2
    kb.close()


def test_epss_first_format_plain_and_gzip(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd"])
    gz = tmp_path / "epss.csv.gz"
    gz.write_bytes(gzip.compress(EPSS_FIRST.read_bytes()))
    result = kb.import_paths([gz])
    assert result.files[0][1:] == ("epss", 20)
    record = kb.get("CVE-2023-1389")
    assert record is not None and (record.epss, record.epss_percentile) == (0.99999, 0.99992)
    epss = kb.status()["sources"]["epss"]
    assert epss["records"] == 20 and epss["newest"] == "2026-08-22T00:00:00.000"
    assert epss["model_version"] == "v2025.03.14"
    # the undated shared table does not overwrite dated FIRST scores, but adds the rest
    kb.import_paths([EPSS_SHARED])
    assert kb.status()["sources"]["epss"]["records"] == 1556
    again = kb.get("CVE-2023-1389")
    assert again is not None and again.epss == 0.99999
    kb.close()


def test_one_import_is_one_transaction(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "asus.json"])
    before = snapshot(kb)
    broken = tmp_path / "zz-broken.json"
    broken.write_text((FIX / "nvd" / "tp-link.json").read_text()[:5000])
    with pytest.raises(KBError, match=r"zz-broken\.json"):
        kb.import_paths([FIX / "nvd" / "netgear.json", KEV_FILE, broken])
    assert snapshot(kb) == before
    kb.close()


def test_parallel_parse_gives_the_same_kb_and_errors(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from routerwatch.kb import parallel

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)  # use the worker pool on small data too
    files = [FIX / "nvd", FIX / "cve5" / "asus", KEV_FILE, EPSS_SHARED]
    sequential = new_kb(tmp_path, "seq.db")
    sequential.import_paths(files, workers=1)
    pooled = new_kb(tmp_path, "par.db")
    result = pooled.import_paths(files, workers=2)
    assert snapshot(pooled, data_only=True) == snapshot(sequential, data_only=True)
    assert result.counts == {"nvd": 228, "cve5": 49, "kev": 1404, "epss": 1556}
    assert len(result.skipped) == 3
    before = snapshot(pooled)
    broken = tmp_path / "broken"
    broken.mkdir()
    for vendor in NVD_COUNTS:
        shutil.copy(FIX / "nvd" / f"{vendor}.json", broken / f"{vendor}.json")
    (broken / "netgear.json").write_text((FIX / "nvd" / "netgear.json").read_text()[:9000])
    with pytest.raises(KBError, match=r"netgear\.json: invalid JSON"):
        pooled.import_paths([broken, KEV_FILE], workers=2)
    assert snapshot(pooled) == before
    sequential.close()
    pooled.close()
