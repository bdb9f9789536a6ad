"""Issue 19 item 2: poisoned records are refused at import and sync; the KB is unchanged.

Each poisoned file is a real fixture record with one field broken the way a hostile or
broken mirror would break it. Before the fix these imported fine and then crashed every
``check`` of the vendor (TypeError: unhashable type) or printed ``Infinity`` in JSON.
"""

from __future__ import annotations

import copy
import hashlib
import json
import lzma
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kb"))
from kb_fakeserver import serve
from kb_testlib import FIX, KEV_FILE, find_cve, new_kb, page_of, snapshot

from routerwatch.cli.main import app
from routerwatch.kb import KBError
from routerwatch.kb.sync import RateLimiter, Retry, SyncOptions, sync

RECORD = "CVE-2023-1389"  # TP-Link Archer AX21: in NVD with configurations and CVSS


def _nvd(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    cve = copy.deepcopy(find_cve(RECORD))
    mutate(cve)
    return page_of([cve])


def _match(cve: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = cve["configurations"][0]["nodes"][0]["cpeMatch"][0]
    return m


def _score(cve: dict[str, Any]) -> dict[str, Any]:
    key = next(k for k in cve["metrics"] if k.startswith("cvssMetric"))
    data: dict[str, Any] = cve["metrics"][key][0]["cvssData"]
    return data


NVD_POISON: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "end-object": (lambda c: _match(c).update(versionEndExcluding={"a": 1}),
                   "configurations[0].nodes[0].cpeMatch[0].versionEndExcluding: expected a string"),
    "vulnerable-list": (lambda c: _match(c).update(vulnerable=[]),
                        "nodes[0].cpeMatch[0].vulnerable: expected true or false"),
    "nodes-number": (lambda c: c["configurations"][0].update(nodes=1),
                     "configurations[0].nodes: expected an array, got number"),
    "criteria-number": (lambda c: _match(c).update(criteria=7),
                        "cpeMatch[0].criteria: expected a string, got number"),
    "operator": (lambda c: c["configurations"][0]["nodes"][0].update(operator="XOR"),
                 "nodes[0].operator: 'XOR' is not one of AND, OR"),
    "score-negative": (lambda c: _score(c).update(baseScore=-3.5),
                       "cvssData.baseScore: -3.5 is outside 0..10"),
    "score-string": (lambda c: _score(c).update(baseScore="9.8"),
                     "cvssData.baseScore: expected a number, got string"),
    "score-huge-int": (lambda c: _score(c).update(baseScore=10**400),
                       "cvssData.baseScore: number out of range"),
    "refs-object": (lambda c: c.update(references={"url": "x"}),
                    "references: expected an array, got object"),
}


@pytest.fixture()
def kb_db(tmp_path: Path) -> tuple[str, str]:
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    result = CliRunner().invoke(app, ["kb", "import", str(FIX / "nvd"), str(KEV_FILE),
                                      "--db", db])
    assert result.exit_code == 0, result.output
    return db, snapshot(new_kb(tmp_path))


def _refused(args: list[str], db: str, tmp_path: Path, before: str, *needles: str) -> str:
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert snapshot(new_kb(tmp_path)) == before
    return lines[0]


@pytest.mark.parametrize("name", sorted(NVD_POISON))
def test_poisoned_nvd_record_is_refused(name: str, tmp_path: Path,
                                        kb_db: tuple[str, str]) -> None:
    db, before = kb_db
    mutate, field = NVD_POISON[name]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(_nvd(mutate)))
    _refused(["kb", "import", str(path)], db, tmp_path, before,
             str(path), "record 1", RECORD, field)
    # the vendor's checks still work on the unchanged KB
    check = CliRunner().invoke(app, ["check", "TP-Link Archer AX21 v3", "--firmware",
                                     "1.1.2 Build 20220714 rel.46227", "-f", "json", "--db", db])
    assert check.exit_code in (0, 1, 3), check.output
    assert "Infinity" not in check.stdout and RECORD in check.stdout


def test_infinite_score_written_as_json_literal_is_refused(tmp_path: Path,
                                                           kb_db: tuple[str, str]) -> None:
    db, before = kb_db
    text = json.dumps(_nvd(lambda c: _score(c).update(baseScore=12345.5)))
    path = tmp_path / "inf.json"
    path.write_text(text.replace("12345.5", "1e999"))
    _refused(["kb", "import", str(path)], db, tmp_path, before,
             RECORD, "cvssData.baseScore: inf is outside 0..10")


def _cve5_record() -> dict[str, Any]:
    path = next((FIX / "cve5").rglob("*.json"))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


