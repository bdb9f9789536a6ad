"""TLS probe: the certificate a device presents (subject, issuer, expiry, self-signed).

Pure half: :func:`parse_certificate` (DER bytes → TlsCertificate, with ``cryptography``).
I/O half: :func:`fetch_certificate`, one handshake through the Guard that accepts any
certificate (routers use self-signed ones) and old protocol versions, then hangs up.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ssl
import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from routerwatch.models import TlsCertificate
from routerwatch.scan.guard import Guard


class TlsError(ValueError):
    """The handshake gave no usable certificate."""


@functools.cache
def insecure_context() -> ssl.SSLContext:
    """A client context that verifies nothing and still talks to old router firmware.

    Scans only read what the device shows; no secret is sent over these connections.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ValueError, ssl.SSLError), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # old firmware speaks TLS 1.0
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    with contextlib.suppress(ssl.SSLError):
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


def parse_certificate(der: bytes, port: int) -> TlsCertificate:
    """DER certificate → TlsCertificate (RFC 4514 subject/issuer, not-after, self-signed)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise TlsError(f"unreadable certificate ({exc})") from exc
    try:
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
    except ValueError as exc:
        raise TlsError(f"unreadable certificate names ({exc})") from exc
    try:
        not_after: str | None = cert.not_valid_after_utc.isoformat()
    except ValueError:
        not_after = None
    try:  # the key identifies the box (a device key) even when the names are generic
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        key_sha256: str | None = hashlib.sha256(spki).hexdigest()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key_sha256 = None
    return TlsCertificate(
        port=port,
        subject=subject,
        issuer=issuer,
        not_after=not_after,
        self_signed=cert.subject == cert.issuer,
        key_sha256=key_sha256,
    )


async def fetch_certificate(
    guard: Guard, address: str, port: int, timeout: float
) -> TlsCertificate:
    """Handshake with address:port and return its certificate (TlsError / OSError / timeout)."""
    _reader, writer = await guard.open_stream(address, port, timeout, tls=insecure_context())
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.transport.abort()
    if not der:
        raise TlsError("the server sent no certificate")
    return parse_certificate(der, port)
