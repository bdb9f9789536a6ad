"""A real HTTP server on 127.0.0.1 that answers like the NVD API 2.0 / KEV / EPSS feeds.

It serves the real fixture records, filtered by lastModStartDate/EndDate and paged by
startIndex/resultsPerPage, and injects faults from a queue: "503", "429", "403",
"truncated" (200 with half a JSON body), "cut" (connection closed mid-body), "stall"
(headers, then silence), "trickle" (one byte every 0.1 s), "404".
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NVD_PATH = "/rest/json/cves/2.0"


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


class FakeFeeds:
    def __init__(self, cves: list[dict[str, Any]], files: dict[str, bytes],
                 host: str = "127.0.0.1") -> None:
        self.cves = sorted(cves, key=lambda c: (c["lastModified"], c["id"]))
        self.files = files  # path -> body
        self.faults: list[str] = []
        self.fail_after: int | None = None  # answer 503 to every request after this many
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.nvd_url = self.base + NVD_PATH

    def nvd_requests(self) -> list[dict[str, str]]:
        return [e["params"] for e in self.log if e["path"] == NVD_PATH]

    def _page(self, params: dict[str, str]) -> bytes:
        items = self.cves
        if "lastModStartDate" in params:
            lo, hi = _when(params["lastModStartDate"]), _when(params["lastModEndDate"])
            items = [c for c in items if lo <= _when(c["lastModified"]) <= hi]
        start = int(params.get("startIndex", 0))
        size = int(params.get("resultsPerPage", 2000))
        chunk = items[start:start + size]
        return json.dumps({
            "resultsPerPage": len(chunk), "startIndex": start, "totalResults": len(items),
            "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-24T00:00:00.000",
            "vulnerabilities": [{"cve": c} for c in chunk],
        }).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls per request

            def log_message(self, *_args: Any) -> None:
                pass

            def handle(self) -> None:
                with contextlib.suppress(ConnectionError, TimeoutError):
                    super().handle()  # the client may give up (timeout tests): expected

            def _send(self, status: int, body: bytes, length: int | None = None,
                      extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                with feeds.lock:
                    feeds.log.append({"path": url.path, "params": params,
                                      "headers": dict(self.headers.items())})
                    count = len(feeds.log)
                    fault = feeds.faults.pop(0) if feeds.faults else None
                    if feeds.fail_after is not None and count > feeds.fail_after:
                        fault = "503"
                if url.path == NVD_PATH:
                    body = feeds._page(params)
                elif url.path in feeds.files:
                    body = feeds.files[url.path]
                else:
                    fault = "404"
                    body = b""
                if fault in ("503", "403"):
                    self._send(int(fault), b"busy")
                elif fault == "429":
                    self._send(429, b"slow down", extra={"Retry-After": "30"})
                elif fault == "404":
                    self._send(404, b"", extra={"message": "no such thing"})
                elif fault == "truncated":
                    self._send(200, body[: len(body) // 2])
                elif fault == "cut":
                    self._send(200, body[: len(body) // 2], length=len(body))
                    self.close_connection = True
                elif fault == "stall":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    feeds.release.wait(10)
                    self.close_connection = True
                elif fault == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for byte in body[:50]:
                        if feeds.release.wait(0.1):
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    self.close_connection = True
                else:
                    self._send(200, body)

        return Handler


@contextmanager
def serve(cves: list[dict[str, Any]], files: dict[str, bytes] | None = None,
          host: str = "127.0.0.1") -> Iterator[FakeFeeds]:
    feeds = FakeFeeds(cves, files or {}, host)
    thread = threading.Thread(target=feeds.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        feeds.release.set()
        time.sleep(0.01)
        feeds.server.shutdown()
        feeds.server.server_close()
