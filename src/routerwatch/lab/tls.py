"""Self-signed certificates shaped like the devices' own (subject fields as the real ones read).

One RSA-2048 key per process, generated on first use (a tenth of a second); one certificate
per (profile, subject) — the subject may carry per-host values such as the MAC address.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import threading
from datetime import UTC, datetime, time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from routerwatch.lab.profiles import TlsSpec

__all__ = ["certificate_pem", "server_context"]

_lock = threading.Lock()
_key: rsa.RSAPrivateKey | None = None
_contexts: dict[tuple[str, str | None, str, str], ssl.SSLContext] = {}


def _private_key() -> rsa.RSAPrivateKey:
    global _key
    with _lock:
        if _key is None:
            _key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _key


def certificate_pem(spec: TlsSpec, subject: str, issuer: str | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for ``subject`` (RFC 4514 text, per-host values filled in)."""
    key = _private_key()
    name = x509.Name.from_rfc4514_string(subject)
    issuer_name = x509.Name.from_rfc4514_string(issuer) if issuer else name
    serial = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:8], "big") | 1
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime.combine(spec.not_before, time(0, 0), tzinfo=UTC))
        .not_valid_after(datetime.combine(spec.not_after, time(0, 0), tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(spec: TlsSpec, subject: str, issuer: str | None = None) -> ssl.SSLContext:
    """A TLS server context presenting the device's certificate (cached per subject)."""
    cache_key = (subject, issuer, spec.not_before.isoformat(), spec.not_after.isoformat())
    with _lock:
        cached = _contexts.get(cache_key)
    if cached is not None:
        return cached
    cert_pem, key_pem = certificate_pem(spec, subject, issuer)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # ssl only loads certificates from files: write them to a private temp dir, then remove it
    with tempfile.TemporaryDirectory(prefix="rw-lab-tls-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        ctx.load_cert_chain(cert_path, key_path)
    with _lock:
        _contexts[cache_key] = ctx
    return ctx
