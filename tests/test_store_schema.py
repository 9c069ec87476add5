"""Versioned migrations of the session store: applied once, in order, safely when replicas start together,
and a SQLite file made before versioning is upgraded in place without losing its rows."""
from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from assistant.database import make_engine, store_url
from assistant.persistence import SessionStore
from assistant.session import Session
from assistant.store_schema import METADATA, MIGRATIONS, Migration, current_version, migrate

LEGACY_SCHEMA = """
CREATE TABLE sessions (owner TEXT NOT NULL, session_id TEXT NOT NULL, created REAL, updated REAL, lang TEXT,
    last_shown TEXT DEFAULT '[]', last_search TEXT DEFAULT '{}', PRIMARY KEY (owner, session_id));
CREATE TABLE cart_items (owner TEXT NOT NULL, session_id TEXT NOT NULL, product_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0), updated REAL, PRIMARY KEY (owner, session_id, product_id));
CREATE TABLE turns (owner TEXT NOT NULL, session_id TEXT NOT NULL, seq INTEGER NOT NULL, user_text TEXT, reply TEXT,
    intent TEXT, lang TEXT, products TEXT, focus TEXT, tool_calls TEXT, refused INTEGER, no_match INTEGER,
    feedback INTEGER DEFAULT 0, complete INTEGER DEFAULT 0, ts REAL, PRIMARY KEY (owner, session_id, seq));
CREATE TABLE orders (order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT, items TEXT, total REAL,
    status TEXT, created REAL);
CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, session_id TEXT, turn_seq INTEGER,
    rating INTEGER, comment TEXT, ts REAL);
INSERT INTO sessions VALUES ('U1', 's1', 0, 0, 'en', '[]', '{}');
INSERT INTO cart_items VALUES ('U1', 's1', 'PK001', 2, 0);
"""


def test_a_pre_versioning_sqlite_file_is_upgraded_in_place(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:
        con.executescript(LEGACY_SCHEMA)
    store = SessionStore(db)
    assert store.cart(Session(user_id="U1", session_id="s1")) == {"PK001": 2}
    store.set_cart_item(Session(user_id="U1", session_id="s1"), "PC001", 1)
    assert list(store.cart(Session(user_id="U1", session_id="s1"))) == ["PK001", "PC001"]
    assert current_version(make_engine(db)) == max(m.version for m in MIGRATIONS)


def test_concurrent_starts_apply_each_migration_once(store_target):
    errors = []

    def start():
        try:
            SessionStore(store_target)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with make_engine(store_target).connect() as conn:
        versions = [r[0] for r in conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))]
    assert versions == sorted(m.version for m in MIGRATIONS)


def test_a_new_migration_adds_its_table_once_and_keeps_the_data(store_target):
    store = SessionStore(store_target)
    store.set_cart_item(Session(user_id="U1", session_id="s1"), "PK001", 1)
    extra = sa.Table("returns_test", sa.MetaData(), sa.Column("return_id", sa.Text, primary_key=True),
                     sa.Column("order_id", sa.Text, nullable=False))
    new = Migration(len(MIGRATIONS) + 1, "returns", lambda conn: extra.create(conn, checkfirst=True))
    engine = make_engine(store_target)
    assert migrate(engine, MIGRATIONS + [new]) == [new.version]
    assert migrate(engine, MIGRATIONS + [new]) == []  # applied once
    with engine.begin() as conn:
        conn.execute(extra.insert().values(return_id="R1", order_id="W1"))
    assert SessionStore(store_target).cart(Session(user_id="U1", session_id="s1")) == {"PK001": 1}


def test_a_failing_migration_leaves_no_trace(store_target):
    SessionStore(store_target)
    t = sa.Table("half_made", sa.MetaData(), sa.Column("x", sa.Integer))

    def broken(conn):
        t.create(conn)
        raise RuntimeError("bad migration")

    engine = make_engine(store_target)
    with pytest.raises(RuntimeError):
        migrate(engine, MIGRATIONS + [Migration(99, "broken", broken)])
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("half_made")  # DDL rolled back with the version row
    assert current_version(engine) == max(m.version for m in MIGRATIONS)


def test_store_urls():
    assert store_url("a/b.db") == "sqlite:///a/b.db"
    assert store_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with pytest.raises(ValueError, match="mysql"):
        store_url("mysql://u@h/db")
    assert {t.name for t in METADATA.sorted_tables} >= {"sessions", "cart_items", "turns", "orders", "feedback"}
