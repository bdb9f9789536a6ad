"""What every credentialed collector is: one login, a fixed allowlist of reads, facts out.

A collector gets the address (already allowed by the scan's scope guard), the credential bound
to that device and the scan's :class:`~routerwatch.scan.guard.Guard`, logs in **once** (no
retry: a wrong password must not become an account lockout) and runs only calls of its
``ALLOWLIST``; any other call raises :class:`ForbiddenCall` before a byte is sent. Failures are
:class:`CollectError` with a ``kind`` the report shows as a note.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from routerwatch.creds.model import Credential
from routerwatch.models import DeviceIdentity
from routerwatch.scan.guard import Guard

FailureKind = Literal[
    "auth", "locked", "timeout", "unreachable", "unsupported", "refused", "protocol"
]


class CollectError(Exception):
    """A credentialed read failed; ``str()`` is one line for the report (never a secret)."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ForbiddenCall(CollectError):
    """A call outside the collector's allowlist: refused in code, nothing was sent."""

    def __init__(self, call: str) -> None:
        super().__init__("refused", f"{call!r} is not an allowlisted read call; not sent")


@dataclass(frozen=True)
class Facts:
    """What one credentialed read learned. ``settings`` (name, value) and ``config_text``
    (a config listing such as ``uci show``) go through the same checks as ``audit-config``."""

    protocol: str  # "ssh", "snmpv3", "routeros", "tr064"
    source: str  # "read over SSH as root"
    vendor: str | None = None
    model: str | None = None
    hardware: str | None = None
    firmware: str | None = None
    serial: str | None = None
    mac: str | None = None
    os: str | None = None
    sysdescr: str | None = None  # SNMP: read by the fingerprint rules like an open sysDescr
    sysobjectid: str | None = None
    settings: tuple[tuple[str, str], ...] = ()
    config_text: str | None = None
    evidence: tuple[tuple[str, str], ...] = ()  # (call, what it answered, shortened)
    calls: tuple[str, ...] = ()  # every call made, in order


class Collector(ABC):
    """One protocol. Subclasses set ``protocol``, ``label`` and ``ALLOWLIST``."""

    protocol: str = ""
    label: str = ""  # "SSH", "SNMPv3", ...
    ALLOWLIST: frozenset[str] = frozenset()

    def allow(self, call: str) -> str:
        """``call`` when allowlisted; ForbiddenCall otherwise (call this before sending)."""
        if call not in self.ALLOWLIST:
            raise ForbiddenCall(call)
        return call

    def source(self, cred: Credential) -> str:
        return f"read over {self.label} as {cred.user}"

    @abstractmethod
    async def collect(
        self,
        address: str,
        cred: Credential,
        guard: Guard,
        *,
        hint: DeviceIdentity,
        timeout: float,
    ) -> Facts:
        """Log in once, run allowlisted reads, return the facts (CollectError on failure)."""


def short(text: str, limit: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
