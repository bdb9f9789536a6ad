"""`audit-config`: the sample exports, the CLI, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from routerwatch.checks import ConfigAuditError, audit_config
from routerwatch.checks.config_audit import audit_text, port_forwards, run_audit
from routerwatch.checks.config_parse import parse_text
from routerwatch.cli.main import app

runner = CliRunner()


@pytest.fixture
def configs(fixtures: Path) -> Path:
    return fixtures / "configs"


def _rules(indicators: object) -> dict[str, str]:
    return {i.rule: i.certainty for i in indicators}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- sample exports


def test_asus_export_with_ayysshush_signs(configs: Path) -> None:
    found = audit_config(
        configs / "asus-rt-ax55-ayysshush.txt",
        isp_dns=["198.51.100.53", "198.51.100.54"],
        known_keys=(configs / "owner-keys.pub").read_text().splitlines(),
    )
    rules = _rules(found)
    assert rules == {
        "ayysshush-config-backdoor": "high",
        "config-wan-admin": "high",
        "config-upnp-enabled": "high",
    }
    backdoor = next(i for i in found if i.rule == "ayysshush-config-backdoor")
    assert backdoor.campaign == "AyySSHush" and backdoor.kind == "compromise"
    assert any("GreyNoise" in r for r in backdoor.references)
    assert any(e.source == "config:sshd_authkeys" for e in backdoor.evidence)


def test_isp_dns_not_given_is_low_certainty(configs: Path) -> None:
    rules = _rules(audit_config(configs / "asus-rt-ax55-ayysshush.txt"))
    assert rules["ghostdns-dns-unknown"] == "low"


def test_clean_asus_export_has_nothing(configs: Path) -> None:
    keys = (configs / "owner-keys.pub").read_text().splitlines()
    result = run_audit(configs / "asus-rt-ac68u-clean.txt", known_keys=keys)
    assert result.indicators == ()
    assert result.format == "text" and result.settings > 20
    # without the owner's key list the owner's key is unknown (low certainty)
    assert _rules(audit_config(configs / "asus-rt-ac68u-clean.txt")) == {
        "config-ssh-unknown-key": "low"
    }


def test_tplink_xml_export(configs: Path) -> None:
    result = run_audit(configs / "tplink-archer-c7-config.xml")
    assert result.format == "xml"
    rules = _rules(result.indicators)
    assert rules == {
        "ghostdns-dns-unknown": "medium",
        "config-wan-admin": "high",
        "config-upnp-enabled": "high",
        "config-port-forward-odd": "medium",
    }
    dns = next(i for i in result.indicators if i.rule == "ghostdns-dns-unknown")
    assert {e.value.split()[0] for e in dns.evidence} == {"203.0.113.66", "198.51.100.99"}
    # the user's allow-list clears it
    assert "ghostdns-dns-unknown" not in _rules(
        audit_config(
            configs / "tplink-archer-c7-config.xml", dns_allow=["203.0.113.66", "198.51.100.0/24"]
        )
    )


def test_json_export(configs: Path) -> None:
    result = run_audit(configs / "router-export.json")
    assert result.format == "json"
    assert _rules(result.indicators) == {
        "config-wan-admin": "high",
        "config-telnet-enabled": "high",
        "config-port-forward-service": "high",
    }
    svc = next(i for i in result.indicators if i.rule == "config-port-forward-service")
    assert (
        len(svc.evidence) == 1 and "RDP" in svc.evidence[0].value
    )  # the disabled telnet one is not


def test_mikrotik_export(configs: Path) -> None:
    result = run_audit(configs / "mikrotik-export.rsc")
    assert _rules(result.indicators) == {"ghostdns-dns-unknown": "medium"}


def test_port_forward_formats() -> None:
    cfg = parse_text(
        "vts_rulelist=<a>8080>192.168.1.2>80>TCP><b>1000:2000>192.168.1.3>>BOTH>\n"
        "forward_spec=web:on:tcp:8443>192.168.1.4:443 old:off:tcp:23>192.168.1.5:23\n",
        "t",
    )
    got = [(f.external, f.internal, f.destination) for f in port_forwards(cfg)]
    assert got == [
        ((8080, 8080), (80, 80), "192.168.1.2"),
        ((1000, 2000), (1000, 2000), "192.168.1.3"),
        ((8443, 8443), (443, 443), "192.168.1.4"),
    ]


def test_bad_allow_list_entry_is_an_error(configs: Path) -> None:
    with pytest.raises(ConfigAuditError, match="not an IP address"):
        audit_config(configs / "asus-rt-ac68u-clean.txt", dns_allow=["dns.example"])


def test_indicators_name_campaign_evidence_certainty_references() -> None:
    result = audit_text("wan_dns1_x=203.0.113.53\nsshd_port=53282\n")
    for ind in result.indicators:
        assert ind.kind == "compromise"
        assert ind.campaign and ind.evidence and ind.references
        assert ind.certainty in ("high", "medium", "low")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_gives_indicators_or_one_clear_error(text: str) -> None:
    try:
        result = audit_text(text, name="fuzz.txt")
    except ConfigAuditError as e:
        assert str(e).startswith("fuzz.txt: ") and "\n" not in str(e)
    else:
        assert result.settings >= 0


# --------------------------------------------------------------------------- CLI


def test_cli_table(configs: Path) -> None:
    r = runner.invoke(
        app,
        [
            "audit-config",
            str(configs / "asus-rt-ax55-ayysshush.txt"),
            "--isp-dns",
            "198.51.100.53,198.51.100.54",
            "--known-key",
            str(configs / "owner-keys.pub"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "ayysshush-config-backdoor" in r.stdout
    assert "AyySSHush" in r.stdout and "compromised" in r.stdout


def test_cli_json(configs: Path) -> None:
    r = runner.invoke(
        app,
        [
            "audit-config",
            str(configs / "tplink-archer-c7-config.xml"),
            "--format",
            "json",
            "--dns-allow",
            "203.0.113.66,198.51.100.99",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["routerwatch"]["document"] == "report" and data["kind"] == "audit-config"
    (host,) = data["hosts"]
    assert "tplink-archer-c7-config.xml: xml, " in host["notes"][0]
    assert {i["rule"] for i in host["indicators"]} == {
        "config-wan-admin",
        "config-upnp-enabled",
        "config-port-forward-odd",
    }


def test_cli_clean(configs: Path) -> None:
    r = runner.invoke(
        app,
        [
            "audit-config",
            str(configs / "asus-rt-ac68u-clean.txt"),
            "--known-key",
            str(configs / "owner-keys.pub"),
        ],
    )
    assert r.exit_code == 0
    assert "(text, 27 settings): no indicators" in r.stdout


def _one_error_line(args: list[str], *needles: str) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: ")
    assert "Traceback" not in r.output
    for n in needles:
        assert n in line, line
    return line


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    good_xml = (
        Path(__file__).parents[1] / "fixtures/configs/tplink-archer-c7-config.xml"
    ).read_bytes()
    good_json = (Path(__file__).parents[1] / "fixtures/configs/router-export.json").read_bytes()
    cases: dict[str, tuple[bytes, str]] = {
        "binary": (bytes(range(256)) * 8, "binary data"),
        "truncated-xml": (good_xml[: len(good_xml) // 2], "truncated or malformed XML"),
        "truncated-json": (good_json[: len(good_json) // 2], "truncated or malformed JSON"),
        "unknown-format": (b"Dear admin,\nplease find attached the backup.\n", "unknown format"),
        "utf16-garbage": (b"\xff\xfe" + bytes([0x00, 0xD8, 0x41, 0x00] * 50), "not valid UTF-16"),
        "utf16-no-bom": ("wan_dns1_x=1.1.1.1\n".encode("utf-16-le"), "binary data"),
        "latin1": ("ssid=Café\n".encode("latin-1"), "not UTF-8"),
        "gzip": (b"\x1f\x8b\x08\x00" + bytes(40), "gzip"),
        "empty": (b"   \n", "empty"),
        "xml-bomb": (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><l>&b;</l>',
            "XML refused",
        ),
        "deep-json": (b"[" * 5000 + b"]" * 5000, "nested"),
        "control-chars": (b"a=1\n" + b"\x01\x02\x03\x04" * 50, "binary data"),
    }
    out = {}
    for name, (data, needle) in cases.items():
        p = tmp / f"{name}.cfg"
        p.write_bytes(data)
        out[name] = (p, needle)
    return out


@pytest.mark.parametrize(
    "case",
    [
        "binary",
        "truncated-xml",
        "truncated-json",
        "unknown-format",
        "utf16-garbage",
        "utf16-no-bom",
        "latin1",
        "gzip",
        "empty",
        "xml-bomb",
        "deep-json",
        "control-chars",
    ],
)
def test_cli_bad_input_is_one_clear_error_line(tmp_path: Path, case: str) -> None:
    path, needle = _bad_inputs(tmp_path)[case]
    _one_error_line(["audit-config", str(path)], str(path), needle)


def test_cli_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:  # 20 MB, sparse: the size alone must stop it
        f.truncate(20 * 10**6)
    line = _one_error_line(["audit-config", str(huge)], str(huge), "over the 16.0 MiB limit")
    assert "19.1 MiB" in line


def test_size_limit_is_a_parameter(tmp_path: Path) -> None:
    p = tmp_path / "small.txt"
    p.write_text("a=1\n" * 100)
    with pytest.raises(ConfigAuditError, match="over the 100 bytes limit"):
        audit_config(p, max_bytes=100)


def test_cli_missing_file_and_directory(tmp_path: Path) -> None:
    _one_error_line(["audit-config", str(tmp_path / "nope.txt")], "no such file")
    _one_error_line(["audit-config", str(tmp_path)], "is a directory")


def test_cli_file_name_with_brackets_survives(tmp_path: Path) -> None:
    p = tmp_path / "[backup].txt"
    p.write_text("just prose\n")
    _one_error_line(["audit-config", str(p)], "[backup].txt", "unknown format")


def test_cli_bad_known_key_file(tmp_path: Path, configs: Path) -> None:
    cfg = str(configs / "asus-rt-ac68u-clean.txt")
    nokeys = tmp_path / "keys.txt"
    nokeys.write_text("not a key\n")
    _one_error_line(["audit-config", cfg, "--known-key", str(nokeys)], "no SSH public keys")
    _one_error_line(["audit-config", cfg, "--known-key", str(tmp_path / "x")], "no such file")


def test_cli_bad_dns_allow(configs: Path) -> None:
    _one_error_line(
        [
            "audit-config",
            str(configs / "asus-rt-ac68u-clean.txt"),
            "--dns-allow",
            "1.1.1.1,resolver.example",
        ],
        "resolver.example",
    )
