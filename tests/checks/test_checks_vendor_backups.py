"""Config audits of vendor backup formats (routerwatch.checks.config_exports): AVM FRITZ!Box
``.export``, Tomato ``nvram export --set`` and ``.cfg`` (gzip TCF1 and ARM HDR2), TP-Link
``config.bin`` (DES-ECB, published key). The binary backups are built here from the text
fixtures exactly as the documented layouts say (see the module docstring), so the same
settings must come out of every wrapping."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from typer.testing import CliRunner

from routerwatch.checks.config_audit import audit_config, port_forwards
from routerwatch.checks.config_exports import TPLINK_DES_KEY
from routerwatch.checks.config_parse import ConfigAuditError, read_config
from routerwatch.cli.main import app

CONFIGS = Path(__file__).parents[1] / "fixtures/configs"
TOMATO = CONFIGS / "tomato-nvram-export.txt"
TOMATO_RULES = {"ghostdns-dns-unknown", "config-wan-admin", "config-telnet-enabled",
                "config-port-forward-odd", "config-port-forward-service"}


def _rules(path: Path) -> set[str]:
    return {i.rule for i in audit_config(path)}


def _tomato_pairs() -> list[tuple[str, str]]:
    cfg = read_config(TOMATO)
    return [(s.key, s.value) for s in cfg.settings]


# --------------------------------------------------------------------------- FRITZ!Box


def test_fritzbox_export() -> None:
    path = CONFIGS / "fritzbox-7590.export"
    cfg = read_config(path)
    values = {s.key: s.value for s in cfg.settings}
    assert values["export.FirmwareVersion"] == "154.07.57"
    assert values["ar7cfg.dns1"] == "203.0.113.66"
    assert values["ar7cfg.brinterfaces.ipaddr"] == "192.168.178.1"
    lan = next(r for r in cfg.records if r.path == "ar7cfg.brinterfaces")
    assert lan.fields["name"] == "lan" and lan.fields["netmask"] == "255.255.255.0"
    fwd = {(f.external, f.destination) for f in port_forwards(cfg)}
    assert fwd == {((443, 443), "192.168.178.20"), ((7777, 7777), "192.168.178.30"),
                   ((51820, 51820), "192.168.178.40")}
    assert _rules(path) == {"ghostdns-dns-unknown", "config-port-forward-odd",
                            "config-port-forward-service"}
    # the forward of 443 to the NAS's SSH port is the service finding; WireGuard is quiet
    service = next(i for i in audit_config(path) if i.rule == "config-port-forward-service")
    assert "ssh-nas" in service.evidence[0].value and "51820" not in service.evidence[0].value


def test_fritzbox_export_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.export"
    bad.write_text("**** FRITZ!Box 7490 CONFIGURATION EXPORT\nFirmwareVersion=113.07.29\n"
                   "**** CFGFILE:ar7.cfg\nar7cfg {\n dns1 = 1.1.1.1;\n")
    with pytest.raises(ConfigAuditError, match=r"bad.export: ar7.cfg: the file ends inside"):
        read_config(bad)


@pytest.mark.parametrize("name", ["ar7json-real01.ar7", "ar7json-real02.ar7"])
def test_real_ar7_cfg_files(name: str) -> None:
    # real-world ar7.cfg excerpts from pfichtner/ar7json (MIT), bare (as Freetz extracts them)
    cfg = read_config(CONFIGS / name)
    values = {s.key: s.value for s in cfg.settings}
    assert values["meta.encoding"] == "utf-8"
    assert values["ar7cfg.mode"] == "dsldmode_router"
    assert values["ar7cfg.serialcfg.number"] == "*99#"
    assert values["ar7cfg.serialcfg.backup.enabled"] == "no"
    assert "ar7cfg.serialcfg.backup" in {r.path for r in cfg.records}
    assert not any("//" in s.key or "Configuration" in s.key for s in cfg.settings)
    assert audit_config(CONFIGS / name) == []  # nothing to report in these


def test_avm_lists_of_blocks_and_empty_values() -> None:
    from routerwatch.checks.config_parse import parse_text

    cfg = parse_text("ar7cfg {\n  items = {\n    a = 1;\n  }, {\n    b = 2;\n  };\n"
                     "  empty =;\n  dns1 = 203.0.113.9; // a comment ; = {\n}\n", "t.cfg")
    values = [(s.key, s.value) for s in cfg.settings]
    assert ("ar7cfg.items.a", "1") in values and ("ar7cfg.items.b", "2") in values
    assert ("ar7cfg.dns1", "203.0.113.9") in values
    assert [r.path for r in cfg.records].count("ar7cfg.items") == 2


# --------------------------------------------------------------------------- Tomato


def test_tomato_nvram_export_text() -> None:
    assert _rules(TOMATO) == TOMATO_RULES
    values = dict(_tomato_pairs())
    assert values["script_init"] == "echo start\nlogger tomato up"  # a quoted multi-line value
    fwd = port_forwards(read_config(TOMATO))
    assert {f.external for f in fwd} == {(2323, 2323), (11288, 11288)}  # 8080 rule is off


def _tcf1(pairs: list[tuple[str, str]]) -> bytes:
    body = b"\0".join(f"{k}={v}".encode() for k, v in pairs)
    return gzip.compress(b"TCF1\x0c\0\0\0" + body + b"\0\0")


def _hdr2(pairs: list[tuple[str, str]], rand: int = 17) -> bytes:
    plain = b"".join(f"{k}={v}".encode() + b"\0" for k, v in pairs)
    length = len(plain) + (1024 - len(plain) % 1024)
    enc = bytes(0xFD + i % 3 if b == 0 else (0xFF - b + rand) & 0xFF
                for i, b in enumerate(plain))
    return b"HDR2" + length.to_bytes(3, "big") + bytes([rand]) + enc + bytes(
        [0xFE] * (length - len(plain)))


@pytest.mark.parametrize("build", [_tcf1, _hdr2], ids=["tcf1-gzip", "hdr2-arm"])
def test_tomato_cfg_backups(tmp_path: Path, build: object) -> None:
    assert callable(build)
    path = tmp_path / "tomato_v128.cfg"
    path.write_bytes(build(_tomato_pairs()))
    assert dict((s.key, s.value) for s in read_config(path).settings) == dict(_tomato_pairs())
    assert _rules(path) == TOMATO_RULES


def test_truncated_hdr2_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.cfg"
    path.write_bytes(_hdr2(_tomato_pairs())[:200])
    with pytest.raises(ConfigAuditError, match="HDR2 nvram backup is truncated"):
        read_config(path)


# --------------------------------------------------------------------------- TP-Link


def _tplink_bin(payload: bytes, *, compress: bool = False, good_md5: bool = True) -> bytes:
    digest = hashlib.md5(payload, usedforsecurity=False).digest()
    if not good_md5:
        digest = bytes(16)
    plain = digest + payload
    if compress:
        plain = zlib.compress(plain)
    plain += bytes(-len(plain) % 8)
    enc = Cipher(TripleDES(TPLINK_DES_KEY * 3), modes.ECB()).encryptor()
    return enc.update(plain) + enc.finalize()


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "zlib"])
def test_tplink_config_bin_xml(tmp_path: Path, compress: bool) -> None:
    xml = (CONFIGS / "tplink-archer-c7-config.xml").read_bytes()
    path = tmp_path / "config.bin"
    path.write_bytes(_tplink_bin(xml, compress=compress))
    assert read_config(path).format == "xml"
    assert _rules(path) == _rules(CONFIGS / "tplink-archer-c7-config.xml")


def test_tplink_config_bin_text_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.bin"
    path.write_bytes(_tplink_bin(b"lan_ip 192.168.0.1\r\nwan_dns1 203.0.113.66\r\n"))
    values = {s.key: s.value for s in read_config(path).settings}
    assert values == {"lan_ip": "192.168.0.1", "wan_dns1": "203.0.113.66"}


def test_tplink_bad_md5_and_lz_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "config.bin"
    path.write_bytes(_tplink_bin(b"lan_ip 192.168.0.1\r\n", good_md5=False))
    with pytest.raises(ConfigAuditError, match=r"not a TP-Link config\.bin either"):
        read_config(path)
    path.write_bytes(_tplink_bin(bytes(range(1, 200)) * 3))  # valid MD5, unknown compression
    with pytest.raises(ConfigAuditError, match="TP-Link's own LZ scheme"):
        read_config(path)


def test_cli_audits_a_config_bin(tmp_path: Path) -> None:
    path = tmp_path / "config.bin"
    path.write_bytes(_tplink_bin((CONFIGS / "tplink-archer-c7-config.xml").read_bytes()))
    result = CliRunner().invoke(app, ["audit-config", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    assert "config-wan-admin" in result.stdout
    bad = tmp_path / "junk.bin"
    bad.write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(app, ["audit-config", str(bad)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
