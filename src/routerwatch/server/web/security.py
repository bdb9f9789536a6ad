"""The dashboard's browser-facing defences: security headers (CSP), cookies, CSRF tokens.

* Every ``/ui`` answer carries a Content-Security-Policy without ``unsafe-inline`` (scripts
  only from the package's own ``/ui/static``), ``frame-ancestors 'none'``, nosniff and
  no-referrer; pages that need a session are ``Cache-Control: no-store``.
* Cookies are HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS (directly
  or, behind a reverse proxy on loopback, by ``X-Forwarded-Proto``; uvicorn applies it).
* CSRF: the synchronizer pattern — the session row holds a random token, every state-changing
  form carries it (HTMX sends it as ``X-CSRF-Token``), compared in constant time. The login
  form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "rw_session"
LOGIN_COOKIE = "rw_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every answer under ``prefix``."""

    def __init__(self, app: Any, prefix: str = "/ui") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _v in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in have]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/ui", httponly=True,
                        samesite="strict", secure=is_https(request))


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/ui", httponly=True, samesite="strict",
                           secure=is_https(request))


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)
