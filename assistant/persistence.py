"""Durable sessions: carts, conversation turns, orders and feedback in one database, SQLite (default) or Postgres.

`SessionStore("sessions.db")` is a SQLite file in WAL mode (one machine); `SessionStore("postgresql://...")`
is a Postgres database that several API replicas share. Both go through the same SQLAlchemy Core code
(`assistant.database` for engines, `assistant.store_schema` for the tables and versioned migrations).

Every write is its own committed transaction, so a cart change is in the database before the tool that
made it returns, and a shopper's message is in it before the turn that answers it starts; a crash or
`kill -9` mid-turn loses neither. Many threads and processes (and, on Postgres, machines) may share one
store. SQLite: writers queue on the file's lock (`timeout_s`; threads of one process on an in-process lock
first). Postgres: every write to a session first locks that session's row, so writes to one session are
serialised across replicas while different sessions write in parallel.

Every row is keyed by the session's owner as well as its id (`owner` = the user id, "" for a guest),
and every query names the owner taken from the `Session` (which the authenticated caller built), so a
guessed or leaked session id never opens someone else's cart or conversation: for another user it is
simply a different, empty session. (Guest sessions are as private as their id.)
Free text (messages, replies, tool arguments, feedback comments) is stored redacted (`assistant.pii`).

Knows sessions and SQL; nothing about models, tools' behaviour or the UI.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa

from assistant.database import EngineHolder, store_url, upsert
from assistant.pii import redact, redact_obj
from assistant.session import Session, Turn
from assistant.store_schema import CART_ITEMS, FEEDBACK, ORDERS, SESSIONS, TURNS, migrate

_TURN_COLS = ("user_text", "reply", "intent", "lang", "products", "focus", "tool_calls", "refused", "no_match",
              "feedback", "ts")


class StoreBusy(RuntimeError):
    """No write slot within the store's timeout."""


