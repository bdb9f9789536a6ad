"""`check --inventory`: CSV/JSON/YAML asset lists, extra columns kept, one report, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.inventory import READERS, InventoryError, read_inventory

CSV = """vendor,model,hardware,firmware,site,owner,address,cost centre
TP-Link,Archer AX21,3,1.1.2 Build 20220714 rel.46227,Berlin,IT,10.1.0.1,4711
ASUS,RT-AX55,,3.0.0.4.386_51598,Paris,Ops,,0815

Zzvendor,X1,,,Paris,Ops,10.2.0.9,0815
"""
ROWS = [
    {"device": "TP-Link Archer AX21 v3", "firmware": "1.1.2 Build 20220714 rel.46227",
     "site": "Berlin", "owner": "IT", "address": "10.1.0.1", "cost centre": 4711},
    {"vendor": "ASUS", "model": "RT-AX55", "firmware": "3.0.0.4.386_51598", "site": "Paris",
     "owner": "Ops", "cost centre": "0815"},
    {"vendor": "Zzvendor", "model": "X1", "site": "Paris", "owner": "Ops",
     "address": "10.2.0.9", "cost centre": "0815"},
]


def _write(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"assets.{fmt}"
    if fmt == "csv":
        path.write_text(CSV)
    elif fmt == "json":
        path.write_text(json.dumps({"devices": ROWS}))
    else:
        import yaml

        path.write_text(yaml.safe_dump(ROWS))
    return path


@pytest.mark.parametrize("fmt", list(READERS))
def test_every_reader_gives_the_same_devices(tmp_path: Path, fmt: str) -> None:
    rows = read_inventory(_write(tmp_path, fmt))
    assert [(r.identity.vendor, r.identity.model) for r in rows] == [
        ("TP-Link", "Archer AX21"), ("ASUS", "RT-AX55"), ("Zzvendor", "X1")
    ]
    assert rows[0].identity.hardware == "3" and rows[0].site == "Berlin"
    assert rows[0].key == "address:10.1.0.1" and rows[1].key.startswith("description:")
    assert dict(rows[0].extra) == {"owner": "IT", "cost centre": "4711"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "owner,site\nIT,Berlin\n", "a.csv row 2: no device"),
        ("a.csv", "vendor,model\nTP-Link,Archer C7,extra\n", "a.csv row 2: 3 values"),
        ("a.csv", "vendor,vendor\nx,y\n", "column 'vendor' appears twice"),
        ("a.json", "{", "a.json: not JSON"),
        ("a.json", '{"devices": 3}', "a.json: expected a list of devices"),
        ("a.json", '[{"vendor": "ASUS", "model": ["RT"]}]', "a.json row 1, column 'model'"),
        ("a.yaml", "- vendor: [", "a.yaml: not YAML"),
        ("a.xlsx", "", "unknown inventory format"),
        ("a.csv", "", "a.csv: empty file"),
        ("a.csv", "vendor,model\n", "a.csv: no devices"),
    ],
)
def test_bad_inventories_are_one_clear_error(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InventoryError, match=None) as caught:
        read_inventory(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_batch_check_one_report_that_reads_back(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    out = tmp_path / "assets.json"
    path = _write(tmp_path, "csv")
    r = CliRunner().invoke(app, ["check", "--inventory", str(path), "--db", db, "-f", "json",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["kind"] == "inventory" and data["scope"] == [str(path)]
    tplink, asus, unknown = data["hosts"]  # rows in file order
    assert "CVE-2023-1389" in {f["cve"] for f in tplink["findings"]}
    assert tplink["site"] == "Berlin" and tplink["address"] == "10.1.0.1"
    assert ["cost centre", "4711"] in tplink["extra"] and ["owner", "IT"] in tplink["extra"]
    assert "CVE-2023-39780" in {f["cve"] for f in asus["findings"]}
    assert unknown["findings"] == []
    assert "not covered by this knowledge base" in unknown["notes"][0]
    assert "Zzvendor" in unknown["notes"][0]
    assert any("1 of 3 rows could not be matched" in w for w in data["warnings"])
    again = CliRunner().invoke(app, ["report", str(out), "-f", "csv"])
    assert again.exit_code == 0 and "CVE-2023-1389" in again.stdout


def test_cli_inventory_errors(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["check", "--inventory", str(tmp_path / "none.csv")])
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = CliRunner().invoke(app, ["check", "TP-Link Archer C7", "--inventory", "x.csv"])
    assert r.exit_code == 2 and "give no device on the command line" in r.stderr


def test_today_is_an_explicit_input(tmp_path: Path) -> None:
    """The same check on another date: the report says which date it was assessed for."""
    db = f"sqlite:///{tmp_path / 'kb.db'}"
    args = ["check", "--vendor", "Zzvendor", "--model", "X1", "--db", db, "-f", "json"]
    r = CliRunner().invoke(app, [*args, "--today", "2031-02-03"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["today"] == "2031-02-03"
    r = CliRunner().invoke(app, [*args, "--today", "someday"])
    assert r.exit_code == 2 and "--today: not a date" in r.stderr
