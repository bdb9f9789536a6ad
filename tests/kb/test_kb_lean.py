"""The lean read path (routerwatch.kb.lean): an up-to-date SQLite KB read through sqlite3 gives
exactly what the SQLAlchemy path gives (index lookups, records, status, findings), imports
neither SQLAlchemy nor Alembic, and steps aside whenever the KB needs the full path. The
status cache (routerwatch.kb.status) is recounted after every write."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from kb_testlib import ALL_DATA, FIX, find_cve, new_kb, page_of, write_json

from routerwatch.kb import KnowledgeBase, lean_gen
from routerwatch.kb.lean import HEAD_REVISION, LeanKb, open_lean
from routerwatch.match import Matcher
from routerwatch.models import DeviceIdentity
from routerwatch.pipeline import load_engines, load_engines_lean

NOW = datetime(2026, 12, 3, 12, 0, 0)
FIRMWARES = (None, "1.0.0", "1.1.2 Build 20220714 rel.46227", "V1.0.4.84_10.0.58")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    kb = new_kb(tmp_path_factory.mktemp("lean"))
    kb.import_paths(ALL_DATA)
    kb.status()  # the full path counts and caches the status
    return kb


def _lean(kb: KnowledgeBase) -> LeanKb:
    lean = open_lean(kb.url)
    assert lean is not None
    return lean


def test_generated_sql_is_current() -> None:
    assert lean_gen.TARGET.read_text() == lean_gen.render()


def test_head_revision_is_the_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from routerwatch.kb.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_lean_index_equals_the_sqlalchemy_index(loaded: KnowledgeBase) -> None:
    full, lean = loaded.match_index(), _lean(loaded).match_index()
    vendors = ["TP-Link", "NETGEAR", "ASUS", "MikroTik", "D-Link", "no-such-vendor"]
    compared = 0
    for vendor in vendors:
        assert lean.vendor_known(vendor) == full.vendor_known(vendor)
        models = full.models(vendor)
        assert lean.models(vendor) == models
        for model in sorted(models)[:60]:
            keys = {model}
            assert lean.model_known(vendor, keys) == full.model_known(vendor, keys)
            ids = full.candidates(vendor, keys)
            assert lean.candidates(vendor, keys) == ids
            assert lean.load(ids) == full.load(ids)
            compared += len(ids)
        assert lean.model_known(vendor, set()) == full.model_known(vendor, set())
    assert compared > 300  # many records, not a handful
    # KEV-only and CVE-5-only ids, and ids the KB lacks, read the same way
    some = ["CVE-2023-1389", "CVE-2099-0001", *(f"CVE-2024-{n:04d}" for n in range(3000, 3400))]
    assert lean.load(some) == full.load(some)
    assert lean.statements == full.statements and lean.rows == full.rows


def test_lean_status_equals_the_full_status(loaded: KnowledgeBase) -> None:
    full = loaded.status(NOW)
    lean = _lean(loaded).status(NOW)
    assert lean == full
    assert full["sources"]["nvd"]["records"] > 200 and full["vendors"]


def test_lean_engines_give_the_same_findings(loaded: KnowledgeBase) -> None:
    full = load_engines(loaded, fingerprints=False)
    lean = load_engines_lean(loaded.url, fingerprints=False)
    assert lean is not None
    assert lean.kb_snapshot == full.kb_snapshot and lean.kb_warning == full.kb_warning
    assert {k: v for k, v in lean.kb_status.items() if k != "generated"} == {
        k: v for k, v in full.kb_status.items() if k != "generated"}
    memory = Matcher(list(loaded.records()))
    listed = 0
    for vendor in ("TP-Link", "NETGEAR", "ASUS"):
        for model in sorted(memory.catalog.models(vendor))[:40]:  # type: ignore[attr-defined]
            for fw in FIRMWARES:
                dev = DeviceIdentity(vendor=vendor, model=model, firmware=fw)
                want = full.matcher.check(dev, include_unaffected=True)
                assert lean.matcher.check(dev, include_unaffected=True) == want, dev
                listed += len(want)
    assert listed > 500


def test_lean_path_imports_neither_sqlalchemy_nor_alembic(loaded: KnowledgeBase) -> None:
    code = (
        "import sys\n"
        "from routerwatch.pipeline import load_engines_lean, check_device\n"
        "from routerwatch.models import DeviceIdentity\n"
        f"e = load_engines_lean({loaded.url!r}, fingerprints=False)\n"
        "r = check_device(e, DeviceIdentity(vendor='TP-Link', model='Archer AX21', "
        "firmware='1.1.2'))\n"
        "print(len(r.findings), sorted(m for m in ('sqlalchemy', 'alembic') if m in "
        "sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert int(out[0]) > 0
    assert out[1:] == ["[]"]


def test_lean_steps_aside_when_the_kb_needs_the_full_path(tmp_path: Path) -> None:
    assert open_lean(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert open_lean("postgresql://u@127.0.0.1/x") is None
    assert open_lean("sqlite://") is None
    kb = new_kb(tmp_path)  # migrated but empty: the full path imports the starter bundle
    assert open_lean(kb.url) is None
    kb.import_paths([FIX / "nvd" / "tp-link.json"])
    assert open_lean(kb.url) is None  # no cached status for this content yet
    before = kb.status(NOW)
    assert _lean(kb).status(NOW) == before
    # a write (an import of one more record) outdates the cache: lean steps aside, the full
    # path recounts and caches again
    extra = find_cve("CVE-2021-32030")
    extra["id"] = "CVE-2099-77777"
    kb.import_paths([write_json(tmp_path / "one.json", page_of([extra]))])
    assert open_lean(kb.url) is None
    after = kb.status(NOW)
    assert after["sources"]["nvd"]["records"] == before["sources"]["nvd"]["records"] + 1
    assert _lean(kb).status(NOW) == after
    # an index built by another normaliser: the full path rebuilds it
    with kb.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE kb_match_state SET value='old' WHERE name='normaliser'")
    assert open_lean(kb.url) is None
    kb.close()
    kb = KnowledgeBase(kb.url)  # rebuilds the index on open
    kb.status()
    assert _lean(kb).status(NOW) == kb.status(NOW)


def test_cached_status_survives_a_reopen_and_counts_what_is_there(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    kb.import_paths([FIX / "nvd" / "netgear.json"])
    first = kb.status(NOW)
    kb.close()
    again = KnowledgeBase(kb.url)
    assert again.status(NOW) == first
    with again.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT value FROM kb_match_state WHERE name='status'").scalar()
    assert json.loads(row)["figures"]["sources"]["nvd"]["records"] == \
        first["sources"]["nvd"]["records"] > 0


def test_lean_opens_paths_with_spaces_and_percent_signs(tmp_path: Path) -> None:
    folder = tmp_path / "my kb #1 %20"
    folder.mkdir()
    kb = new_kb(folder)
    kb.import_paths([FIX / "nvd" / "asus.json"])
    want = kb.status(NOW)
    lean = open_lean(kb.url)
    assert lean is not None and lean.status(NOW) == want
