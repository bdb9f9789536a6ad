"""Offline bundles: round trip, checksum/version checks, the shipped starter, staleness."""

from __future__ import annotations

import json
import lzma
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kb_testlib import ALL_DATA, KEV_FILE, new_kb, snapshot
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.kb import KBError, KnowledgeBase, ensure_starter, stale_warning
from routerwatch.kb.store import starter_bundle


@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bundle")
    kb = new_kb(tmp)
    kb.import_paths(ALL_DATA)
    target = tmp / "kb.rwkb.xz"
    manifest = kb.export(target)
    assert manifest["counts"] == {"nvd": 228, "cve5": 218, "kev": 1404, "epss": 1556}
    kb.close()
    return target


def _split(bundle: Path) -> tuple[dict[str, object], list[bytes]]:
    lines = lzma.decompress(bundle.read_bytes()).splitlines(keepends=True)
    return json.loads(lines[0]), lines[1:]


def _join(path: Path, manifest: dict[str, object], payload: list[bytes]) -> Path:
    head = lzma.compress(json.dumps(manifest, separators=(",", ":")).encode() + b"\n")
    path.write_bytes(head + lzma.compress(b"".join(payload), preset=0))
    return path


def test_round_trip_gives_the_same_records(full_bundle: Path, tmp_path: Path) -> None:
    source = new_kb(tmp_path, "a.db")
    source.import_paths(ALL_DATA)
    copy = new_kb(tmp_path, "b.db")
    result = copy.import_paths([full_bundle])
    assert result.files == [(str(full_bundle), "bundle", 228 + 218 + 1404 + 1556)]
    assert list(copy.records()) == list(source.records())
    assert snapshot(copy, data_only=True) == snapshot(source, data_only=True)
    status = copy.status()["sources"]
    assert status["kev"]["catalog_version"] == "2025.08.25"
    before = snapshot(copy, data_only=True)
    copy.import_paths([full_bundle])  # idempotent
    assert snapshot(copy, data_only=True) == before
    source.close()
    copy.close()


def test_manifest_is_readable_with_plain_xz(full_bundle: Path) -> None:
    manifest, payload = _split(full_bundle)
    assert manifest["format"] == "routerwatch-kb-bundle" and manifest["version"] == 1
    assert len(payload) == 228 + 218 + 1404 + 1556
    assert manifest["payload_bytes"] == sum(len(line) for line in payload)
    assert "NVD" in str(manifest["attribution"])


def test_bad_checksum_is_rejected_and_nothing_changes(full_bundle: Path, tmp_path: Path) -> None:
    manifest, payload = _split(full_bundle)
    index = next(i for i, line in enumerate(payload) if b"remote attackers" in line)
    payload[index] = payload[index].replace(b"remote attackers", b"local attackers", 1)
    bad = _join(tmp_path / "tampered.rwkb.xz", manifest, payload)
    kb = new_kb(tmp_path)
    kb.import_paths([KEV_FILE])
    before = snapshot(kb)
    with pytest.raises(KBError, match="checksum mismatch"):
        kb.import_paths([bad])
    assert snapshot(kb) == before
    kb.close()


