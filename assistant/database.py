"""Database engines for the session store: one SQLAlchemy Core engine per store URL, SQLite or Postgres.

`store_url("sessions.db")` -> `sqlite:///sessions.db`; `store_url("postgresql://u:p@host/db")` ->
`postgresql+psycopg://...` (psycopg 3). SQLite files run in WAL mode with `synchronous=FULL`; a write
transaction there starts with `BEGIN IMMEDIATE` (the writer lock is taken at once, so two writers never
deadlock upgrading a read lock). Postgres runs at READ COMMITTED; the store serialises writes to one
session by locking that session's row first.

`upsert()` is the one dialect-specific statement the store needs (`INSERT ... ON CONFLICT DO UPDATE`
has the same shape in both dialects). Knows connections and dialects; nothing about sessions or carts.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

INSTALL_HINT = "pip install 'shopassist[postgres]'"


def store_url(target: str | Path) -> str:
    """The SQLAlchemy URL for a store target: a SQLite path, a `sqlite:///` URL or a `postgresql://` URL."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith(("postgresql+", "sqlite:")):
        return text
    if "://" in text:
        raise ValueError(f"unsupported session store URL {text!r}: give a SQLite file path or a postgresql:// URL")
    return "sqlite:///" + str(Path(text))


def is_postgres(target: str | Path) -> bool:
    return store_url(target).startswith("postgresql")


def make_engine(target: str | Path, timeout_s: float = 10.0, pool_size: int = 5):
    """A SQLAlchemy engine for the target (see the module docstring for what each dialect gets)."""
    import sqlalchemy as sa

    url = store_url(target)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": timeout_s, "check_same_thread": False})
        _sqlite_events(engine, timeout_s)
        return engine
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        raise ImportError(f"a postgresql:// session store needs psycopg 3: {INSTALL_HINT}") from e
    return sa.create_engine(url, pool_size=pool_size, max_overflow=2 * pool_size, pool_pre_ping=True,
                            pool_timeout=timeout_s * 3, connect_args={"connect_timeout": max(1, int(timeout_s))})


def _sqlite_events(engine, timeout_s: float) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # the driver's own implicit BEGIN off: ours below decides the kind
        for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={int(timeout_s * 1000)}"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def upsert(conn, table, values: dict[str, Any], keys: list[str], update: list[str]):
    """INSERT the row, or UPDATE the `update` columns of the row with the same `keys`."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values)
    if not update:
        return conn.execute(stmt.on_conflict_do_nothing(index_elements=keys))
    return conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                                   set_={c: stmt.excluded[c] for c in update}))


class EngineHolder:
    """One engine per process: a forked child drops the parent's pooled connections and opens its own."""

    def __init__(self, target: str | Path, timeout_s: float = 10.0):
        self.target, self.timeout_s = target, timeout_s
        self._engine, self._pid = None, None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._engine is None:
                self._engine, self._pid = make_engine(self.target, self.timeout_s), os.getpid()
            elif self._pid != os.getpid():
                self._engine.dispose(close=False)  # the parent's sockets stay the parent's
                self._pid = os.getpid()
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
