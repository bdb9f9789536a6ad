"""The credential store: encrypted at rest, never shown, bound to one device or site."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routerwatch.cli.main import app
from routerwatch.creds import Binding, Credential, CredentialError, CredentialStore, pick
from routerwatch.creds.store import FileBackend, open_backend

SECRET = "s3cret-Pa55phrase-xyz"


def _cred(name: str = "r1", **kw: object) -> Credential:
    base: dict[str, object] = {
        "name": name, "kind": "ssh", "binding": Binding(device="192.0.2.10"), "user": "root",
        "password": SECRET,
    }  # fmt: skip
    base.update(kw)
    return Credential(**base)  # type: ignore[arg-type]


def _store(path: Path, passphrase: str = "pw-one") -> CredentialStore:
    return CredentialStore(FileBackend(path / "credentials.enc", lambda: passphrase))


def test_file_store_round_trip_encrypted_0600_atomic(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add(_cred())
    store.add(_cred("snmp", kind="snmpv3", password=None, auth_key="auth-key-123",
                    priv_key="priv-key-456"))  # fmt: skip
    path = tmp_path / "credentials.enc"
    raw = path.read_bytes()
    for secret in (SECRET, "auth-key-123", "priv-key-456", "root"):
        assert secret.encode() not in raw
    env = json.loads(raw)
    assert env["kdf"] == "scrypt" and env["cipher"] == "AES-256-GCM"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.enc"]  # no temp file left
    loaded = _store(tmp_path).load()
    assert [c.name for c in loaded] == ["r1", "snmp"]
    assert loaded[0].password == SECRET and loaded[1].priv_key == "priv-key-456"
    # a fresh salt and nonce on every write
    store.add(_cred("r2"))
    assert json.loads(path.read_bytes())["salt"] != env["salt"]


def test_wrong_passphrase_and_altered_file_are_one_clear_error(tmp_path: Path) -> None:
    _store(tmp_path).add(_cred())
    with pytest.raises(CredentialError, match="wrong passphrase"):
        _store(tmp_path, "pw-two").load()
    path = tmp_path / "credentials.enc"
    env = json.loads(path.read_text())
    env["ciphertext"] = env["ciphertext"][:-8] + "AAAAAAA="
    path.write_text(json.dumps(env))
    with pytest.raises(CredentialError, match="wrong passphrase \\(or the file was altered\\)"):
        _store(tmp_path).load()
    path.write_text("not json")
    with pytest.raises(CredentialError, match="not a routerwatch credential file"):
        _store(tmp_path).load()


def test_secrets_never_in_repr_or_public_view() -> None:
    c = _cred(key="-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----")
    text = repr(c) + json.dumps(c.public())
    assert SECRET not in text and "PRIVATE KEY" not in text
    assert c.public()["secrets"] == ["password", "key"]


def test_auto_backend_falls_back_to_the_file_without_a_real_keyring(tmp_path: Path) -> None:
    # this machine has keyring's "fail" backend only (headless): auto must pick the file
    backend = open_backend(tmp_path, backend="auto", passphrase=lambda: "x")
    assert backend.name == "file"
    with pytest.raises(CredentialError, match="no usable OS keyring"):
        open_backend(tmp_path, backend="keyring")
    with pytest.raises(CredentialError, match="use auto, keyring or file"):
        open_backend(tmp_path, backend="vault")


def test_validation_names_the_problem() -> None:
    with pytest.raises(CredentialError, match=r"Linksys web API .* not supported yet"):
        _cred(kind="http-linksys")
    with pytest.raises(CredentialError, match="http-tplink needs a password"):
        _cred(kind="http-tplink", password=None)
    with pytest.raises(CredentialError, match="exactly one --device or --site"):
        Binding()
    with pytest.raises(CredentialError, match="not an IP address or device key"):
        Binding(device="router.local")
    with pytest.raises(CredentialError, match="not a network"):
        Binding(site="10.0.0.0/33")
    with pytest.raises(CredentialError, match="SSH needs a password or a private key"):
        _cred(password=None)
    with pytest.raises(CredentialError, match="privacy passphrase"):
        _cred(kind="snmpv3", password=None, auth_key="authauth", priv_key=None)


def test_pick_binds_credentials_to_their_device_only() -> None:
    dev = _cred("dev", binding=Binding(device="192.0.2.10"))
    key = _cred("key", kind="routeros", binding=Binding(device="mac:00:11:22:33:44:55"))
    site = _cred("site", binding=Binding(site="192.0.2.0/24"))
    other = _cred("other", kind="tr064", binding=Binding(device="192.0.2.11"))
    creds = [site, dev, key, other]
    assert [c.name for c in pick(creds, "192.0.2.10")] == ["dev"]  # device beats site
    assert [c.name for c in pick(creds, "192.0.2.12")] == ["site"]
    assert [c.name for c in pick(creds, "192.0.2.99", ("mac:00:11:22:33:44:55",))] == [
        "site", "key"]
    assert pick(creds, "198.51.100.1") == []
    upper = _cred("up", binding=Binding(device="MAC:00-11-22-33-44-55"))
    assert upper.binding.device == "mac:00:11:22:33:44:55"  # as the scan's device keys
    assert [c.name for c in pick([upper], "192.0.2.7", ("mac:00:11:22:33:44:55",))] == ["up"]
    assert [c.name for c in pick(creds, "192.0.2.11")] == ["site", "other"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {"ROUTERWATCH_HOME": str(tmp_path), "ROUTERWATCH_CREDS_BACKEND": "file",
            "ROUTERWATCH_CREDS_PASSPHRASE": "cli-pass"}  # fmt: skip


def test_cli_add_list_remove_never_prints_a_secret(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    outputs = []
    r = runner.invoke(app, ["creds", "add", "gw", "--kind", "ssh", "--device", "192.0.2.1",
                            "--user", "admin", "--stdin"], input=SECRET + "\n", env=env)
    outputs.append(r.output)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["creds", "add", "office", "--kind", "snmpv3", "--site",
                            "192.0.2.0/28", "--user", "mon", "--auth-protocol", "SHA256",
                            "--stdin", "--format", "json"], input="auth-secret-1\npriv-secret-2\n",
                      env=env)  # fmt: skip
    outputs.append(r.output)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["stored"]["secrets"] == ["auth_key", "priv_key"]
    r = runner.invoke(app, ["creds", "list", "--format", "json"], env=env)
    outputs.append(r.output)
    rows = json.loads(r.output)["credentials"]
    assert [(x["name"], x["bound_to"], x["port"]) for x in rows] == [
        ("gw", "device 192.0.2.1", 22), ("office", "site 192.0.2.0/28", 161)]
    r = runner.invoke(app, ["creds", "list"], env=env)
    outputs.append(r.output)
    assert "gw" in r.output and "office" in r.output
    r = runner.invoke(app, ["creds", "add", "gw", "--kind", "ssh", "--device", "192.0.2.1",
                            "--user", "admin", "--stdin"], input="x\n", env=env)
    outputs.append(r.output)
    assert r.exit_code == 2 and "exists (use --replace)" in r.output
    r = runner.invoke(app, ["creds", "remove", "gw", "--format", "json"], env=env)
    outputs.append(r.output)
    assert r.exit_code == 0 and json.loads(r.output)["removed"]["name"] == "gw"
    r = runner.invoke(app, ["creds", "remove", "gw"], env=env)
    outputs.append(r.output)
    assert r.exit_code == 2 and "no credential named 'gw'" in r.output
    r = runner.invoke(app, ["creds", "add", "t", "--kind", "http-dlink", "--device",
                            "192.0.2.3", "--user", "a", "--stdin"], input="x\n", env=env)
    outputs.append(r.output)
    assert r.exit_code == 2 and "not supported yet" in r.output
    assert "Traceback" not in "".join(outputs)
    for secret in (SECRET, "auth-secret-1", "priv-secret-2"):
        assert all(secret not in o for o in outputs)
    r = runner.invoke(app, ["creds", "list"],
                      env={**env, "ROUTERWATCH_CREDS_PASSPHRASE": "not-it"})  # fmt: skip
    assert r.exit_code == 2 and "wrong passphrase" in r.output


def test_keyring_backend_with_a_real_keyring(tmp_path: Path) -> None:
    """A keyring backend is picked by auto and holds the store in one entry; nothing is
    written to the data dir. This headless machine has no OS keyring: keyrings.alt's file
    keyring stands in for one, declared recommended (priority 1) — as it is, with priority
    0.5 (base64, not encrypted), routerwatch refuses it."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    class Recommended(PlaintextKeyring):  # type: ignore[misc]
        priority = 1

    plain = PlaintextKeyring()
    backend = Recommended()
    for kr in (plain, backend):
        kr.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    before = keyring.get_keyring()
    try:
        keyring.set_keyring(plain)
        assert open_backend(tmp_path, backend="auto", passphrase=lambda: "x").name == "file"
        keyring.set_keyring(backend)
        store = CredentialStore.open(tmp_path / "data", backend="auto")
        assert store.backend.name == "keyring"
        store.add(_cred())
        assert [c.password for c in CredentialStore.open(tmp_path / "data").load()] == [SECRET]
        assert not (tmp_path / "data" / "credentials.enc").exists()
        assert backend.get_password("routerwatch", "credential-store")
    finally:
        keyring.set_keyring(before)
