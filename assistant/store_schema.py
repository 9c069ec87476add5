"""The session store's tables and their versioned migrations (SQLAlchemy Core, SQLite and Postgres alike).

`schema_version` records each applied migration (version, description, when). `migrate(engine)` applies
the missing ones in order, each in its own transaction, under a lock that makes concurrent starts safe
(Postgres: an advisory transaction lock; SQLite: `BEGIN IMMEDIATE`): two replicas starting at once apply
each migration exactly once. DDL is transactional in both engines, so a failed migration leaves nothing.

Adding a table or column: append a `Migration(next_version, "what it adds", fn)` to `MIGRATIONS`, where
`fn(conn)` creates it with SQLAlchemy (`table.create(conn, checkfirst=True)` for a table declared on
`METADATA`, or `add_column(conn, ...)`); never edit a migration that has shipped. See docs/DEPLOY.md.

Knows table shapes; nothing about sessions' meaning (see `assistant.persistence`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

METADATA = sa.MetaData()
_T, _F, _I = sa.Text, sa.Float, sa.Integer

SCHEMA_VERSION = sa.Table(
    "schema_version", METADATA,
    sa.Column("version", _I, primary_key=True, autoincrement=False),
    sa.Column("description", _T), sa.Column("applied", _F))

SESSIONS = sa.Table(
    "sessions", METADATA,
    sa.Column("owner", _T, primary_key=True), sa.Column("session_id", _T, primary_key=True),
    sa.Column("created", _F), sa.Column("updated", _F), sa.Column("lang", _T),
    sa.Column("last_shown", _T, server_default="[]"), sa.Column("last_search", _T, server_default="{}"),
    sa.Column("service", _T))  # migration 5: the after-sales conversation's state (JSON), or NULL

CART_ITEMS = sa.Table(
    "cart_items", METADATA,
    sa.Column("owner", _T, primary_key=True), sa.Column("session_id", _T, primary_key=True),
    sa.Column("product_id", _T, primary_key=True),
    sa.Column("quantity", _I, sa.CheckConstraint("quantity > 0"), nullable=False), sa.Column("updated", _F),
    sa.Column("added", sa.BigInteger, server_default="0"))  # migration 2: insertion order, nanoseconds

TURNS = sa.Table(
    "turns", METADATA,
    sa.Column("owner", _T, primary_key=True), sa.Column("session_id", _T, primary_key=True),
    sa.Column("seq", _I, primary_key=True, autoincrement=False),
    *[sa.Column(c, _T) for c in ("user_text", "reply", "intent", "lang", "products", "focus", "tool_calls")],
    sa.Column("refused", _I), sa.Column("no_match", _I), sa.Column("feedback", _I, server_default="0"),
    sa.Column("complete", _I, server_default="0"), sa.Column("ts", _F))

ORDERS = sa.Table(
    "orders", METADATA,
    sa.Column("order_id", _T, primary_key=True), sa.Column("user_id", _T, nullable=False),
    sa.Column("session_id", _T), sa.Column("items", _T), sa.Column("total", _F), sa.Column("status", _T),
    sa.Column("created", _F), sa.Index("orders_by_user", "user_id"))

FEEDBACK = sa.Table(
    "feedback", METADATA,
    sa.Column("id", _I, primary_key=True, autoincrement=True), sa.Column("owner", _T, nullable=False),
    sa.Column("session_id", _T), sa.Column("turn_seq", _I), sa.Column("rating", _I), sa.Column("comment", _T),
    sa.Column("ts", _F))

API_KEYS = sa.Table(  # migration 3: who may call the HTTP API (ui/auth.py); the secret itself is never stored
    "api_keys", METADATA,
    sa.Column("key_id", _T, primary_key=True), sa.Column("key_hash", _T, nullable=False, unique=True),
    sa.Column("user_id", _T), sa.Column("role", _T, nullable=False), sa.Column("rate_per_min", _I),
    sa.Column("created", _F), sa.Column("revoked", _F))

# migration 4: after-sales service (assistant/service/records.py): changed order and user records, the log of
# executed writes, hand-offs to a person
SERVICE_RECORDS = sa.Table(
    "service_records", METADATA,
    sa.Column("owner", _T, primary_key=True), sa.Column("kind", _T, primary_key=True),
    sa.Column("key", _T, primary_key=True), sa.Column("data", _T, nullable=False), sa.Column("updated", _F),
    sa.Index("service_records_by_key", "kind", "key"))

SERVICE_ACTIONS = sa.Table(
    "service_actions", METADATA,
    sa.Column("id", _I, primary_key=True, autoincrement=True), sa.Column("owner", _T, nullable=False),
    sa.Column("session_id", _T), sa.Column("name", _T, nullable=False), sa.Column("arguments", _T),
    sa.Column("result", _T), sa.Column("confirmed_by", _T), sa.Column("ts", _F))

SERVICE_HANDOFFS = sa.Table(
    "service_handoffs", METADATA,
    sa.Column("id", _I, primary_key=True, autoincrement=True), sa.Column("owner", _T, nullable=False),
    sa.Column("session_id", _T), sa.Column("summary", _T), sa.Column("transcript", _T),
    sa.Column("status", _T, server_default="open"), sa.Column("ts", _F))


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def add_column(conn: sa.Connection, table: sa.Table, column: str) -> None:
    """ALTER TABLE ... ADD COLUMN for a column declared on `table`, unless the column is already there."""
    if column in {c["name"] for c in sa.inspect(conn).get_columns(table.name)}:
        return
    col = table.c[column]
    ddl = f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type.compile(conn.dialect)}"
    if col.server_default is not None:
        ddl += f" DEFAULT {col.server_default.arg}"
    conn.exec_driver_sql(ddl)


def _v1_core_tables(conn: sa.Connection) -> None:
    """The core tables (SQLite files made before versioning already have them: nothing to do there).
    A fresh database gets the columns declared above, so a later `add_column` migration finds them present."""
    for table in (SESSIONS, CART_ITEMS, TURNS, ORDERS, FEEDBACK):
        table.create(conn, checkfirst=True)


def _v2_cart_order(conn: sa.Connection) -> None:
    add_column(conn, CART_ITEMS, "added")


MIGRATIONS: list[Migration] = [
    Migration(1, "sessions, cart_items, turns, orders, feedback", _v1_core_tables),
    Migration(2, "cart_items.added: cart lines keep their insertion order on every engine", _v2_cart_order),
    Migration(3, "api_keys: hashed API keys bound to a user or a service role",
              lambda conn: API_KEYS.create(conn, checkfirst=True)),
    Migration(4, "service_records, service_actions, service_handoffs: after-sales changes, their log, hand-offs",
              lambda conn: [t.create(conn, checkfirst=True) for t in (SERVICE_RECORDS, SERVICE_ACTIONS,
                                                                       SERVICE_HANDOFFS)]),
    Migration(5, "sessions.service: an after-sales conversation in the shopper chat keeps its state across replicas",
              lambda conn: add_column(conn, SESSIONS, "service")),
]

_PG_LOCK_KEY = 0x5E55_1017  # any constant: the advisory lock all replicas' migrations queue on


def applied_versions(conn: sa.Connection) -> set[int]:
    return {r[0] for r in conn.execute(sa.select(SCHEMA_VERSION.c.version))}


def migrate(engine: sa.Engine, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations this database lacks, in order; returns the versions applied now."""
    migrations = sorted(migrations or MIGRATIONS, key=lambda m: m.version)
    done: list[int] = []
    for m in migrations:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            SCHEMA_VERSION.create(conn, checkfirst=True)
            if m.version in applied_versions(conn):
                continue
            m.apply(conn)
            conn.execute(SCHEMA_VERSION.insert().values(version=m.version, description=m.description,
                                                        applied=time.time()))
            done.append(m.version)
    return done


def current_version(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(SCHEMA_VERSION.name):
            return 0
        return max(applied_versions(conn), default=0)
