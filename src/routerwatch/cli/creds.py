"""`routerwatch creds add|list|remove`: the owner's device credentials, stored encrypted."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from routerwatch.cli.common import Format, console, fail, print_json

if TYPE_CHECKING:
    from routerwatch.creds import CredentialStore

app = typer.Typer(
    help="Keep device credentials (SSH, SNMPv3, RouterOS API, TR-064) for read-only "
    "credentialed scans, encrypted at rest.",
    no_args_is_help=True,
)

KEY_MAX = 64 * 1024

ADD_HELP = """Store one credential, bound to one device (--device ADDRESS or device key) or a
site network (--site CIDR).

Secrets are never taken from the command line: they are prompted for (hidden), or read from
standard input with --stdin (one per line: the password, or for SNMPv3 the authentication then
the privacy passphrase). An SSH key is read from --key-file and stored encrypted. The store is
the OS keyring where one exists, else <data dir>/credentials.enc protected by the passphrase
in ROUTERWATCH_CREDS_PASSPHRASE (or prompted).
"""


def _store() -> CredentialStore:
    from routerwatch.creds import CredentialError, CredentialStore

    try:
        return CredentialStore.open()
    except CredentialError as exc:
        fail(str(exc))


def _secrets(count: int, labels: list[str], stdin: bool) -> list[str]:
    if stdin:
        lines = sys.stdin.read(1 << 16).splitlines()
        if len(lines) < count:
            fail(f"--stdin: expected {count} line(s) ({', '.join(labels)}), got {len(lines)}")
        return [line.rstrip("\r") for line in lines[:count]]
    if not sys.stdin.isatty():
        fail("no terminal to prompt for the secret: use --stdin")
    return [getpass.getpass(f"{label}: ") for label in labels]


def add(
    name: str = typer.Argument(..., help="A name for the credential (used by list/remove)."),
    kind: str = typer.Option(
        ..., "--kind", "-k",
        help="ssh, snmpv3, routeros (MikroTik API), tr064 (AVM), http-tplink (TP-Link web API), "
        "http-netgear (NETGEAR SOAP API) or http-asus (ASUS web API).",
    ),
    device: str | None = typer.Option(
        None, "--device", help="The device it is for: an IP address or a device key (mac:…)."
    ),
    site: str | None = typer.Option(
        None, "--site", help="A network (CIDR): every device in it gets this credential."
    ),
    user: str = typer.Option(..., "--user", "-u", help="Login / SNMPv3 user name."),
    port: int | None = typer.Option(None, "--port", help="Port (default per protocol)."),
    key_file: Path | None = typer.Option(
        None, "--key-file", help="SSH private key file (unencrypted OpenSSH/PEM); no password."
    ),
    auth_protocol: str = typer.Option("SHA", "--auth-protocol", help="SNMPv3: SHA, SHA256, …"),
    priv_protocol: str = typer.Option("AES", "--priv-protocol", help="SNMPv3: AES, AES256, …"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the secret(s) from standard input."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a credential of that name."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
) -> None:
    from routerwatch.creds import Binding, Credential, CredentialError

    kind = kind.strip().lower()
    try:
        binding = Binding(device=device, site=site)
    except CredentialError as exc:
        fail(str(exc))
    password = key = auth_key = priv_key = None
    if key_file is not None:
        if kind != "ssh":
            fail("--key-file is for --kind ssh only")
        try:
            data = key_file.read_bytes()[: KEY_MAX + 1]
        except OSError as exc:
            fail(f"--key-file {key_file}: cannot read: {exc.strerror or exc}")
        if len(data) > KEY_MAX or b"PRIVATE KEY" not in data:
            fail(f"--key-file {key_file}: not a private key file")
        key = data.decode("utf-8", "replace")
    elif kind == "snmpv3":
        labels = ["authentication passphrase"]
        if priv_protocol.lower() != "none":
            labels.append("privacy passphrase")
        got = _secrets(len(labels), labels, stdin)
        auth_key = got[0]
        priv_key = got[1] if len(got) > 1 else None
    elif kind in ("ssh", "routeros", "tr064", "http-tplink", "http-netgear", "http-asus"):
        password = _secrets(1, ["password"], stdin)[0]
    try:
        cred = Credential(
            name=name, kind=kind, binding=binding, user=user, port=port,  # type: ignore[arg-type]
            password=password, key=key, auth_key=auth_key, priv_key=priv_key,
            auth_protocol=auth_protocol, priv_protocol=priv_protocol,
        )  # fmt: skip
        store = _store()
        store.add(cred, replace=replace)
    except CredentialError as exc:
        fail(str(exc))
    if fmt == Format.json:
        print_json({"stored": cred.public(), "backend": store.backend.name})
        return
    console.print(
        f"stored {cred.kind} credential {cred.name!r} for {cred.binding.text()} "
        f"({store.backend.name} backend)"
    )


add.__doc__ = ADD_HELP
app.command("add")(add)


@app.command("list")
def list_(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
) -> None:
    """List the stored credentials (names, bindings, users; never a secret)."""
    from routerwatch.creds import CredentialError

    store = _store()
    try:
        rows = [c.public() for c in store.load()]
    except CredentialError as exc:
        fail(str(exc))
    if fmt == Format.json:
        print_json({"backend": store.backend.name, "credentials": rows})
        return
    if not rows:
        console.print("no credentials stored")
        return
    table = Table(title_justify="left")
    for col in ("name", "kind", "bound to", "user", "port", "secrets"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["kind"], r["bound_to"], r["user"], str(r["port"]),
                      ", ".join(r["secrets"]) + " (stored)")
    console.print(table)


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The credential's name."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
) -> None:
    """Remove one stored credential."""
    from routerwatch.creds import CredentialError

    store = _store()
    try:
        cred = store.remove(name)
    except CredentialError as exc:
        fail(str(exc))
    if fmt == Format.json:
        print_json({"removed": cred.public()})
        return
    console.print(f"removed {cred.kind} credential {cred.name!r}")
