"""`routerwatch creds add` + `routerwatch scan --creds` against the credentialed lab
(127.54.4.x), end to end: firmware known for >= 4 in 5 devices, credentialed evidence and
config checks in the report, and no secret anywhere the user or a log could see it."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.identity.credentialed import same
from routerwatch.lab.credlab import CredLab

BASE = "127.54.4.0"


@pytest.fixture(scope="module")
def lab() -> Iterator[CredLab]:
    with CredLab(base=BASE) as running:
        yield running


def test_scan_with_stored_credentials_end_to_end(
    lab: CredLab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    home = Path(os.environ["ROUTERWATCH_HOME"])
    env = {"ROUTERWATCH_CREDS_BACKEND": "file", "ROUTERWATCH_CREDS_PASSPHRASE": "e2e-pass"}
    runner = CliRunner()
    outputs: list[str] = []
    secrets: list[str] = []
    devices = lab.devices()
    for d in devices:
        for i, c in enumerate(d.credentials()):
            args = ["creds", "add", f"{d.profile_id}-{i}", "--kind", c["kind"], "--device",
                    d.address, "--user", c["user"], "--stdin"]  # fmt: skip
            if c["kind"] == "snmpv3":
                args += ["--priv-protocol", c["priv_protocol"]]
                stdin = f"{c['auth_key']}\n{c['priv_key']}\n"
                secrets += [c["auth_key"], c["priv_key"]]
            else:
                stdin = f"{c['password']}\n"
                secrets.append(c["password"])
            r = runner.invoke(app, args, input=stdin, env=env)
            outputs.append(r.output)
            assert r.exit_code == 0, r.output
    report_path = tmp_path / "scan.json"
    target = f"{BASE[:-1]}1-{len(devices)}"
    known = tmp_path / "authorized_keys"
    known.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnerKeyForTestsOnlyLabOpenWrt o@l\n")
    owner = ["--known-key", str(known), "--isp-dns", "198.51.100.1,198.51.100.2"]
    r = runner.invoke(app, ["scan", target, *owner, "-q", "-f", "json", "-o", str(report_path)],
                      env=env)  # fmt: skip
    outputs.append(r.output)
    assert r.exit_code in (0, 1), r.output  # 1: findings
    r = runner.invoke(app, ["scan", target, "-q", "--creds"], env=env)  # the table too
    outputs.append(r.output)
    assert r.exit_code in (0, 1), r.output
    with_services = sum(bool(d.services) for d in devices)
    assert f"credentialed reads: {with_services} device(s) read, 0 with a failed read" in " ".join(
        r.output.split())
    report = json.loads(report_path.read_text())
    hosts = {h["address"]: h for h in report["hosts"]}
    right = 0
    for d in devices:
        ident = hosts[d.address]["identity"]
        assert d.identity is not None
        if ident["firmware"] and same("firmware", ident["firmware"], d.identity.firmware or ""):
            right += 1
        if d.services:
            sources = [e["source"] for e in ident["evidence"]]
            assert any(s.startswith("read over ") for s in sources), d.profile_id
    assert right * 5 >= 4 * len(devices), f"firmware right for {right}/{len(devices)}"
    ax55 = next(hosts[d.address] for d in devices if d.profile_id.startswith("asus-rt-ax55"))
    assert ax55["identity"]["evidence"][0]["source"] == "read over SSH as admin"
    # the AyySSHush key read over SSH goes through the audit-config rule
    assert "ayysshush-config-backdoor" in {i["rule"] for i in ax55["indicators"]}
    # the OpenWrt WAN DNS read over SSH (UCI file) goes through the GhostDNS rule; the owner's
    # own key and the ISP's resolvers (given as in audit-config) are not reported
    openwrt = next(hosts[d.address] for d in devices if d.profile_id.startswith("openwrt"))
    rules = {i["rule"]: i["certainty"] for i in openwrt["indicators"]}
    assert rules.get("ghostdns-dns-unknown") == "medium"
    assert "config-ssh-unknown-key" not in rules
    mikrotik = next(hosts[d.address] for d in devices if d.profile_id.startswith("mikrotik"))
    assert "ghostdns-dns-unknown" not in {i["rule"] for i in mikrotik["indicators"]}
    no_creds = [hosts[d.address] for d in devices if not d.services]
    assert all(not any(e["source"].startswith("read over ") for e in h["identity"]["evidence"])
               for h in no_creds)  # fmt: skip
    # no secret in stdout/stderr, the report, log records, or any file of the data dir
    # (the encrypted store holds them only as ciphertext)
    seen = "\n".join(outputs) + report_path.read_text() + caplog.text
    for f in home.rglob("*"):
        if f.is_file() and f.stat().st_size < 50 * 2**20:
            seen += f.read_bytes().decode("utf-8", "replace")
    leaked = [s for s in secrets if s in seen]
    assert len(secrets) >= 10 and leaked == []


def test_scan_creds_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ROUTERWATCH_CREDS_BACKEND": "file", "ROUTERWATCH_CREDS_PASSPHRASE": "p"}
    r = runner.invoke(app, ["scan", "127.54.4.250", "--creds"], env=env)
    assert r.exit_code == 2 and "--creds: no credentials stored" in r.output
    r = runner.invoke(app, ["scan", "127.54.4.250", "--creds", "--creds-timeout", "0"], env=env)
    assert r.exit_code == 2 and "--creds-timeout must be positive" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["scan", "127.54.4.250", "--isp-dns", "dns.example"], env=env)
    assert r.exit_code == 2 and "--isp-dns: 'dns.example' is not an IP address" in r.output