def test_unknown_version_and_corrupt_data(full_bundle: Path, tmp_path: Path) -> None:
    manifest, payload = _split(full_bundle)
    manifest["version"] = 99
    future = _join(tmp_path / "future.rwkb.xz", manifest, payload)
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    result = runner.invoke(app, ["kb", "import", str(future), "--db", db])
    assert result.exit_code != 0
    assert "bundle format version 99 is not supported" in result.stderr
    data = bytearray(full_bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.rwkb.xz"
    corrupt.write_bytes(bytes(data))
    result = runner.invoke(app, ["kb", "import", str(corrupt), "--db", db])
    assert result.exit_code != 0 and "corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    truncated = tmp_path / "truncated.rwkb.xz"
    truncated.write_bytes(full_bundle.read_bytes()[: len(data) // 3])
    result = runner.invoke(app, ["kb", "import", str(truncated), "--db", db])
    assert result.exit_code != 0 and "truncated" in result.stderr
    status = runner.invoke(app, ["kb", "status", "--format", "json", "--db", db])
    assert json.loads(status.stdout)["empty"] is True


def test_cli_export_and_import(tmp_path: Path) -> None:
    runner = CliRunner()
    db_a, db_b = (f"sqlite:///{tmp_path / n}" for n in ("a.db", "b.db"))
    out = tmp_path / "out.rwkb.xz"
    assert runner.invoke(app, ["kb", "import", str(KEV_FILE), "--db", db_a]).exit_code == 0
    result = runner.invoke(app, ["kb", "export", str(out), "--db", db_a])
    assert result.exit_code == 0 and "1404 kev" in result.stdout
    again = runner.invoke(app, ["kb", "export", str(out), "--db", db_a])
    assert again.exit_code != 0 and "--force" in again.stderr
    result = runner.invoke(app, ["kb", "import", str(out), "--db", db_b])
    assert result.exit_code == 0, result.output
    status = json.loads(runner.invoke(app, ["kb", "status", "-f", "json", "--db", db_b]).stdout)
    assert status["sources"]["kev"]["records"] == 1404


def test_older_kev_catalog_never_replaces_a_newer_one(tmp_path: Path) -> None:
    catalog = json.loads(KEV_FILE.read_text())
    kb = new_kb(tmp_path)
    kb.import_paths([KEV_FILE])
    older = dict(catalog, catalogVersion="2025.01.01", dateReleased="2025-01-01T00:00:00.000Z",
                 vulnerabilities=catalog["vulnerabilities"][300:], count=1104)
    path = tmp_path / "old-kev.json"
    path.write_text(json.dumps(older))
    result = kb.import_paths([path])
    assert any("older than the stored" in note for note in result.notes)
    assert kb.status()["sources"]["kev"]["records"] == 1404
    newer = dict(older, catalogVersion="2025.09.01", dateReleased="2025-09-01T00:00:00.000Z")
    path.write_text(json.dumps(newer))
    kb.import_paths([path])  # a newer catalog replaces: removed entries go
    kev = kb.status()["sources"]["kev"]
    assert kev["records"] == 1104 and kev["catalog_version"] == "2025.09.01"
    kb.close()


def test_starter_bundle_is_shipped_dated_and_small() -> None:
    path = starter_bundle()
    assert path.name.startswith("starter-") and path.stat().st_size < 2 * 1024 * 1024
    datetime.strptime(path.name[len("starter-"):-len(".rwkb.xz")], "%Y-%m-%d")
    with lzma.open(path) as stream:
        manifest = json.loads(stream.readline())
    counts = manifest["counts"]
    assert counts["kev"] == 1404 and counts["epss"] == 1556  # whole KEV, EPSS of KEV CVEs
    assert counts["nvd"] >= 600 and counts["cve5"] >= 1600
    # The coverage file beside it (written by scripts/build_bundle.py) names this bundle and
    # says per vendor what it holds: every SOHO router vendor of the issue is covered.
    coverage = json.loads((path.parent / "starter-coverage.json").read_text())
    assert coverage["bundle"] == path.name
    for vendor in ("TP-Link", "NETGEAR", "ASUS", "D-Link", "Zyxel", "DrayTek", "Linksys",
                   "Cisco", "MikroTik", "Ubiquiti", "Tenda", "TOTOLINK", "AVM", "ZTE"):
        held = coverage["vendors"][vendor]
        assert held["nvd"] + held["cve5"] > 0, vendor


def test_ensure_starter_and_stale_warning(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    assert stale_warning(kb) is None  # empty: nothing to be stale
    assert kb.is_empty()
    assert ensure_starter(kb) is True
    assert ensure_starter(kb) is False
    assert not kb.is_empty()
    record = kb.get("CVE-2023-50224")
    assert record is not None and record.nvd_kev_date == "2025-09-03" and record.epss
    newest = datetime.fromisoformat(kb.status()["newest_data"])
    assert newest == datetime(2026, 7, 5, 1, 17, 34, 570000)
    # the oldest source drives the warning (issue 18): the starter's CVE 5 data (newest
    # 2024-10-24) is older than its NVD data, so even 29 days after the NVD date it is stale
    status = kb.status(now=newest + timedelta(days=29))
    assert status["oldest_source"] == "cve5" and status["stale"]
    text = stale_warning(kb, now=newest + timedelta(days=29))
    assert text is not None and "CVE 5 is the oldest source" in text and "kb sync" in text
    assert "NVD 2026-07-05" in text and "EPSS date unknown" in text
    kb.close()


def test_cli_starter_import_and_empty_status_hint(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    empty = runner.invoke(app, ["kb", "status", "--db", db])
    assert empty.exit_code == 0 and "kb import --starter" in empty.stdout
    data = json.loads(runner.invoke(app, ["kb", "status", "-f", "json", "--db", db]).stdout)
    assert data["empty"] and "kb import --starter" in data["hint"]
    result = runner.invoke(app, ["kb", "import", "--starter", "--db", db])
    assert result.exit_code == 0 and "1404 kev" in result.stdout and " nvd" in result.stdout
    assert "days old" in result.stderr  # every command warns about an old KB
    nothing = runner.invoke(app, ["kb", "import", "--db", db])
    assert nothing.exit_code != 0 and "--starter" in nothing.stderr


def test_kb_opened_twice_keeps_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    with KnowledgeBase(url) as kb:
        kb.import_paths([KEV_FILE])
    with KnowledgeBase(url) as kb:
        assert kb.status()["sources"]["kev"]["records"] == 1404
