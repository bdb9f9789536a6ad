"""Send a run to a fleet server (what `scan --upload` uses; agents will too)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from routerwatch.schema import new_run_id
from routerwatch.server.wire import make_upload


class UploadError(Exception):
    """The server refused the upload or could not be reached; the message is one line.
    ``status`` is the HTTP status of a refusal (None when the server was not reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def upload_report(report_dict: dict[str, Any], url: str, token: str, *, site: str = "default",
                  run_id: str | None = None, kind: str = "scan", attempts: int = 4,
                  timeout: float = 60.0, client: httpx.Client | None = None,
                  complete: bool | None = None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST the report to ``URL/api/v1/uploads``; retried on network errors and 5xx (the run
    id makes a retry harmless). Returns the server's answer."""
    run_id = run_id or report_dict.get("run_id") or new_run_id()
    doc = {**make_upload(report_dict, run_id=run_id, site=site, kind=kind, complete=complete),
           **(extra or {})}
    endpoint = url.rstrip("/") + "/api/v1/uploads"
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        for attempt in range(attempts):
            try:
                r = http.post(endpoint, json=doc, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:
                if attempt == attempts - 1:
                    raise UploadError(f"cannot reach {endpoint}: {exc}") from None
            else:
                if r.status_code in (200, 201):
                    answer: dict[str, Any] = r.json()
                    return answer
                if r.status_code < 500 or attempt == attempts - 1:
                    raise UploadError(f"{endpoint} answered {r.status_code}: {_detail(r)}",
                                      r.status_code)
            time.sleep(min(2 ** attempt, 10))
    finally:
        if own:
            http.close()
    raise UploadError(f"upload to {endpoint} failed")


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", ""))[:300]
    except ValueError:
        return r.text[:300]
