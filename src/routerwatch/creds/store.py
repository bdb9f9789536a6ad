"""The credential store, encrypted at rest.

Two backends, chosen by ``ROUTERWATCH_CREDS_BACKEND`` (``auto`` by default):

* ``keyring``: the OS keyring (Secret Service, macOS Keychain, Windows Credential Locker) via
  the ``keyring`` package, used by ``auto`` only when a real backend is there: one keyring
  recommends (priority >= 1), not the ``fail``/``null`` backends of a headless box nor
  keyrings.alt's plaintext file;
* ``file``: ``<data dir>/credentials.enc``, a JSON envelope around AES-256-GCM ciphertext whose
  key comes from the passphrase through scrypt (n=2^15, r=8, p=1, 16-byte salt, fresh salt
  and nonce on every write). The file is written atomically (temp file, fsync, rename) with
  mode 0600. The passphrase comes from ``ROUTERWATCH_CREDS_PASSPHRASE`` or a prompt.

No secret is ever logged or put into an exception message.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from routerwatch.creds.model import Credential, CredentialError

FORMAT = "routerwatch-creds/1"
FILE_NAME = "credentials.enc"
PASSPHRASE_ENV = "ROUTERWATCH_CREDS_PASSPHRASE"
BACKEND_ENV = "ROUTERWATCH_CREDS_BACKEND"
KEYRING_SERVICE = "routerwatch"
KEYRING_USER = "credential-store"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FILE = 4 * 2**20


class Backend(Protocol):
    name: str

    def load(self) -> str | None: ...  # the plaintext JSON document, None when empty

    def save(self, text: str) -> None: ...


def _kdf(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


class FileBackend:
    """A passphrase-protected file (scrypt + AES-256-GCM)."""

    name = "file"

    def __init__(self, path: Path, passphrase: Callable[[], str]) -> None:
        self.path = path
        self._passphrase = passphrase
        self._cached: str | None = None

    def _secret(self) -> str:
        if self._cached is None:
            value = self._passphrase()
            if not value:
                raise CredentialError(
                    f"no passphrase for the credential file (set {PASSPHRASE_ENV} or enter one)"
                )
            self._cached = value
        return self._cached

    def load(self) -> str | None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            if self.path.stat().st_size > MAX_FILE:
                raise CredentialError(f"{self.path}: larger than 4 MiB, not a credential file")
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        try:
            env = json.loads(raw)
            if env.get("format") != FORMAT:
                raise ValueError("format")
            salt = base64.b64decode(env["salt"])
            nonce = base64.b64decode(env["nonce"])
            blob = base64.b64decode(env["ciphertext"])
            n, r, p = int(env["n"]), int(env["r"]), int(env["p"])
            if not (2**14 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
                raise ValueError("kdf")
        except (ValueError, KeyError, TypeError):
            raise CredentialError(f"{self.path}: not a routerwatch credential file") from None
        key = _kdf(self._secret(), salt, n, r, p)
        try:
            plain = AESGCM(key).decrypt(nonce, blob, FORMAT.encode())
        except InvalidTag:
            self._cached = None
            raise CredentialError(
                f"{self.path}: wrong passphrase (or the file was altered)"
            ) from None
        return plain.decode("utf-8")

    def save(self, text: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt, nonce = os.urandom(16), os.urandom(12)
        key = _kdf(self._secret(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        blob = AESGCM(key).encrypt(nonce, text.encode("utf-8"), FORMAT.encode())
        env = {
            "format": FORMAT, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
            "cipher": "AES-256-GCM", "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(blob).decode(),
        }  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(env, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class KeyringBackend:
    """The OS keyring: one entry holding the JSON document (the keyring encrypts it)."""

    name = "keyring"

    def __init__(self, keyring_module: Any) -> None:
        self.keyring = keyring_module

    def load(self) -> str | None:
        try:
            value = self.keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # keyring backends raise their own types
            raise CredentialError(f"OS keyring: cannot read ({type(exc).__name__})") from None
        return None if value is None else str(value)

    def save(self, text: str) -> None:
        try:
            self.keyring.set_password(KEYRING_SERVICE, KEYRING_USER, text)
        except Exception as exc:
            raise CredentialError(f"OS keyring: cannot write ({type(exc).__name__})") from None


def real_keyring() -> Any | None:
    """The keyring module when it has a real, secure backend (priority >= 1, not fail/null)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    try:
        kr = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(kr, fail.Keyring) or type(kr).__module__.startswith("keyring.backends.null"):
        return None
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        return None
    try:
        # keyring recommends backends of priority >= 1 (Secret Service, Keychain, Windows,
        # KWallet); below are the insecure ones (keyrings.alt's plaintext file: base64 only,
        # and its EncryptedKeyring, active once pycryptodome is installed, which prompts on a
        # terminal). The chainer claims a high priority of its own: judge what it chains.
        chained = kr.backends if isinstance(kr, chainer.ChainerBackend) else [kr]
        if not any(float(getattr(b, "priority", 0)) >= 1 for b in chained):
            return None
    except Exception:
        return None
    return keyring


def _prompt_passphrase() -> str:
    import getpass
    import sys

    if not sys.stdin.isatty():
        return ""
    return getpass.getpass("credential store passphrase: ")


def open_backend(
    data_dir: Path, *, backend: str | None = None, passphrase: Callable[[], str] | None = None
) -> Backend:
    """The backend to use: ``backend`` (or $ROUTERWATCH_CREDS_BACKEND): auto, keyring, file."""
    choice = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if choice not in ("auto", "keyring", "file"):
        raise CredentialError(f"{BACKEND_ENV}={choice!r}: use auto, keyring or file")
    if choice in ("auto", "keyring"):
        kr = real_keyring()
        if kr is not None:
            return KeyringBackend(kr)
        if choice == "keyring":
            raise CredentialError("no usable OS keyring here (use the file backend)")

    def from_env() -> str:
        return os.environ.get(PASSPHRASE_ENV) or _prompt_passphrase()

    return FileBackend(data_dir / FILE_NAME, passphrase or from_env)


class CredentialStore:
    """Credentials by name, kept by one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @classmethod
    def open(cls, data_dir: Path | None = None, **kwargs: Any) -> CredentialStore:
        if data_dir is None:
            from routerwatch.config import data_dir as default_dir

            data_dir = default_dir()
        return cls(open_backend(data_dir, **kwargs))

    def load(self) -> list[Credential]:
        text = self.backend.load()
        if not text:
            return []
        try:
            doc = json.loads(text)
            rows = doc["credentials"]
            if not isinstance(rows, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise CredentialError("credential store: content is not a credential list") from None
        return [Credential.from_json(r) for r in rows]

    def _save(self, creds: list[Credential]) -> None:
        doc = {"format": FORMAT, "credentials": [c.to_json() for c in creds]}
        self.backend.save(json.dumps(doc, sort_keys=True))

    def add(self, cred: Credential, *, replace: bool = False) -> None:
        creds = self.load()
        if any(c.name == cred.name for c in creds):
            if not replace:
                raise CredentialError(f"a credential named {cred.name!r} exists (use --replace)")
            creds = [c for c in creds if c.name != cred.name]
        creds.append(cred)
        self._save(creds)

    def remove(self, name: str) -> Credential:
        creds = self.load()
        kept = [c for c in creds if c.name != name]
        if len(kept) == len(creds):
            raise CredentialError(f"no credential named {name!r}")
        self._save(kept)
        return next(c for c in creds if c.name == name)

    def exists(self) -> bool:
        if isinstance(self.backend, FileBackend):
            return self.backend.path.exists()
        return True
