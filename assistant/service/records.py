"""Durable service changes: the changed order and user records, the log of writes, hand-offs to humans.

Three tables in the session store's SQLite file (all the SQL of the service package is here):
- `service_records (owner, kind, key, data, updated)`: the current version of every order or user record
  a write changed, keyed by its owner (the customer) as well as its id; unchanged records are read from
  the source files, which are never written.
- `service_actions (id, owner, session_id, name, arguments, result, confirmed_by, ts)`: every executed
  write with the customer message that confirmed it (redacted).
- `service_handoffs (id, owner, session_id, summary, transcript, status, ts)`: conversations transferred
  to a human agent, for the agent console's queue.
A write's changed records and its log row are committed in one transaction.

Knows SQL and JSON; nothing about what the records mean or who may change them.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

from assistant.persistence import SessionStore
from assistant.pii import redact, redact_obj

SCHEMA = """
CREATE TABLE IF NOT EXISTS service_records (
    owner TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, updated REAL,
    PRIMARY KEY (owner, kind, key));
CREATE TABLE IF NOT EXISTS service_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, session_id TEXT, name TEXT NOT NULL,
    arguments TEXT, result TEXT, confirmed_by TEXT, ts REAL);
CREATE TABLE IF NOT EXISTS service_handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, session_id TEXT, summary TEXT, transcript TEXT,
    status TEXT DEFAULT 'open', ts REAL);
CREATE INDEX IF NOT EXISTS service_records_by_key ON service_records (kind, key);
"""
TABLES = ("service_records", "service_actions", "service_handoffs")


class ServiceRecords:
    """The service tables in a `SessionStore`'s database (a path opens one)."""

    def __init__(self, store: SessionStore | str | Path):
        self.store = store if isinstance(store, SessionStore) else SessionStore(store)
        self.store._db().executescript(SCHEMA)

    def record(self, kind: str, key: str) -> tuple[str, dict[str, Any]] | None:
        """(owner, record) of the changed version of a record; None when it was never changed."""
        row = self.store._db().execute("SELECT owner, data FROM service_records WHERE kind = ? AND key = ?",
                                       (kind, key)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def changed(self, owner: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, key, record) of every changed record, of one owner or of all."""
        where, args = ("WHERE owner = ? ", (owner,)) if owner is not None else ("", ())
        rows = self.store._db().execute(f"SELECT kind, key, data FROM service_records {where}ORDER BY kind, key", args)
        return [(k, key, json.loads(d)) for k, key, d in rows]

    def commit(self, owner: str, session_id: str, name: str, arguments: dict[str, Any],
               changes: Iterable[tuple[str, str, dict[str, Any]]], confirmed_by: str) -> int:
        """Store the changed records and the log row of one write, atomically; returns the log id."""
        now = time.time()
        with self.store._write() as db:
            for kind, key, data in changes:
                db.execute("INSERT INTO service_records (owner, kind, key, data, updated) VALUES (?,?,?,?,?) "
                           "ON CONFLICT (owner, kind, key) DO UPDATE SET data = excluded.data, "
                           "updated = excluded.updated", (owner, kind, key, json.dumps(data), now))
            cur = db.execute("INSERT INTO service_actions (owner, session_id, name, arguments, result, confirmed_by, "
                             "ts) VALUES (?,?,?,?,?,?,?)", (owner, session_id, name, json.dumps(arguments),
                                                           "ok", redact(confirmed_by), now))
            return int(cur.lastrowid)

    def actions(self, owner: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE owner = ? ", (owner,)) if owner is not None else ("", ())
        rows = self.store._db().execute("SELECT id, owner, session_id, name, arguments, confirmed_by, ts "
                                        f"FROM service_actions {where}ORDER BY id", args)
        return [{"id": r[0], "owner": r[1], "session_id": r[2], "name": r[3], "arguments": json.loads(r[4]),
                 "confirmed_by": r[5], "ts": r[6]} for r in rows]

    # ---- hand-offs -------------------------------------------------------------------------------
    def add_handoff(self, owner: str, session_id: str, summary: str, transcript: list[dict[str, str]]) -> int:
        with self.store._write() as db:
            cur = db.execute("INSERT INTO service_handoffs (owner, session_id, summary, transcript, status, ts) "
                             "VALUES (?,?,?,?, 'open', ?)", (owner, session_id, redact(summary),
                                                             json.dumps(redact_obj(transcript)), time.time()))
            return int(cur.lastrowid)

    def handoffs(self, status: str | None = "open") -> list[dict[str, Any]]:
        where, args = ("WHERE status = ? ", (status,)) if status else ("", ())
        rows = self.store._db().execute("SELECT id, owner, session_id, summary, transcript, status, ts "
                                        f"FROM service_handoffs {where}ORDER BY id", args)
        return [{"id": r[0], "owner": r[1], "session_id": r[2], "summary": r[3], "transcript": json.loads(r[4]),
                 "status": r[5], "ts": r[6]} for r in rows]

    def close_handoff(self, handoff_id: int) -> None:
        with self.store._write() as db:
            db.execute("UPDATE service_handoffs SET status = 'closed' WHERE id = ?", (handoff_id,))