class SessionStore:
    def __init__(self, target: str | Path, timeout_s: float = 10.0):
        """`target`: a SQLite file path (created if missing) or a `postgresql://` URL."""
        self.url = store_url(target)
        self.path = Path(self.url.split("sqlite:///", 1)[1]) if self.url.startswith("sqlite:///") else None
        self.timeout_s = timeout_s
        self._engines = EngineHolder(target, timeout_s)
        migrate(self._engine())  # versioned, under a lock: safe when replicas start together

    @property
    def dialect(self) -> str:
        return "sqlite" if self.path is not None else "postgresql"

    # ---- connections ---------------------------------------------------------------------------
    def _engine(self) -> sa.Engine:
        return self._engines.get()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine().connect() as conn:
            if self.dialect == "postgresql":  # one snapshot for the several SELECTs of a load
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        # SQLite: threads of one process queue on a lock (in order) rather than on SQLite's polling busy
        # handler, which starves some writers under many threads; other processes wait up to timeout_s
        lock = _writer_lock(self.path) if self.path is not None else None
        if lock is not None and not lock.acquire(timeout=self.timeout_s):
            raise StoreBusy(f"session store busy: no write slot within {self.timeout_s:g}s")
        try:
            with self._engine().connect().execution_options(write=True) as conn, conn.begin():
                yield conn
        finally:
            if lock is not None:
                lock.release()

    def ping(self) -> None:
        """Raise when the database cannot be reached (readiness checks)."""
        with self._engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self._engines.dispose()

    # ---- sessions ------------------------------------------------------------------------------
    def _touch(self, db: sa.Connection, session: Session) -> None:
        """Create or touch the session's row; on Postgres this also locks it until the transaction ends."""
        now = time.time()
        upsert(db, SESSIONS, {"owner": _owner(session.user_id), "session_id": session.session_id, "created": now,
                              "updated": now, "lang": session.lang}, ["owner", "session_id"], ["updated"])

    @staticmethod
    def _key(table: sa.Table, user_id: str | None, session_id: str):
        return sa.and_(table.c.owner == _owner(user_id), table.c.session_id == session_id)

    def exists(self, session_id: str, user_id: str | None) -> bool:
        with self._read() as db:
            return db.execute(sa.select(SESSIONS.c.owner).where(self._key(SESSIONS, user_id, session_id))).first() \
                is not None

    def load(self, session_id: str, user_id: str | None) -> Session | None:
        """The saved session `session_id` of this user; None when this user has none by that id."""
        with self._read() as db:
            row = db.execute(sa.select(SESSIONS.c.lang, SESSIONS.c.last_shown, SESSIONS.c.last_search, SESSIONS.c.service)
                             .where(self._key(SESSIONS, user_id, session_id))).first()
            if row is None:
                return None
            session = Session(user_id=user_id, session_id=session_id, lang=row[0] or "en",
                              last_shown=json.loads(row[1] or "[]"), last_search=json.loads(row[2] or "{}"),
                              service=json.loads(row[3]) if row[3] else None)
            session.cart = self._cart(db, user_id, session_id)
            rows = db.execute(sa.select(*[TURNS.c[c] for c in _TURN_COLS])
                              .where(self._key(TURNS, user_id, session_id)).order_by(TURNS.c.seq)).all()
        session.turns = [_turn(r) for r in rows]
        return session

    def refresh(self, session: Session) -> Session:
        """Bring an in-memory session up to date with the store (another replica may have served its last
        turns), in place; a session the store does not know is left as it is."""
        saved = self.load(session.session_id, session.user_id)
        if saved is not None:
            for name in ("turns", "cart", "last_shown", "last_search", "lang", "service"):
                setattr(session, name, getattr(saved, name))
        return session

    def sessions_of(self, user_id: str | None) -> list[str]:
        """Session ids of one user, most recently updated first."""
        with self._read() as db:
            return list(db.execute(sa.select(SESSIONS.c.session_id).where(SESSIONS.c.owner == _owner(user_id))
                                   .order_by(SESSIONS.c.updated.desc())).scalars())

    # ---- cart ----------------------------------------------------------------------------------
    def _cart(self, db: sa.Connection, user_id: str | None, session_id: str) -> dict[str, int]:
        rows = db.execute(sa.select(CART_ITEMS.c.product_id, CART_ITEMS.c.quantity)
                          .where(self._key(CART_ITEMS, user_id, session_id))
                          .order_by(CART_ITEMS.c.added, CART_ITEMS.c.product_id))
        return {pid: q for pid, q in rows}

    def cart(self, session: Session) -> dict[str, int]:
        with self._read() as db:
            return self._cart(db, session.user_id, session.session_id)

    def set_cart_item(self, session: Session, product_id: str, quantity: int) -> None:
        """Commit one cart line (quantity 0 removes it) before returning."""
        key = self._key(CART_ITEMS, session.user_id, session.session_id)
        with self._write() as db:
            self._touch(db, session)
            if quantity <= 0:
                db.execute(CART_ITEMS.delete().where(key, CART_ITEMS.c.product_id == product_id))
                return
            upsert(db, CART_ITEMS, {"owner": _owner(session.user_id), "session_id": session.session_id,
                                    "product_id": product_id, "quantity": int(quantity), "updated": time.time(),
                                    "added": time.time_ns()},
                   ["owner", "session_id", "product_id"], ["quantity", "updated"])

    def cart_saver(self, session: Session):
        """The callback `add_to_cart` calls with (product_id, new quantity) before it returns."""
        return lambda product_id, quantity: self.set_cart_item(session, product_id, quantity)

    # ---- turns ---------------------------------------------------------------------------------
    def _save_turn(self, db: sa.Connection, session: Session, seq: int, values: dict[str, Any]) -> None:
        row = {"owner": _owner(session.user_id), "session_id": session.session_id, "seq": seq, **values}
        upsert(db, TURNS, row, ["owner", "session_id", "seq"], [c for c in row if c not in ("owner", "session_id",
                                                                                          "seq")])

    def begin_turn(self, session: Session, text: str) -> int:
        """Store the shopper's message before the turn runs; returns its sequence number."""
        seq = len(session.turns)
        with self._write() as db:
            self._touch(db, session)
            self._save_turn(db, session, seq, {"user_text": redact(text), "lang": session.lang, "complete": 0,
                                               "ts": time.time()})
        return seq

    def finish_turn(self, session: Session, seq: int | None = None) -> None:
        """Store the session's last turn (reply, tools, products) and its state, in one transaction."""
        turn = session.turns[-1]
        seq = len(session.turns) - 1 if seq is None else seq
        calls = [{k: v for k, v in c.items() if k != "result"} for c in turn.tool_calls]
        with self._write() as db:
            self._touch(db, session)
            self._save_turn(db, session, seq, {
                "user_text": redact(turn.user), "reply": redact(turn.reply), "intent": turn.intent, "lang": turn.lang,
                "products": json.dumps(turn.products), "focus": json.dumps(turn.focus),
                "tool_calls": json.dumps(redact_obj(calls), ensure_ascii=False, default=str),
                "refused": int(turn.refused), "no_match": int(turn.no_match), "feedback": turn.feedback,
                "complete": 1, "ts": turn.ts})
            db.execute(SESSIONS.update().where(self._key(SESSIONS, session.user_id, session.session_id)).values(
                lang=session.lang, last_shown=json.dumps(session.last_shown),
                last_search=json.dumps(redact_obj(session.last_search), ensure_ascii=False, default=str),
                service=json.dumps(session.service, ensure_ascii=False, default=str) if session.service else None))

    # ---- orders --------------------------------------------------------------------------------
    def place_order(self, session: Session, prices: dict[str, float]) -> dict[str, Any]:
        """Turn the stored cart into an order and empty the cart, atomically; ValueError on an empty cart."""
        if session.user_id is None:
            raise ValueError("placing an order needs a signed-in shopper")
        order_id = "W" + uuid.uuid4().hex[:10].upper()
        with self._write() as db:
            self._touch(db, session)  # locks the session: no cart line can change under the order
            lines = list(self._cart(db, session.user_id, session.session_id).items())
            if not lines:
                raise ValueError("the cart is empty")
            items = [{"product_id": p, "quantity": q, "unit_price": prices.get(p)} for p, q in lines]
            total = round(sum((i["unit_price"] or 0) * i["quantity"] for i in items), 2)
            db.execute(ORDERS.insert().values(order_id=order_id, user_id=session.user_id,
                                              session_id=session.session_id, items=json.dumps(items), total=total,
                                              status="processing", created=time.time()))
            db.execute(CART_ITEMS.delete().where(self._key(CART_ITEMS, session.user_id, session.session_id),
                                                 CART_ITEMS.c.product_id.in_([p for p, _ in lines])))
        session.cart.clear()
        return {"order_id": order_id, "items": items, "total": total, "status": "processing"}

    def orders_of(self, user_id: str) -> list[dict[str, Any]]:
        with self._read() as db:
            rows = db.execute(sa.select(ORDERS.c.order_id, ORDERS.c["items"], ORDERS.c.total, ORDERS.c.status,
                                        ORDERS.c.created).where(ORDERS.c.user_id == user_id)
                              .order_by(ORDERS.c.created)).all()
        return [{"order_id": r[0], "items": json.loads(r[1]), "total": r[2], "status": r[3], "created": r[4]}
                for r in rows]

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
            db.execute(FEEDBACK.insert().values(owner=owner, session_id=session.session_id, turn_seq=turn_index,
                                                rating=rating, comment=redact(comment or ""), ts=time.time()))
            db.execute(TURNS.update().where(self._key(TURNS, session.user_id, session.session_id),
                                            TURNS.c.seq == turn_index).values(feedback=rating))

    def feedback(self, user_id: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(FEEDBACK.c.owner, FEEDBACK.c.session_id, FEEDBACK.c.turn_seq, FEEDBACK.c.rating,
                          FEEDBACK.c.comment, FEEDBACK.c.ts).order_by(FEEDBACK.c.id)
        if user_id is not None:
            query = query.where(FEEDBACK.c.owner == _owner(user_id))
        with self._read() as db:
            rows = db.execute(query).all()
        return [dict(zip(("user_id", "session_id", "turn_seq", "rating", "comment", "ts"), r)) for r in rows]


def _turn(r) -> Turn:
    return Turn(user=r[0] or "", reply=r[1] or "", intent=r[2] or "", lang=r[3] or "en",
                products=json.loads(r[4] or "[]"), focus=json.loads(r[5] or "[]"), tool_calls=json.loads(r[6] or "[]"),
                refused=bool(r[7]), no_match=bool(r[8]), feedback=r[9] or 0, ts=r[10] or 0.0)


def _owner(user_id: str | None) -> str:
    return user_id or ""


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())