CVE5_POISON: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "lessthan-object": (
        lambda d: d["containers"]["cna"]["affected"][0].update(
            versions=[{"version": "0", "lessThan": {"x": 1}, "status": "affected"}]),
        "containers.cna.affected[0].versions[0].lessThan: expected a string"),
    "status": (
        lambda d: d["containers"]["cna"]["affected"][0].update(
            versions=[{"version": "1.0", "status": "pwned"}]),
        "containers.cna.affected[0].versions[0].status: 'pwned' is not one of"),
    "score-11": (
        lambda d: d["containers"]["cna"].update(
            metrics=[{"cvssV3_1": {"baseScore": 11, "vectorString": "CVSS:3.1/AV:N"}}]),
        "containers.cna.metrics[0].cvssV3_1.baseScore: 11 is outside 0..10"),
    "cpes-object": (
        lambda d: d["containers"]["cna"]["affected"][0].update(cpes={"a": "b"}),
        "containers.cna.affected[0].cpes: expected an array, got object"),
}


@pytest.mark.parametrize("name", sorted(CVE5_POISON))
def test_poisoned_cve5_record_is_refused(name: str, tmp_path: Path,
                                         kb_db: tuple[str, str]) -> None:
    db, before = kb_db
    mutate, field = CVE5_POISON[name]
    record = _cve5_record()
    mutate(record)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(record))
    _refused(["kb", "import", str(path)], db, tmp_path, before,
             str(path), record["cveMetadata"]["cveId"], field)


def test_poisoned_kev_entry_is_refused(tmp_path: Path, kb_db: tuple[str, str]) -> None:
    db, before = kb_db
    catalog = json.loads(KEV_FILE.read_text())
    catalog["vulnerabilities"][3]["vendorProject"] = ["TP-Link"]
    catalog["dateReleased"] = "2099-01-01T00:00:00.000Z"
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(catalog))
    _refused(["kb", "import", str(path)], db, tmp_path, before,
             "record 4", "vendorProject: expected a string, got array")


def _bundle(path: Path, lines: list[dict[str, Any]]) -> Path:
    payload = "".join(json.dumps(line) + "\n" for line in lines).encode()
    counts: dict[str, int] = {}
    for line in lines:
        (source,) = line
        counts[source] = counts.get(source, 0) + 1
    manifest = {"format": "routerwatch-kb-bundle", "version": 1, "created": "2026-11-24T00:00:00",
                "data_date": None, "counts": counts, "sources": {},
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "payload_bytes": len(payload)}
    path.write_bytes(lzma.compress((json.dumps(manifest, separators=(",", ":")) + "\n").encode())
                     + lzma.compress(payload))
    return path


def test_poisoned_bundle_lines_are_refused(tmp_path: Path, kb_db: tuple[str, str]) -> None:
    """A bundle with a correct checksum (a hostile mirror computes it) is still refused."""
    db, before = kb_db
    cve = copy.deepcopy(find_cve(RECORD))
    _match(cve).update(versionEndExcluding={"a": 1})
    bad = _bundle(tmp_path / "bad.rwkb.xz", [{"nvd": cve}])
    _refused(["kb", "import", str(bad)], db, tmp_path, before, "line 2", RECORD,
             "versionEndExcluding: expected a string")
    epss = _bundle(tmp_path / "epss.rwkb.xz",
                   [{"epss": {"cve": RECORD, "epss": 7.5, "percentile": 0.5}}])
    _refused(["kb", "import", str(epss)], db, tmp_path, before, "epss: 7.5 is outside 0..1")


def test_poisoned_sync_page_is_refused(tmp_path: Path) -> None:
    """kb sync parses with the same code: a hostile NVD mirror cannot poison the KB."""
    kb = new_kb(tmp_path)
    before = snapshot(kb, data_only=True)
    cve = copy.deepcopy(find_cve(RECORD))
    _match(cve).update(vulnerable=[])
    with serve([cve], host="127.1.2.1") as feeds:
        options = SyncOptions(sources=["nvd"], urls={"nvd": feeds.nvd_url}, full=True,
                              retry=Retry(attempts=2, base=0.001, cap=0.01),
                              limiter=RateLimiter(1000, 1.0), timeout=2.0)
        with pytest.raises(KBError, match=r"CVE-2023-1389.*vulnerable: expected true or false"):
            sync(kb, options)
    assert snapshot(kb, data_only=True) == before


def test_weakness_with_null_description_found_by_fuzzing() -> None:
    """Found by tests/fuzz (HYPOTHESIS_PROFILE=long): ``weaknesses[0].description: null``
    raised TypeError in the parser instead of being read as "no CWE"."""
    from routerwatch.kb.sources import nvd

    cve = copy.deepcopy(find_cve(RECORD))
    cve["weaknesses"] = [{"source": "x", "type": "Primary", "description": None}]
    assert nvd.parse_record(cve, 0)["cwes"] == "[]"
