"""The API's response and request bodies (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class PageBase(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None


class Site(BaseModel):
    id: int
    name: str
    created_at: str
    devices: int = 0


class SiteList(PageBase):
    items: list[Site]


NO_NUL = r"^[^\x00]*$"


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class Device(BaseModel):
    id: int
    site_id: int
    site: str
    device_key: str
    state: Literal["present", "gone"]
    first_seen: str
    last_seen: str
    missed_runs: int
    address: str | None
    vendor: str | None
    model: str | None
    hardware: str | None
    firmware: str | None
    region: str | None
    confidence: float
    open_ports: list[int]
    indicators: list[dict[str, Any]]
    policy: list[str]
    risk: float
    risk_level: str
    eol: str | None
    kev_open: int
    open_findings: int
    matched_kb: int


class DeviceList(PageBase):
    items: list[Device]


class FindingOut(BaseModel):
    id: int
    device_id: int
    cve: str
    state: Literal["open", "fixed", "accepted", "false_positive"]
    present: bool
    match_status: str
    kev: bool
    kev_date: str | None
    epss: float | None
    cvss: float | None
    severity: str | None
    fixed_in: str | None
    reason: str
    first_seen: str
    updated_at: str
    fixed_at: str | None
    triage_reason: str | None
    triage_by: str | None
    triage_at: str | None
    triage_expires: str | None
    vendor: str | None = None
    model: str | None = None
    site: str | None = None


class FindingList(PageBase):
    items: list[FindingOut]


class DeviceDetail(Device):
    findings: list[FindingOut]


class HistoryIdentity(BaseModel):
    seen_at: str
    vendor: str | None
    model: str | None
    hardware: str | None
    firmware: str | None
    upload_id: int | None


class HistoryPort(BaseModel):
    port: int
    opened_at: str
    closed_at: str | None


class HistorySighting(BaseModel):
    id: int
    upload_id: int
    seen_at: str
    address: str | None


class DeviceHistory(BaseModel):
    device_id: int
    identities: list[HistoryIdentity]
    ports: list[HistoryPort]
    sightings: list[HistorySighting]


class TriageIn(BaseModel):
    state: Literal["open", "accepted", "false_positive"]
    reason: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    expires_at: str | None = Field(default=None, max_length=40,
                                   description="ISO 8601; required for accepted")


class EventOut(BaseModel):
    id: int
    type: str
    at: str
    observed_at: str | None
    site_id: int | None
    device_id: int | None
    cve: str | None
    severity: str
    why: str
    data: dict[str, Any]
    upload_id: int | None
    kb_change_id: int | None


class EventList(BaseModel):
    items: list[EventOut]
    next_after: int | None


class UploadOut(BaseModel):
    id: int
    site_id: int
    run_id: str
    kind: str
    complete: bool
    observed_at: str
    received_at: str
    hosts: int
    digest: str
    token_id: int | None
    kb_snapshot: str | None
    events: int


class UploadList(PageBase):
    items: list[UploadOut]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    role: Literal["viewer", "operator", "admin"]
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token text. Shown this once; only its hash is kept.")


class TokenList(BaseModel):
    items: list[TokenOut]


class ScheduleIn(BaseModel):
    interval_seconds: int = Field(ge=300, le=30 * 86400)
    enabled: bool = True


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str
    kb_change: int
    rematch_pending: bool
