"""Typed specs of alert rules and channels (validated once, here; the API and the dashboard
build them from their input and hand them to :mod:`routerwatch.server.alerts.rules`).

Secrets (HMAC keys, SMTP passwords) are ``SecretStr``: their repr and str are ``**********``,
so a spec that ends up in a log line shows no secret. On update, a secret left out (None)
keeps the stored one.
"""

from __future__ import annotations

import re
import ssl
from datetime import time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from routerwatch.server.events import SEVERITIES, TYPES

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Short = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Severity = Literal["info", "low", "medium", "high", "critical"]
#: event types that flap (an event and its opposite for the same device and port)
FLAP_PAIRS = {"device.gone": "device.back", "device.back": "device.gone",
              "port.opened": "port.closed", "port.closed": "port.opened"}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """No NUL and no lone surrogates: text a database (and a mail, a syslog line) holds."""
        for text in _texts(value):
            if "\x00" in text:
                raise ValueError("NUL characters are not allowed")
            try:
                text.encode()
            except UnicodeEncodeError:
                raise ValueError("text is not valid Unicode (a lone surrogate)") from None
        return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    return []


class Match(_Spec):
    """Which events a rule selects; every given condition must hold (empty = any)."""

    types: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=50,
        description="event types; a prefix ending in '.' (\"finding.\") selects a family")
    sites: list[Short] = Field(default_factory=list, max_length=200,
                               description="site names")
    vendors: list[Short] = Field(default_factory=list, max_length=200,
                                 description="device vendors (case-insensitive)")
    min_severity: Severity | None = None
    kev: bool | None = Field(None, description="true: only events about a CVE in CISA KEV; "
                             "false: only events about a CVE not in KEV")
    epss_min: float | None = Field(None, ge=0.0, le=1.0,
                                   description="only events about a CVE with EPSS ≥ this")
    indicators: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=100,
        description="indicator rule names (shell patterns such as 'quad7-*'); "
                    "only indicator events match when given")

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        families = {t.split(".")[0] + "." for t in TYPES}
        for t in value:
            if t not in TYPES and t not in families:
                raise ValueError(f"unknown event type {t!r} (one of {', '.join(TYPES)}, "
                                 f"or a family such as 'finding.')")
        return value


class QuietHours(_Spec):
    """A daily window (local time of ``tz``) in which the rule sends nothing.

    ``hold``: deliveries wait and go out when the window ends; ``drop``: they are recorded as
    ``dropped`` and never sent. Events of ``bypass_severity`` or above go out anyway."""

    start: time
    end: time
    tz: str = "UTC"
    action: Literal["hold", "drop"] = "hold"
    bypass_severity: Severity | None = None

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "'Europe/Berlin')") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end are the same time")
        return self


class RuleSpec(_Spec):
    """An alert rule: what it selects, where it sends, and how (immediately or as a digest)."""

    name: Name
    enabled: bool = True
    match: Match = Field(default_factory=lambda: Match.model_validate({}))
    channels: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        max_length=50, description="ids of the channels it sends to (none: the rule is inert)")
    digest_minutes: int = Field(0, ge=0, le=7 * 24 * 60,
                                description="0: one message per event; N: one message per "
                                            "N minutes with every event of the period")
    debounce_minutes: int = Field(0, ge=0, le=24 * 60,
                                  description="device.gone/back and port.opened/closed that "
                                              "undo each other within N minutes are suppressed")
    quiet_hours: QuietHours | None = None

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


class Retry(_Spec):
    max_attempts: int = Field(8, ge=1, le=50)
    base_seconds: float = Field(2.0, ge=0.05, le=3600)
    max_seconds: float = Field(3600.0, ge=0.1, le=86400)


class _ChannelBase(_Spec):
    name: Name
    enabled: bool = True
    retry: Retry = Field(default_factory=lambda: Retry.model_validate({}))
    timeout_seconds: float = Field(10.0, ge=0.1, le=120)


_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")


class WebhookSpec(_ChannelBase):
    """HTTP POST of a JSON body; signed with HMAC-SHA256 when a secret is set."""

    kind: Literal["webhook"] = "webhook"
    url: Annotated[str, Field(min_length=8, max_length=2000)]
    template: Literal["json", "slack", "teams", "ntfy"] = "json"
    ntfy_topic: Annotated[str, Field(max_length=64, pattern=r"^[-_A-Za-z0-9]+$")] | None = None
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key (write only)")
    headers: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=20, description="extra request headers")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        if any(ord(c) < 0x21 for c in value):
            raise ValueError("url must not contain spaces or control characters")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for k, v in value.items():
            if not _HEADER.match(k) or any(c in v for c in "\r\n\x00"):
                raise ValueError(f"invalid header {k!r}")
            if k.lower().startswith("x-routerwatch-") or k.lower() in ("content-length", "host"):
                raise ValueError(f"header {k!r} is set by routerwatch")
        return value

    @model_validator(mode="after")
    def _topic(self) -> WebhookSpec:
        if self.template == "ntfy" and not self.ntfy_topic:
            raise ValueError("template ntfy needs ntfy_topic")
        return self


_EMAIL = r"^[^@\s<>,;\x00-\x1f]{1,64}@[^@\s<>,;\x00-\x1f]{1,255}$"
Email = Annotated[str, Field(max_length=320, pattern=_EMAIL)]


class EmailSpec(_ChannelBase):
    """SMTP: STARTTLS on the submission port by default (or implicit TLS, ``tls: ssl``)."""

    kind: Literal["email"] = "email"
    host: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[-.:A-Za-z0-9\[\]]+$")]
    port: int = Field(587, ge=1, le=65535)
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    ca_pem: Annotated[str, Field(max_length=65536)] | None = Field(
        None, description="PEM certificate(s) to trust instead of the system store")
    username: Annotated[str, Field(max_length=320)] | None = None
    password: SecretStr | None = Field(None, description="SMTP password (write only)")
    sender: Email
    to: list[Email] = Field(min_length=1, max_length=50)

    @field_validator("ca_pem")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value:
            try:
                if not value.isascii():
                    raise ValueError
                ssl.create_default_context(cadata=value)
            except (ssl.SSLError, ValueError, TypeError):
                raise ValueError("ca_pem is not a PEM certificate") from None
        return value

    @model_validator(mode="after")
    def _no_clear_password(self) -> EmailSpec:
        if self.tls == "none" and (self.password is not None or self.username):
            raise ValueError("an SMTP login needs tls 'starttls' or 'ssl' (never in clear)")
        return self


class SyslogSpec(_ChannelBase):
    """RFC 5424 messages (or CEF inside them) over UDP or TCP (octet-counted framing)."""

    kind: Literal["syslog"] = "syslog"
    host: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[-.:A-Za-z0-9\[\]]+$")]
    port: int = Field(514, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    format: Literal["rfc5424", "cef"] = "rfc5424"
    facility: int = Field(16, ge=0, le=23, description="16 = local0")
    app_name: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[!-~]+$")] = \
        "routerwatch"


ChannelSpec = Annotated[WebhookSpec | EmailSpec | SyslogSpec, Field(discriminator="kind")]

SECRET_FIELDS = {"webhook": ("secret",), "email": ("password",), "syslog": ()}
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
