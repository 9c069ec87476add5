"""Durable service changes: the changed order and user records, the log of writes, hand-offs to humans.

Three tables of the session store (declared in `assistant.store_schema`, migration 4; SQLite or Postgres):
- `service_records (owner, kind, key, data, updated)`: the current version of every order or user record
  a write changed, keyed by its owner (the customer) as well as its id; unchanged records are read from
  the source files, which are never written.
- `service_actions (id, owner, session_id, name, arguments, result, confirmed_by, ts)`: every executed
  write with the customer message that confirmed it (redacted).
- `service_handoffs (id, owner, session_id, summary, transcript, status, ts)`: conversations transferred
  to a human agent, for the agent console's queue.
A write's changed records and its log row are committed in one transaction.

Knows the tables and JSON; nothing about what the records mean or who may change them.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa

from assistant.database import upsert
from assistant.persistence import SessionStore
from assistant.pii import redact, redact_obj
from assistant.store_schema import SERVICE_ACTIONS, SERVICE_HANDOFFS, SERVICE_RECORDS

TABLES = ("service_records", "service_actions", "service_handoffs")


class ServiceRecords:
    """The service tables in a `SessionStore`'s database (a path or database URL opens one)."""

    def __init__(self, store: SessionStore | str | Path):
        self.store = store if isinstance(store, SessionStore) else SessionStore(store)

    def record(self, kind: str, key: str) -> tuple[str, dict[str, Any]] | None:
        """(owner, record) of the changed version of a record; None when it was never changed."""
        t = SERVICE_RECORDS
        with self.store._read() as db:
            row = db.execute(sa.select(t.c.owner, t.c.data).where(t.c.kind == kind, t.c.key == key)).first()
        return (row[0], json.loads(row[1])) if row else None

    def changed(self, owner: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, key, record) of every changed record, of one owner or of all."""
        t = SERVICE_RECORDS
        q = sa.select(t.c.kind, t.c.key, t.c.data).order_by(t.c.kind, t.c.key)
        with self.store._read() as db:
            rows = db.execute(q if owner is None else q.where(t.c.owner == owner)).all()
        return [(k, key, json.loads(d)) for k, key, d in rows]

    def commit(self, owner: str, session_id: str, name: str, arguments: dict[str, Any],
               changes: Iterable[tuple[str, str, dict[str, Any]]], confirmed_by: str) -> int:
        """Store the changed records and the log row of one write, atomically; returns the log id."""
        now = time.time()
        with self.store._write() as db:
            for kind, key, data in changes:
                upsert(db, SERVICE_RECORDS, {"owner": owner, "kind": kind, "key": key, "data": json.dumps(data),
                                             "updated": now}, ["owner", "kind", "key"], ["data", "updated"])
            row = db.execute(SERVICE_ACTIONS.insert().values(
                owner=owner, session_id=session_id, name=name, arguments=json.dumps(arguments), result="ok",
                confirmed_by=redact(confirmed_by), ts=now).returning(SERVICE_ACTIONS.c.id)).first()
            return int(row[0])

    def actions(self, owner: str | None = None) -> list[dict[str, Any]]:
        t = SERVICE_ACTIONS
        q = sa.select(t.c.id, t.c.owner, t.c.session_id, t.c.name, t.c.arguments, t.c.confirmed_by,
                      t.c.ts).order_by(t.c.id)
        with self.store._read() as db:
            rows = db.execute(q if owner is None else q.where(t.c.owner == owner)).all()
        return [{"id": r[0], "owner": r[1], "session_id": r[2], "name": r[3], "arguments": json.loads(r[4]),
                 "confirmed_by": r[5], "ts": r[6]} for r in rows]

    # ---- hand-offs -------------------------------------------------------------------------------
    def add_handoff(self, owner: str, session_id: str, summary: str, transcript: list[dict[str, str]]) -> int:
        with self.store._write() as db:
            row = db.execute(SERVICE_HANDOFFS.insert().values(
                owner=owner, session_id=session_id, summary=redact(summary),
                transcript=json.dumps(redact_obj(transcript)), status="open", ts=time.time())
                .returning(SERVICE_HANDOFFS.c.id)).first()
            return int(row[0])

    def handoffs(self, status: str | None = "open") -> list[dict[str, Any]]:
        t = SERVICE_HANDOFFS
        q = sa.select(t.c.id, t.c.owner, t.c.session_id, t.c.summary, t.c.transcript, t.c.status,
                      t.c.ts).order_by(t.c.id)
        with self.store._read() as db:
            rows = db.execute(q.where(t.c.status == status) if status else q).all()
        return [{"id": r[0], "owner": r[1], "session_id": r[2], "summary": r[3], "transcript": json.loads(r[4]),
                 "status": r[5], "ts": r[6]} for r in rows]

    def close_handoff(self, handoff_id: int) -> None:
        with self.store._write() as db:
            db.execute(SERVICE_HANDOFFS.update().where(SERVICE_HANDOFFS.c.id == handoff_id).values(status="closed"))
