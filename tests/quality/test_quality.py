"""The labelled quality corpus and its gate: precision and recall must not fall below the
values recorded in tests/quality/baseline.json (see scripts/quality.py and docs/identity.md)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from routerwatch.models import DeviceIdentity, Finding

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rw_quality", ROOT / "scripts" / "quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rw_quality"] = module
    spec.loader.exec_module(module)
    return module


quality = _load_script()


@pytest.fixture(scope="module")
def cases() -> list[Any]:
    return quality.load_corpus()


@pytest.fixture(scope="module")
def fixture_records() -> list[Any]:
    return quality.records_from_fixtures(quality.FIXTURES)


@pytest.fixture(scope="module")
def kb_records() -> list[Any]:
    """The fixtures imported through routerwatch.kb into a temporary SQLite database."""
    return quality.records_via_kb(quality.FIXTURES)


def _fixture_ids(fixtures: Path) -> dict[str, set[str]]:
    """CVE ids per vendor folder/file of the fixtures."""
    out: dict[str, set[str]] = {}
    for vendor in ("tp-link", "netgear", "asus"):
        ids = {
            v["cve"]["id"]
            for v in json.loads((fixtures / "nvd" / f"{vendor}.json").read_text())[
                "vulnerabilities"
            ]
        }
        ids |= {p.stem for p in (fixtures / "cve5" / vendor).rglob("CVE-*.json")}
        out[vendor] = ids
    return out


def _case(cases: list[Any], case_id: str) -> Any:
    return next(c for c in cases if c.id == case_id)


# --------------------------------------------------------------------------- corpus


def test_corpus_size_and_vendors(cases: list[Any]) -> None:
    assert len(cases) >= 60
    vendors = {c.device["vendor"] for c in cases}
    assert vendors == {"TP-Link", "NETGEAR", "ASUS"}
    for vendor in vendors:
        assert sum(c.device["vendor"] == vendor for c in cases) >= 15, vendor
    assert sum(len(c.must_affect) for c in cases) >= 100
    assert sum(len(c.must_not_report) for c in cases) >= 60
    assert sum(len(c.may_be_possible) for c in cases) >= 20


def test_every_label_is_a_record_of_the_case_vendor(cases: list[Any], fixtures: Path) -> None:
    ids = _fixture_ids(fixtures)
    folder = {"TP-Link": "tp-link", "NETGEAR": "netgear", "ASUS": "asus"}
    for c in cases:
        known = ids[folder[c.device["vendor"]]]
        for cve in c.must_affect | c.may_be_possible | c.must_not_report:
            assert cve in known, (c.id, cve)


def test_corpus_holds_the_cases_the_issue_names(cases: list[Any], fixtures: Path) -> None:
    def with_label(cve: str, label: str, **device: str | None) -> list[Any]:
        return [
            c
            for c in cases
            if cve in getattr(c, label) and all(c.device.get(k) == v for k, v in device.items())
        ]

    # CVE-2023-1389: Archer AX21 before 1.1.4 Build 20230219, fixed build and sibling models
    assert with_label("CVE-2023-1389", "must_affect", model="Archer AX21")
    assert with_label("CVE-2023-1389", "must_not_report", firmware="1.1.4 Build 20230219 rel.73766")
    assert with_label("CVE-2023-1389", "must_not_report", model="Archer AX20")
    assert with_label("CVE-2023-1389", "must_not_report", model="Archer AX55")
    assert with_label("CVE-2023-1389", "may_be_possible", firmware=None)
    # CVE-2023-33538: TL-WR841N v8 / v10 affected, v14 not
    for hw in ("8", "10"):
        assert with_label("CVE-2023-33538", "must_affect", model="TL-WR841N", hardware=hw)
    assert with_label("CVE-2023-33538", "must_not_report", model="TL-WR841N", hardware="14")
    # CVE-2021-41653: free-text bound tl-wr840n\(eu\)_v5_171211
    assert with_label("CVE-2021-41653", "must_affect", model="TL-WR840N", hardware="5")
    assert with_label("CVE-2021-41653", "must_not_report", model="TL-WR840N", hardware="6")
    # CVE-2020-10882: Archer A7 filed as ac1750, build-date version 190726
    assert with_label("CVE-2020-10882", "must_affect", model="Archer A7")
    # CVE-2023-39780: ASUS RT-AX55
    assert with_label("CVE-2023-39780", "must_affect", model="RT-AX55")
    # CVE-2023-39238: ASUS, CVE 5 data only
    assert with_label("CVE-2023-39238", "must_affect", model="RT-AX55")
    nvd_ids = {
        v["cve"]["id"]
        for v in json.loads((fixtures / "nvd" / "asus.json").read_text())["vulnerabilities"]
    }
    assert "CVE-2023-39238" not in nvd_ids


def test_corpus_errors_name_the_case(tmp_path: Path) -> None:
    bad = tmp_path / "corpus.yaml"
    bad.write_text(
        "cases:\n- id: x\n  device: {vendor: ASUS, model: RT-AX55}\n"
        "  must_affect: [CVE-1]\n  must_not_report: [CVE-1]\n  note: n\n"
    )
    with pytest.raises(quality.QualityError, match=r"case 'x'.*both"):
        quality.load_corpus(bad)
    bad.write_text("cases:\n- id: y\n  device: {vendor: ASUS, model: RT-AX55}\n  note: n\n")
    with pytest.raises(quality.QualityError, match="case 'y': no labels"):
        quality.load_corpus(bad)


# --------------------------------------------------------------------------- records


def test_fixture_loader_merge_semantics(fixture_records: list[Any]) -> None:
    by_id = {r.cve_id: r for r in fixture_records}
    only5 = by_id["CVE-2023-39238"]  # CVE 5 only: no configurations, CNA + ADP affected
    assert only5.configurations == ()
    assert [a["product"] for a in only5.cve5_affected] == [
        "RT-AX55",
        "RT-AX56U_V2",
        "rt-ax56u_v2",
        "rt-ax55",
    ]
    both = by_id["CVE-2023-1389"]
    assert both.configurations and both.description.startswith("TP-Link Archer AX21")
    assert both.kev is not None and both.in_kev
    assert both.cvss_score is not None
    assert by_id["CVE-2023-39780"].configurations and by_id["CVE-2023-39780"].cve5_affected


def test_kb_loader_gives_the_same_records(
    fixture_records: list[Any], kb_records: list[Any]
) -> None:
    via_kb = {r.cve_id: r for r in kb_records}
    mine = {r.cve_id: r for r in fixture_records}
    assert set(via_kb) == set(mine)
    for cid in ("CVE-2023-1389", "CVE-2023-39238", "CVE-2021-41653", "CVE-2024-3079"):
        assert list(via_kb[cid].configurations) == list(mine[cid].configurations), cid
        assert list(via_kb[cid].cve5_affected) == list(mine[cid].cve5_affected), cid


# --------------------------------------------------------------------------- the harness


def _oracle(cases: list[Any]) -> Any:
    by_device = {c.id: c for c in cases}

    def check(identity: DeviceIdentity) -> Iterable[Finding]:
        case = by_device[identity.evidence[0].value.removeprefix("quality case ")]
        for cve in case.must_affect:
            yield Finding(cve=cve, status="affected", reason="oracle")
        for cve in case.may_be_possible:
            yield Finding(cve=cve, status="possible", reason="oracle")

    return check


def test_harness_scores_an_oracle_as_perfect(cases: list[Any]) -> None:
    result = quality.evaluate(_oracle(cases), cases)
    assert (result.precision, result.recall, result.noise) == (1.0, 1.0, 0)
    assert result.possible_seen == result.possible_total
    assert all(r.ok for r in result.cases)


def test_harness_counts_over_claims_and_noise(cases: list[Any]) -> None:
    def everything(status: str) -> Any:
        def check(identity: DeviceIdentity) -> Iterable[Finding]:
            case = next(c for c in cases if identity.evidence[0].value.endswith(c.id))
            for cve in case.must_affect | case.may_be_possible | case.must_not_report:
                yield Finding(cve=cve, status=status, reason="all")  # type: ignore[arg-type]

        return check

    labelled_other = sum(len(c.may_be_possible | c.must_not_report) for c in cases)
    loud = quality.evaluate(everything("affected"), cases)
    assert loud.recall == 1.0 and loud.fp == labelled_other and loud.precision < 1.0
    timid = quality.evaluate(everything("possible"), cases)
    assert timid.recall == 0.0 and timid.fp == 0
    assert timid.noise == sum(len(c.must_not_report) for c in cases)


def test_command_exit_status_and_record(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fixture_records: list[Any],
) -> None:
    # the records are loaded once for the module; main() is what is under test here
    monkeypatch.setattr(quality, "load_records", lambda *_a: (fixture_records, "fixtures"))
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps({"precision": 1.01, "recall": 0.0}))
    assert quality.main(["--loader", "fixtures", "--baseline", str(base)]) == 1
    assert "below the recorded baseline: precision" in capsys.readouterr().err
    assert quality.main(["--loader", "fixtures", "--baseline", str(base), "--record"]) == 0
    recorded = json.loads(base.read_text())
    assert 0.0 < recorded["precision"] <= 1.0 and recorded["cases"] >= 60
    capsys.readouterr()
    assert quality.main(["--loader", "fixtures", "--baseline", str(base), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["precision"] == recorded["precision"] and out["recall"] == recorded["recall"]
    bad = tmp_path / "nope.yaml"
    assert quality.main(["--corpus", str(bad)]) == 2


# --------------------------------------------------------------------------- the gate


def test_matcher_quality_does_not_regress(cases: list[Any], kb_records: list[Any]) -> None:
    try:
        check = quality.matcher_check(kb_records)
    except quality.QualityError as exc:
        pytest.fail(f"quality gate cannot run: {exc}")
    result = quality.evaluate(check, cases)
    baseline = quality.read_baseline()
    worse = quality.below_baseline(result, baseline)
    assert not worse, "\n".join([*worse, quality.report(result, baseline)])


def test_oracle_corpus_does_not_regress() -> None:
    """The oracle-derived corpus (CNA statements of CVE 5 records and KEV entries, every
    identified vendor with data; scripts/derive_oracle_cases.py) against its own baseline, on
    the whole and on the held-out part (sha256(id) mod 5 == 0)."""
    cases = quality.load_corpus(quality.ORACLE)
    assert len({c.device["vendor"] for c in cases}) >= 12
    held = [c for c in cases if c.held_out]
    assert 0 < len(held) < len(cases)
    records = quality.records_from_fixtures(quality.FIXTURES, [quality.ORACLE_CVE5])
    check = quality.matcher_check(records)
    baseline = quality.read_baseline(quality.ORACLE_BASELINE)
    result = quality.evaluate(check, cases)
    worse = quality.below_baseline(result, baseline)
    assert not worse, "\n".join([*worse, quality.report(result, baseline)])
    held_result = quality.evaluate(check, held)
    assert held_result.precision >= 0.98, quality.report(held_result, baseline)
