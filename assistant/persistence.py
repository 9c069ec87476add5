"""Durable sessions: carts, conversation turns, orders and feedback in one SQLite file (WAL mode).

Every write is its own committed transaction (`BEGIN IMMEDIATE` ... `COMMIT`, `synchronous=FULL`), so a
cart change is on disk before the tool that made it returns, and a shopper's message is on disk before
the turn that answers it starts; a crash or `kill -9` mid-turn loses neither. Many threads and processes
may share one file: each thread has its own connection, writers queue on SQLite's lock (`timeout_s`).

Every row is keyed by the session's owner as well as its id (`owner` = the user id, "" for a guest),
and every query names the owner taken from the `Session` (which the authenticated caller built), so a
guessed or leaked session id never opens someone else's cart or conversation: for another user it is
simply a different, empty session. (Guest sessions are as private as their id.)
Free text (messages, replies, tool arguments, feedback comments) is stored redacted (`assistant.pii`).

Knows sessions and SQL; nothing about models, tools' behaviour or the UI.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from assistant.pii import redact, redact_obj
from assistant.session import Session, Turn

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    owner TEXT NOT NULL, session_id TEXT NOT NULL, created REAL, updated REAL, lang TEXT,
    last_shown TEXT DEFAULT '[]', last_search TEXT DEFAULT '{}', PRIMARY KEY (owner, session_id));
CREATE TABLE IF NOT EXISTS cart_items (
    owner TEXT NOT NULL, session_id TEXT NOT NULL, product_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0), updated REAL, PRIMARY KEY (owner, session_id, product_id));
CREATE TABLE IF NOT EXISTS turns (
    owner TEXT NOT NULL, session_id TEXT NOT NULL, seq INTEGER NOT NULL, user_text TEXT, reply TEXT, intent TEXT,
    lang TEXT, products TEXT, focus TEXT, tool_calls TEXT, refused INTEGER, no_match INTEGER,
    feedback INTEGER DEFAULT 0, complete INTEGER DEFAULT 0, ts REAL, PRIMARY KEY (owner, session_id, seq));
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT, items TEXT, total REAL, status TEXT,
    created REAL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, session_id TEXT, turn_seq INTEGER, rating INTEGER,
    comment TEXT, ts REAL);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id);
"""


