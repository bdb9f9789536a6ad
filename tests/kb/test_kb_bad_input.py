"""Bad input through the CLI: one clear error line, non-zero exit, KB status unchanged."""

from __future__ import annotations

import gzip
import json
import lzma
from collections.abc import Callable
from pathlib import Path

import pytest
from kb_testlib import FIX, KEV_FILE, find_cve, page_of, snapshot
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.kb import KnowledgeBase

TPLINK = FIX / "nvd" / "tp-link.json"


def _status(db: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["kb", "status", "--format", "json", "--db", db])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    data.pop("generated")
    return data


def _truncated(p: Path) -> Path:
    p.write_text(TPLINK.read_text()[:3000])
    return p


def _truncated_gzip(p: Path) -> Path:
    data = gzip.compress(TPLINK.read_bytes())
    p.write_bytes(data[: len(data) // 2])
    return p


def _missing_last_modified(p: Path) -> Path:
    page = json.loads(TPLINK.read_text())
    del page["vulnerabilities"][2]["cve"]["lastModified"]
    p.write_text(json.dumps(page))
    return p


def _kev_without_date(p: Path) -> Path:
    kev = json.loads(KEV_FILE.read_text())
    del kev["vulnerabilities"][5]["dateAdded"]
    p.write_text(json.dumps(kev))
    return p


def _vulns_not_a_list(p: Path) -> Path:
    p.write_text(json.dumps({"format": "NVD_CVE", "vulnerabilities": {"cve": 1}}))
    return p


def _unknown_json(p: Path) -> Path:
    p.write_text(json.dumps({"hello": "world"}))
    return p


def _bad_id(p: Path) -> Path:
    cve = find_cve("CVE-2012-2440")
    cve["id"] = "CVE-12-x"
    p.write_text(json.dumps(page_of([cve])))
    return p


def _utf16(p: Path) -> Path:
    p.write_bytes(TPLINK.read_text().encode("utf-16"))
    return p


def _latin1(p: Path) -> Path:
    # the Spanish descriptions have accents: as latin-1 they are invalid UTF-8
    text = json.dumps(json.loads(TPLINK.read_text()), ensure_ascii=False)
    p.write_bytes(text.encode("latin-1", errors="replace"))
    return p


def _garbage(p: Path) -> Path:
    p.write_bytes(b"{" + bytes(range(128, 256)) * 50)
    return p


def _sparse_1gb(p: Path) -> Path:
    with p.open("wb") as f:
        f.truncate(1 << 30)  # sparse: no disk space used, refused before reading
    return p


def _gzip_bomb(p: Path) -> Path:
    member = gzip.compress(b"\0" * (1 << 20))
    p.write_bytes(member * 300)  # 300 KiB on disk, 300 MiB inflated
    return p


def _xz_bomb(p: Path) -> Path:
    p.write_bytes(lzma.compress(b" " * (1 << 20)) * 300)  # 90 KiB on disk, 300 MiB inflated
    return p


# bombs are checked against a 16 MiB limit (the default 256 MiB one is the same code path;
# the 1 GB sparse file checks the default): decompression stops at the limit, never at 300 MiB
LIMITED = {"gzip-bomb", "xz-bomb"}


def _empty(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def _blank(p: Path) -> Path:
    p.write_text("  \n\n ")
    return p


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated": (_truncated, "invalid JSON at line"),
    "truncated-gzip": (_truncated_gzip, "corrupt or truncated"),
    "no-lastModified": (_missing_last_modified, "record 3 (CVE-"),
    "kev-no-dateAdded": (_kev_without_date, "record 6 (CVE-"),
    "vulns-not-list": (_vulns_not_a_list, "'vulnerabilities' is not a list"),
    "unknown-json": (_unknown_json, "unrecognised content"),
    "bad-cve-id": (_bad_id, "bad or missing CVE id"),
    "utf16": (_utf16, "UTF-16"),
    "latin1": (_latin1, "not UTF-8"),
    "garbage": (_garbage, "not UTF-8"),
    "1gb": (_sparse_1gb, "larger than the 256.0 MiB limit"),
    "gzip-bomb": (_gzip_bomb, "more than the 16.0 MiB limit"),
    "xz-bomb": (_xz_bomb, "more than the 16.0 MiB limit"),
    "empty": (_empty, "empty file"),
    "blank": (_blank, "empty file"),
}


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("kbbad") / "kb.db"
    kb = KnowledgeBase(f"sqlite:///{path}")
    kb.import_paths([FIX / "nvd" / "asus.json", KEV_FILE])
    kb.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_one_line_nonzero_and_status_unchanged(
    case: str, seeded_db: str, tmp_path: Path
) -> None:
    make, expected = CASES[case]
    bad = make(tmp_path / f"bad-{case}.json")
    before = _status(seeded_db)
    kb = KnowledgeBase(seeded_db)
    digest = snapshot(kb)
    extra = ["--max-size", "16M"] if case in LIMITED else []
    result = CliRunner().invoke(app, ["kb", "import", str(bad), "--db", seeded_db, *extra])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(bad) in lines[0], lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert _status(seeded_db) == before
    assert snapshot(kb) == digest
    kb.close()


def test_bad_file_among_good_ones_imports_nothing(seeded_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-netgear.json").write_bytes((FIX / "nvd" / "netgear.json").read_bytes())
    _truncated(folder / "b-truncated.json")
    before = _status(seeded_db)
    result = CliRunner().invoke(app, ["kb", "import", str(folder), "--db", seeded_db])
    assert result.exit_code != 0 and "b-truncated.json" in result.stderr
    assert _status(seeded_db) == before


def test_max_size_override_and_bad_values(seeded_db: str, tmp_path: Path) -> None:
    small = _gzip_bomb(tmp_path / "bomb.gz")
    runner = CliRunner()
    result = runner.invoke(app, ["kb", "import", str(small), "--max-size", "1M", "--db", seeded_db])
    assert result.exit_code != 0 and "more than the 1.0 MiB limit" in result.stderr
    netgear = FIX / "nvd" / "netgear.json"
    result = runner.invoke(app, ["kb", "import", str(netgear), "--max-size", "100K",
                                 "--db", seeded_db])
    assert result.exit_code != 0 and "larger than the 100.0 KiB limit" in result.stderr
    result = runner.invoke(app, ["kb", "import", str(netgear), "--max-size", "lots",
                                 "--db", seeded_db])
    assert result.exit_code != 0 and "--max-size" in result.stderr
    result = runner.invoke(app, ["kb", "import", str(tmp_path / "nope.json"), "--db", seeded_db])
    assert result.exit_code != 0 and "no such file or folder" in result.stderr


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    for url in ("mysql://x@127.0.0.1/db", "not a url at all"):
        result = CliRunner().invoke(app, ["kb", "status", "--db", url])
        assert result.exit_code != 0
        assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr
