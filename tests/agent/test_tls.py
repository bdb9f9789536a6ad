"""TLS as deployed: the real server behind a TLS-terminating proxy (as docs/server.md puts Caddy
or nginx in front). The agent trusts the system CAs by default, a pinned certificate with
--ca-cert, and a file holding the old and the new certificate during a rotation."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from server_helpers import Server, free_port, make_token

from routerwatch.agent.transport import ServerError, enroll

PROXY = "127.41.0.3"


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(PROXY))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsProxy:
    """Terminates TLS on PROXY:port and forwards to the server (a reverse proxy in small)."""

    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path) -> None:
        self.upstream = upstream
        self.port = free_port(PROXY)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def use(self, cert: Path, key: Path) -> None:
        """Rotate: new connections get the new certificate."""
        self.ctx.load_cert_chain(cert, key)

    def _run(self, ready: threading.Event) -> None:
        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                w.close()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            ur, uw = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(pipe(r, uw), pipe(ur, w))

        async def main() -> None:
            self.server = await asyncio.start_server(handle, PROXY, self.port, ssl=self.ctx)
            ready.set()
            await self.server.serve_forever()

        asyncio.set_event_loop(self.loop)
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            self.loop.run_until_complete(main())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"https://{PROXY}:{self.port}"


@pytest.fixture
def proxied(sqlite_url: str, kb_url: str, tmp_path: Path,
            start_server: Callable[..., Server]) -> Iterator[tuple[Server, TlsProxy, Path, Path]]:
    server = start_server(sqlite_url, kb_url)
    cert, key = self_signed(tmp_path, "old")
    proxy = TlsProxy((server.host, server.port), cert, key)
    yield server, proxy, cert, key
    proxy.close()


def _token(server: Server, db: str) -> str:
    admin = make_token(db, "acme", "admin")
    with server.client(admin) as c:
        token: str = c.post("/api/v1/enrolments", json={"site": "remote"}).json()["token"]
    return token


def test_pinned_certificate_system_cas_and_rotation(
        proxied: tuple[Server, TlsProxy, Path, Path], sqlite_url: str, tmp_path: Path) -> None:
    server, proxy, old_cert, _old_key = proxied
    # the system CA store does not trust a self-signed server: refused before any token is sent
    with pytest.raises(ServerError, match="CERTIFICATE_VERIFY_FAILED"):
        enroll(proxy.url, _token(server, sqlite_url), "laptop")
    # pinned: trusting exactly the server's certificate
    answer = enroll(proxy.url, _token(server, sqlite_url), "laptop", ca_cert=str(old_cert))
    assert answer["site"] == "remote"
    # another certificate pinned: refused
    other, _ = self_signed(tmp_path, "other")
    with pytest.raises(ServerError, match="CERTIFICATE_VERIFY_FAILED"):
        enroll(proxy.url, _token(server, sqlite_url), "laptop", ca_cert=str(other))
    # rotation: the agents' file holds old and new; the server switches; nothing breaks
    new_cert, new_key = self_signed(tmp_path, "new")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(old_cert.read_bytes() + new_cert.read_bytes())
    assert enroll(proxy.url, _token(server, sqlite_url), "a", ca_cert=str(bundle))
    proxy.use(new_cert, new_key)
    assert enroll(proxy.url, _token(server, sqlite_url), "b", ca_cert=str(bundle))
    with pytest.raises(ServerError, match="CERTIFICATE_VERIFY_FAILED"):  # old pin alone: out
        enroll(proxy.url, _token(server, sqlite_url), "c", ca_cert=str(old_cert))
    with pytest.raises(ServerError, match="cannot load it"):
        enroll(proxy.url, "rwe_1_x", "d", ca_cert=str(tmp_path / "missing.pem"))
