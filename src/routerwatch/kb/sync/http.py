"""HTTP for the online sync: rate limiting, retries with capped backoff, bounded bodies."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from routerwatch import __version__, jsontext
from routerwatch.kb.errors import KBError, KBUnreachable
from routerwatch.kb.reader import human

RETRY_STATUS = frozenset({403, 408, 429, 500, 502, 503, 504})


class RateLimiter:
    """At most ``calls`` acquisitions in any ``period`` seconds (sliding window).

    ``clock`` and ``sleep`` are injectable so tests need not wait.
    """

    def __init__(self, calls: int, period: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if calls < 1 or period < 0:
            raise ValueError("calls must be >= 1 and period >= 0")
        self.calls, self.period = calls, period
        self.clock, self.sleep = clock, sleep
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                while self._stamps and now - self._stamps[0] >= self.period:
                    self._stamps.popleft()
                if len(self._stamps) < self.calls:
                    self._stamps.append(now)
                    return
                # at least 1 ms, so a float-rounded remainder cannot spin forever
                self.sleep(max(self.period - (now - self._stamps[0]), 0.001))


def nvd_limiter(api_key: str | None) -> RateLimiter:
    """NVD's documented limits: 5 requests / 30 s without an API key, 50 with one."""
    return RateLimiter(50 if api_key else 5, 30.0)


@dataclass
class Retry:
    """Capped exponential backoff: ``min(cap, base * 2**attempt)``, honouring Retry-After.

    A server's Retry-After (seconds or an HTTP date) is waited out in full, however long,
    up to ``max_wait``; asked to wait longer, the sync stops with one line instead.
    """

    attempts: int = 6
    base: float = 2.0
    cap: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    max_wait: float = 900.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        wait = min(self.cap, self.base * (2**attempt))
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            wait = max(wait, asked)
        return wait


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header (delay-seconds or HTTP-date) as seconds from now; None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text) if len(text) <= 12 else float("inf")
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class Unreachable(Exception):
    """The connection itself failed (refused, no route, DNS): nothing answered."""


class Transient(Exception):
    """A failure worth retrying (5xx/429/403, timeout, broken or truncated body)."""

    def __init__(self, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Fetcher:
    """GETs through the limiter with retries; bodies are bounded and time-limited."""

    client: httpx.Client
    limiter: RateLimiter | None = None
    retry: Retry = field(default_factory=Retry)
    max_bytes: int = 64 * 1024 * 1024
    deadline: float = 300.0  # seconds for one whole response
    requests: int = 0
    answered: int = 0  # responses received: a connection failure before any is "cannot reach"

    def get_bytes(self, url: str, params: Mapping[str, Any] | None = None,
                  headers: Mapping[str, str] | None = None, max_bytes: int | None = None) -> bytes:
        return self._with_retries(url, params, headers, max_bytes or self.max_bytes, None)

    def get_json(self, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        return self._with_retries(url, params, headers, self.max_bytes, jsontext.loads)

    def _with_retries(self, url: str, params: Mapping[str, Any] | None,
                      headers: Mapping[str, str] | None, limit: int,
                      decode: Callable[[bytes], Any] | None) -> Any:
        last = "no attempt"
        for attempt in range(self.retry.attempts):
            if self.limiter is not None:
                self.limiter.acquire()
            self.requests += 1
            retry_after = None
            try:
                body = self._once(url, params, headers, limit)
                return decode(body) if decode else body
            except Unreachable as exc:
                if not self.answered:  # offline, DNS, firewall: say so now, do not retry
                    host = httpx.URL(url).host
                    raise KBUnreachable(
                        f"cannot reach {host} ({exc}): check the network connection or proxy "
                        "(HTTPS_PROXY); without internet, import a bundle: `routerwatch kb "
                        "import FILE` (made with `kb export` elsewhere)"
                    ) from None
                last = str(exc)  # it answered before: a blip worth retrying
            except Transient as exc:
                last, retry_after = str(exc), exc.retry_after
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                last = f"invalid or truncated JSON ({exc})"
            if attempt + 1 < self.retry.attempts:
                wait = self.retry.delay(attempt, retry_after)
                if wait > self.retry.max_wait:
                    raise KBError(
                        f"{url}: {last}; the server asks to wait "
                        f"{'forever' if wait == float('inf') else f'{wait:.0f} s'} before "
                        f"retrying (more than {self.retry.max_wait:.0f} s): try again later"
                    )
                self.retry.sleep(wait)
        if last == "HTTP 403":
            last += " (NVD answers 403 when rate-limited or when the API key is not valid)"
        raise KBError(f"{url}: gave up after {self.retry.attempts} attempts: {last}")

    def _once(self, url: str, params: Mapping[str, Any] | None,
              headers: Mapping[str, str] | None, limit: int) -> bytes:
        started = time.monotonic()
        try:
            with self.client.stream("GET", url, params=params, headers=headers) as response:
                self.answered += 1
                status = response.status_code
                if status in RETRY_STATUS:
                    raise Transient(f"HTTP {status}", response.headers.get("retry-after"))
                if status != 200:
                    message = response.headers.get("message") or response.reason_phrase
                    raise KBError(f"{url}: HTTP {status} {message}".strip())
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise KBError(f"{url}: response larger than {human(limit)}; refused")
                    if time.monotonic() - started > self.deadline:
                        raise Transient(f"response took longer than {self.deadline:.0f} s")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.ConnectTimeout:
            raise Unreachable("no answer to the connection attempt") from None
        except httpx.ConnectError as exc:
            raise Unreachable(_reason(exc)) from None
        except httpx.TimeoutException:
            raise Transient("timed out waiting for the server") from None
        except httpx.HTTPError as exc:
            raise Transient(f"transfer failed: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """The system's words for a network failure ("connection refused"), not Python's."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return text.split("]")[-1].strip().lower() or "connection failed"


def make_client(timeout: float = 60.0) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        headers={"User-Agent": f"routerwatch/{__version__}"},
    )