class SessionStore:
    def __init__(self, path: str | Path, timeout_s: float = 10.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # CREATE ... IF NOT EXISTS: safe when processes race

    # ---- connections ---------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # a forked child opens its own
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        # threads of one process queue on a lock (in order) rather than on SQLite's polling busy handler,
        # which starves some writers under many threads; other processes still wait up to timeout_s
        lock = _writer_lock(self.path)
        if not lock.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError(f"session store busy: no write slot within {self.timeout_s:g}s")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        finally:
            lock.release()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- sessions ------------------------------------------------------------------------------
    def _touch(self, db: sqlite3.Connection, session: Session) -> None:
        now = time.time()
        db.execute("INSERT INTO sessions (owner, session_id, created, updated, lang) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (owner, session_id) DO UPDATE SET updated = excluded.updated",
                   (_owner(session.user_id), session.session_id, now, now, session.lang))

    def exists(self, session_id: str, user_id: str | None) -> bool:
        return self._db().execute("SELECT 1 FROM sessions WHERE owner = ? AND session_id = ?",
                                  (_owner(user_id), session_id)).fetchone() is not None

    def load(self, session_id: str, user_id: str | None) -> Session | None:
        """The saved session `session_id` of this user; None when this user has none by that id."""
        db, owner = self._db(), _owner(user_id)
        row = db.execute("SELECT lang, last_shown, last_search FROM sessions WHERE owner = ? AND session_id = ?",
                         (owner, session_id)).fetchone()
        if row is None:
            return None
        session = Session(user_id=user_id, session_id=session_id, lang=row[0] or "en",
                          last_shown=json.loads(row[1] or "[]"), last_search=json.loads(row[2] or "{}"))
        session.cart = self.cart(session)
        for r in db.execute("SELECT user_text, reply, intent, lang, products, focus, tool_calls, refused, no_match, "
                            "feedback, ts FROM turns WHERE owner = ? AND session_id = ? ORDER BY seq", (owner, session_id)):
            session.turns.append(Turn(user=r[0] or "", reply=r[1] or "", intent=r[2] or "", lang=r[3] or "en",
                                      products=json.loads(r[4] or "[]"), focus=json.loads(r[5] or "[]"),
                                      tool_calls=json.loads(r[6] or "[]"), refused=bool(r[7]),
                                      no_match=bool(r[8]), feedback=r[9] or 0, ts=r[10] or 0.0))
        return session

    def sessions_of(self, user_id: str | None) -> list[str]:
        """Session ids of one user, most recently updated first."""
        return [r[0] for r in self._db().execute(
            "SELECT session_id FROM sessions WHERE owner = ? ORDER BY updated DESC", (_owner(user_id),))]

    # ---- cart ----------------------------------------------------------------------------------
    def cart(self, session: Session) -> dict[str, int]:
        return {pid: q for pid, q in self._db().execute(
            "SELECT product_id, quantity FROM cart_items WHERE owner = ? AND session_id = ? ORDER BY rowid",
            (_owner(session.user_id), session.session_id))}

    def set_cart_item(self, session: Session, product_id: str, quantity: int) -> None:
        """Commit one cart line (quantity 0 removes it) before returning."""
        key = (_owner(session.user_id), session.session_id, product_id)
        with self._write() as db:
            self._touch(db, session)
            if quantity <= 0:
                db.execute("DELETE FROM cart_items WHERE owner = ? AND session_id = ? AND product_id = ?", key)
            else:
                db.execute("INSERT INTO cart_items (owner, session_id, product_id, quantity, updated) VALUES (?,?,?,?,?) "
                           "ON CONFLICT (owner, session_id, product_id) DO UPDATE SET quantity = excluded.quantity, "
                           "updated = excluded.updated", (*key, int(quantity), time.time()))

    def cart_saver(self, session: Session):
        """The callback `add_to_cart` calls with (product_id, new quantity) before it returns."""
        return lambda product_id, quantity: self.set_cart_item(session, product_id, quantity)

    # ---- turns ---------------------------------------------------------------------------------
    def begin_turn(self, session: Session, text: str) -> int:
        """Store the shopper's message before the turn runs; returns its sequence number."""
        seq = len(session.turns)
        with self._write() as db:
            self._touch(db, session)
            db.execute("INSERT OR REPLACE INTO turns (owner, session_id, seq, user_text, lang, complete, ts) "
                       "VALUES (?, ?, ?, ?, ?, 0, ?)", (_owner(session.user_id), session.session_id, seq, redact(text),
                                                         session.lang, time.time()))
        return seq

    def finish_turn(self, session: Session, seq: int | None = None) -> None:
        """Store the session's last turn (reply, tools, products) and its state, in one transaction."""
        turn = session.turns[-1]
        seq = len(session.turns) - 1 if seq is None else seq
        calls = [{k: v for k, v in c.items() if k != "result"} for c in turn.tool_calls]
        owner = _owner(session.user_id)
        with self._write() as db:
            self._touch(db, session)
            db.execute("INSERT OR REPLACE INTO turns (owner, session_id, seq, user_text, reply, intent, lang, products, "
                       "focus, tool_calls, refused, no_match, feedback, complete, ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)",
                       (owner, session.session_id, seq, redact(turn.user), redact(turn.reply), turn.intent, turn.lang,
                        json.dumps(turn.products), json.dumps(turn.focus),
                        json.dumps(redact_obj(calls), ensure_ascii=False, default=str), int(turn.refused),
                        int(turn.no_match), turn.feedback, turn.ts))
            db.execute("UPDATE sessions SET lang = ?, last_shown = ?, last_search = ? WHERE owner = ? AND session_id = ?",
                       (session.lang, json.dumps(session.last_shown),
                        json.dumps(redact_obj(session.last_search), ensure_ascii=False, default=str),
                        owner, session.session_id))

    # ---- orders --------------------------------------------------------------------------------
    def place_order(self, session: Session, prices: dict[str, float]) -> dict[str, Any]:
        """Turn the stored cart into an order and empty the cart, atomically; ValueError on an empty cart."""
        if session.user_id is None:
            raise ValueError("placing an order needs a signed-in shopper")
        order_id = "W" + uuid.uuid4().hex[:10].upper()
        key = (_owner(session.user_id), session.session_id)
        with self._write() as db:
            lines = db.execute("SELECT product_id, quantity FROM cart_items WHERE owner = ? AND session_id = ? "
                               "ORDER BY rowid", key).fetchall()
            if not lines:
                raise ValueError("the cart is empty")
            items = [{"product_id": p, "quantity": q, "unit_price": prices.get(p)} for p, q in lines]
            total = round(sum((i["unit_price"] or 0) * i["quantity"] for i in items), 2)
            db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, 'processing', ?)",
                       (order_id, session.user_id, session.session_id, json.dumps(items), total, time.time()))
            db.execute("DELETE FROM cart_items WHERE owner = ? AND session_id = ?", key)
        session.cart.clear()
        return {"order_id": order_id, "items": items, "total": total, "status": "processing"}

    def orders_of(self, user_id: str) -> list[dict[str, Any]]:
        return [{"order_id": r[0], "items": json.loads(r[1]), "total": r[2], "status": r[3], "created": r[4]}
                for r in self._db().execute("SELECT order_id, items, total, status, created FROM orders "
                                            "WHERE user_id = ? ORDER BY created", (user_id,))]

    # ---- feedback ------------------------------------------------------------------------------
    def add_feedback(self, session: Session, turn_index: int, rating: int, comment: str = "") -> None:
        """Thumbs up (+1) or down (-1) on one turn, with an optional comment (stored redacted)."""
        if rating not in (-1, 0, 1):
            raise ValueError(f"rating must be -1, 0 or +1, got {rating}")
        if not 0 <= turn_index < len(session.turns):
            raise ValueError(f"no turn {turn_index} in this session ({len(session.turns)} turns)")
        session.turns[turn_index].feedback = rating
        owner = _owner(session.user_id)
        with self._write() as db:
            self._touch(db, session)
            db.execute("INSERT INTO feedback (owner, session_id, turn_seq, rating, comment, ts) VALUES (?,?,?,?,?,?)",
                       (owner, session.session_id, turn_index, rating, redact(comment or ""), time.time()))
            db.execute("UPDATE turns SET feedback = ? WHERE owner = ? AND session_id = ? AND seq = ?",
                       (rating, owner, session.session_id, turn_index))

    def feedback(self, user_id: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE owner = ? ", (_owner(user_id),)) if user_id is not None else ("", ())
        rows = self._db().execute("SELECT owner, session_id, turn_seq, rating, comment, ts FROM feedback "
                                  + where + "ORDER BY id", args)
        return [dict(zip(("user_id", "session_id", "turn_seq", "rating", "comment", "ts"), r)) for r in rows]


def _owner(user_id: str | None) -> str:
    return user_id or ""


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())
