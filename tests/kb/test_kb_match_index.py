"""The match index stored in the KB: same findings as the in-memory matcher, only candidate
rows read per check (so the cost of a check does not grow with the KB), kept current by every
write, rebuilt when the normaliser changes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kb_testlib import ALL_DATA, FIX, find_cve, new_kb, page_of, write_json

from routerwatch.kb import KnowledgeBase
from routerwatch.kb import index as kbindex
from routerwatch.kb.schema import match_compiled, match_index, match_state
from routerwatch.match import Matcher
from routerwatch.match.index import NAMED, VENDOR_WIDE
from routerwatch.models import DeviceIdentity

FIRMWARES = (None, "1.0.0", "1.1.2 Build 20220714 rel.46227", "V1.0.4.84_10.0.58",
             "3.0.0.4.386_51529")


def _devices(memory: Matcher, per_vendor: int = 40) -> list[DeviceIdentity]:
    """Devices for every vendor the KB names: its models (as keys), several firmwares."""
    out = []
    for vendor in sorted({vk for vk, _ in _index_rows_of(memory)}):
        for model in sorted(memory.catalog.models(vendor))[:per_vendor]:  # type: ignore[arg-type]
            for fw in FIRMWARES:
                out.append(DeviceIdentity(vendor=vendor, model=model, firmware=fw))
    return out


def _index_rows_of(memory: Matcher) -> set[tuple[str, str]]:
    from routerwatch.match.index import index_keys

    catalog = memory.catalog
    return {pair for i in range(len(catalog))  # type: ignore[arg-type]
            for pair in index_keys(catalog.record(i), memory.rules)}  # type: ignore[union-attr]


def _stored(kb: KnowledgeBase) -> tuple[list[Any], list[Any]]:
    with kb.engine.connect() as conn:
        keys = sorted(tuple(r) for r in conn.execute(sa.select(match_index)))
        compiled = sorted(tuple(r) for r in conn.execute(sa.select(match_compiled)))
    return keys, compiled


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    kb = new_kb(tmp_path_factory.mktemp("idx"))
    kb.import_paths(ALL_DATA)
    return kb


def test_indexed_checks_equal_in_memory_checks(loaded: KnowledgeBase) -> None:
    memory = Matcher(list(loaded.records()))
    indexed = Matcher.from_index(loaded.match_index())
    devices = _devices(memory)
    assert len(devices) > 300
    listed = 0
    for dev in devices:
        want = memory.check(dev, include_unaffected=True)
        assert indexed.check(dev, include_unaffected=True) == want, dev
        assert indexed.knows(dev) == memory.knows(dev), dev
        listed += len(want)
    assert listed > 1000  # the comparison covers many findings, not empty lists
    for vendor in ("TP-Link", "NETGEAR", "ASUS", "MikroTik"):
        assert indexed.prepare(vendor) == memory.prepare(vendor)
    ax21 = DeviceIdentity(vendor="TP-Link", model="Archer AX21", firmware="1.1.2")
    assert indexed.explain(ax21, "CVE-2023-33538") == memory.explain(ax21, "CVE-2023-33538")


def _watch(engine: sa.Engine) -> list[str]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    return statements


def _plans(kb: KnowledgeBase, statements: list[str], params: list[Any]) -> list[str]:
    with kb.engine.connect() as conn:
        return [" ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + s, p)) for s, p in zip(statements, params, strict=True)]


def _one_check(kb: KnowledgeBase, dev: DeviceIdentity) -> tuple[int, int, int, list[Any]]:
    """(statements, record rows read, findings, the statements and their parameters)."""
    source = kb.match_index()
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(kb.engine, "before_cursor_execute", before)
    try:
        matcher = Matcher.from_index(source)
        assert matcher.knows(dev) == (True, True)
        findings = matcher.check(dev, include_unaffected=True)
    finally:
        sa.event.remove(kb.engine, "before_cursor_execute", before)
    statements, rows = source.statements, source.rows
    assert statements == len(seen)
    candidates = len(matcher.catalog.candidates("TP-Link", {"archerax21"}))  # type: ignore[arg-type]
    assert rows == candidates == len(findings)
    return statements, rows, len(findings), seen


def _filler(count: int) -> dict[str, Any]:
    """``count`` NVD records of other vendors (copies of a real one, renamed)."""
    base = find_cve("CVE-2021-32030")
    out = []
    for i in range(count):
        cve = copy.deepcopy(base)
        cve["id"] = f"CVE-2099-{10000 + i}"
        vendor = f"zzvendor{i % 37}"
        for conf in cve.get("configurations", []):
            for node in conf["nodes"]:
                for m in node["cpeMatch"]:
                    parts = m["criteria"].split(":")
                    parts[3], parts[4] = vendor, f"zz{i}_firmware"
                    m["criteria"] = ":".join(parts)
        out.append(cve)
    return page_of(out)


def test_a_check_reads_only_its_candidate_rows(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths(ALL_DATA)
    dev = DeviceIdentity(vendor="TP-Link", model="Archer AX21", hardware="3",
                         firmware="1.1.2 Build 20220714 rel.46227")
    small = _one_check(kb, dev)
    # Grow the KB fivefold with other vendors' records: the same check reads the same rows.
    kb.import_paths([write_json(tmp_path / "filler.json", _filler(2000))])
    assert kb.nvd_count() > 2000
    big = _one_check(kb, dev)
    assert small[:3] == big[:3]
    statements, rows, _, seen = big
    assert statements <= 5 and 0 < rows < 50
    # ... and every statement is an indexed search, never a scan of a table.
    plans = _plans(kb, [s for s, _ in seen], [p for _, p in seen])
    for plan in plans:
        assert "SEARCH" in plan, plan
        assert not any(f"SCAN {t}" in plan for t in
                       ("kb_nvd", "kb_cve5", "kb_match_index", "kb_match_compiled")), plan
        # ... by key: a SEARCH on a status index (rejected=?) would walk every record
        for step in plan.split(" SEARCH "):
            if any(t in step for t in ("kb_nvd ", "kb_cve5 ", "kb_match_compiled ")):
                assert "(cve_id=?)" in step, plan
            if "kb_match_index " in step:
                assert "(vendor_key=?" in step, plan
    kb.close()


def test_every_write_keeps_the_index_current(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "asus.json", FIX / "nvd" / "tp-link.json"])
    ax21 = DeviceIdentity(vendor="TP-Link", model="Archer AX21", firmware="1.1.2")
    r7000 = DeviceIdentity(vendor="NETGEAR", model="R7000", firmware="V1.0.9.88_10.2.88")
    assert "CVE-2023-1389" in {f.cve for f in Matcher.from_index(kb.match_index()).check(ax21)}
    # A newer version of CVE-2023-1389 that names a Netgear R7000 instead.
    moved = copy.deepcopy(find_cve("CVE-2023-1389"))
    moved["lastModified"] = "2030-01-01T00:00:00.000"
    moved["configurations"] = [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [{
        "vulnerable": True, "criteria": "cpe:2.3:o:netgear:r7000_firmware:*:*:*:*:*:*:*:*",
        "versionEndExcluding": "1.0.11.100", "matchCriteriaId": "X"}]}]}]
    kb.import_paths([write_json(tmp_path / "moved.json", page_of([moved]))])
    matcher = Matcher.from_index(kb.match_index())
    assert "CVE-2023-1389" not in {f.cve for f in matcher.check(ax21)}
    assert [f.status for f in matcher.check(r7000) if f.cve == "CVE-2023-1389"] == ["affected"]
    # Rejected: gone from the index.
    rejected = copy.deepcopy(moved)
    rejected.update(vulnStatus="Rejected", lastModified="2031-01-01T00:00:00.000")
    rejected.pop("configurations")
    kb.import_paths([write_json(tmp_path / "rej.json", page_of([rejected]))])
    assert "CVE-2023-1389" not in {
        f.cve for f in Matcher.from_index(kb.match_index()).check(r7000)}
    # The incrementally kept index is exactly what a rebuild makes.
    incremental = _stored(kb)
    with kb.engine.begin() as conn:
        kbindex.rebuild(conn)
    assert _stored(kb) == incremental
    kb.close()


def test_a_changed_normaliser_rebuilds_the_index_on_open(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "tp-link.json"])
    before = _stored(kb)
    assert before[0] and before[1]
    with kb.engine.begin() as conn:
        conn.execute(match_index.delete())
        conn.execute(match_state.update().values(value="an older normaliser"))
    kb.close()
    again = new_kb(tmp_path)
    assert _stored(again) == before
    with again.engine.connect() as conn:
        assert kbindex.index_version(conn) == kbindex.current_version()
    # Up to date: opening does no index work at all (one small query).
    assert kbindex.ensure_current(again.engine) is False
    again.close()


def test_index_keys_mark_vendor_wide_and_vendor_only_records(loaded: KnowledgeBase) -> None:
    with loaded.engine.connect() as conn:
        rows = conn.execute(sa.select(match_index.c.model_key, sa.func.count()).where(
            match_index.c.model_key.in_([NAMED, VENDOR_WIDE])).group_by(match_index.c.model_key))
        kinds = {key: count for key, count in rows}
    assert kinds.get(VENDOR_WIDE, 0) > 0  # asuswrt-style firmware families


def test_postgres_index_gives_the_same_findings(pg_url: str, loaded: KnowledgeBase) -> None:
    pg = KnowledgeBase(pg_url)
    pg.import_paths(ALL_DATA)
    lite = Matcher.from_index(loaded.match_index())
    postgres = Matcher.from_index(pg.match_index())
    for dev in _devices(Matcher(list(loaded.records())), per_vendor=10):
        assert postgres.check(dev, include_unaffected=True) == lite.check(
            dev, include_unaffected=True), dev
    pg.close()
