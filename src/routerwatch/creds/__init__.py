"""Credentialed, read-only collection: the owner's credentials, stored encrypted, sent only to
the device they are bound to (see docs/credentials.md).

* ``routerwatch.creds.model``: Credential, Binding, ``pick`` (which credentials a device gets)
* ``routerwatch.creds.store``: CredentialStore (OS keyring or a passphrase-protected file)
* ``routerwatch.creds.collectors``: one read-only collector per protocol (SSH, SNMPv3,
  RouterOS API, TR-064), each with an allowlist of read calls
* ``routerwatch.creds.collect``: run them for the scanned devices, one attempt each
"""

from routerwatch.creds.model import Binding, Credential, CredentialError, pick
from routerwatch.creds.store import CredentialStore

__all__ = ["Binding", "Credential", "CredentialError", "CredentialStore", "pick"]
