"""Per-source bookkeeping in ``kb_source_state``: import/sync times, sync cursor, meta."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from routerwatch.kb.freshness import iso, utcnow
from routerwatch.kb.schema import source_state

__all__ = ["get_state", "iso", "put_state", "utcnow"]


def get_state(conn: Connection, source: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(source_state).where(source_state.c.source == source)
    ).mappings().first()
    if row is None:
        return {"source": source, "last_import": None, "last_sync": None,
                "sync_cursor": None, "meta": {}}
    state = dict(row)
    state["meta"] = json.loads(state["meta"] or "{}")
    return state


def put_state(conn: Connection, source: str, meta: dict[str, Any] | None = None,
              **fields: Any) -> None:
    """Update the given fields (and merge ``meta`` keys; a None value deletes a key)."""
    state = get_state(conn, source)
    merged = dict(state["meta"])
    for key, value in (meta or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    values = {k: fields.get(k, state[k]) for k in ("last_import", "last_sync", "sync_cursor")}
    values["meta"] = json.dumps(merged, sort_keys=True)
    exists = conn.execute(
        sa.select(source_state.c.source).where(source_state.c.source == source)
    ).first()
    if exists:
        conn.execute(
            source_state.update().where(source_state.c.source == source).values(**values)
        )
    else:
        conn.execute(source_state.insert().values(source=source, **values))
