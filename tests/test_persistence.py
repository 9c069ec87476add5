"""Durable sessions: restarts and `kill -9` lose no committed cart change or message; threads and processes
sharing one database do not corrupt each other. Every test that takes `store_target` runs twice: on a
SQLite file and on a throw-away Postgres database (tests/postgres.py)."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from assistant.engine import Assistant
from assistant.persistence import SessionStore
from assistant.store_schema import MIGRATIONS
from assistant.session import Session, Turn
from retrieval.schema import Order, OrderItem, Product
from retrieval.search import ProductIndex
from retrieval.store import Store

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = [
    Product("PE001", "Auralis Pods wireless bluetooth earbuds", "30 hour battery", ["Electronics", "Headphones"],
            "Auralis", 1299, "INR", 1999, 4.3, 120),
    Product("PE002", "Voltix Buds true wireless earbuds", "IPX5", ["Electronics", "Headphones"], "Voltix", 999, "INR",
            1499, 3.9, 80),
    Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon", 899, "INR",
            1200, 4.1, 300),
    Product("PC001", "Wayona USB C braided charging cable", "60W", ["Electronics", "Cables"], "Wayona", 299, "INR",
            699, 4.4, 900),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    store = Store(products={p.product_id: p for p in PRODUCTS},
                  orders={"O10001": Order("O10001", "U1", [OrderItem("PE001", 1, 1299)], "shipped")})
    path = tmp_path_factory.mktemp("idx")
    ProductIndex.build(store).save(path)
    return path


@pytest.fixture(scope="module")
def index(index_dir):
    return ProductIndex.load(index_dir)


def test_sqlite_is_in_wal_mode_and_schema_is_idempotent(tmp_path):
    SessionStore(tmp_path / "s.db")
    SessionStore(tmp_path / "s.db")  # a second open (another process, a restart) changes nothing
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [m.version for m in MIGRATIONS]


def test_restart_restores_cart_turns_and_references(index, store_target):
    a = Assistant(index, sessions=SessionStore(store_target))
    s = a.new_session("U1")
    a.turn(s, "wireless earbuds")
    shown = list(s.last_shown)
    a.turn(s, "add PK001 to my cart")
    assert shown and s.cart == {"PK001": 1}
    # a new process: new store object, new assistant
    b = Assistant(index, sessions=SessionStore(store_target))
    r = b.new_session("U1", session_id=s.session_id)
    assert r.cart == {"PK001": 1} and r.last_shown == shown
    assert [t.user for t in r.turns] == ["wireless earbuds", "add PK001 to my cart"]
    assert [t.reply for t in r.turns] == [t.reply for t in s.turns] and r.turns[1].tool_calls[0]["name"] == "add_to_cart"
    res = b.turn(r, "add the first one to my cart")  # "the first one" still means what was shown before
    assert res.tool_calls[0]["arguments"]["product_id"] == shown[0]
    assert b.sessions.cart(r) == {"PK001": 1, shown[0]: 1}
    assert b.new_session("U1", session_id="no-such-session").turns == []


def test_cart_change_is_committed_before_the_tool_returns(index, store_target):
    from assistant.tools import TOOLS, ToolContext

    store, other = SessionStore(store_target), SessionStore(store_target)
    s = Session(user_id="U1")
    seen = []

    def persist(pid, qty):
        store.set_cart_item(s, pid, qty)
        seen.append(list(other.cart(s).items()))  # another connection (another replica) sees it at once

    TOOLS["add_to_cart"](ToolContext(index, s, persist_cart=persist), {"product_id": "PC001", "quantity": 3})
    assert seen == [[("PC001", 3)]] and s.cart == {"PC001": 3}


def test_a_failing_store_leaves_the_cart_unchanged_and_says_so(index, store_target):
    from assistant.tools import TOOLS, ToolContext

    s = Session(user_id="U1", cart={"PE001": 1})

    def broken(pid, qty):
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        TOOLS["add_to_cart"](ToolContext(index, s, persist_cart=broken), {"product_id": "PC001", "quantity": 1})
    assert s.cart == {"PE001": 1}
    a = Assistant(index, sessions=SessionStore(store_target))
    s2 = a.new_session("U1")
    a.sessions.set_cart_item = lambda *args: broken(None, None)
    res = a.turn(s2, "add PC001 to my cart")
    assert s2.cart == {} and "couldn't complete" in res.text and "Traceback" not in res.text


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from assistant.engine import Assistant, AssistantConfig
    from assistant.llm.scripted import ScriptedBackend
    from assistant.persistence import SessionStore
    from retrieval.search import ProductIndex

    index_dir, db, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def block(messages, tools):  # the second answer never finishes: the process is killed mid-turn
        marker.write_text(session.session_id)
        time.sleep(300)
        return "never"

    backend = ScriptedBackend(["Added it to your cart.", block])
    config = AssistantConfig(router="plan", answer_style="full")  # the model phrases each answer
    a = Assistant(ProductIndex.load(index_dir), backend, config=config, sessions=SessionStore(db))
    session = a.new_session("U1")
    a.turn(session, "add PK001 to my cart")
    a.turn(session, "add 2 units of PC001 to my cart")
""")


def test_kill_9_mid_turn_loses_no_committed_cart_change_or_message(index, index_dir, tmp_path, store_target):
    db, marker = store_target, tmp_path / "blocked"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, str(script), str(index_dir), db, str(marker)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert child.poll() is None, child.stdout.read().decode()[-2000:]
            assert time.time() < deadline, "the child never reached the blocking turn"
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    restarted = Assistant(index, sessions=SessionStore(db))
    s = restarted.new_session("U1", session_id=marker.read_text())
    assert s.cart == {"PK001": 1, "PC001": 2}                    # both committed cart changes survived
    assert [t.user for t in s.turns] == ["add PK001 to my cart", "add 2 units of PC001 to my cart"]
    assert s.turns[0].reply and s.turns[1].reply == ""         # the interrupted turn's message is kept
    res = restarted.turn(s, "what's in my cart?")
    assert "Pigeon" in res.text and "Wayona" in res.text


def _writer(db: str, owner: str, n: int) -> None:
    store = SessionStore(db)
    s = Session(user_id=owner, session_id="shared-id")  # the same session id for every owner
    for i in range(n):
        store.set_cart_item(s, f"P{i:04d}", i + 1)
        store.begin_turn(s, f"turn {i} of {owner}")
        s.turns.append(Turn(user=f"turn {i} of {owner}", reply="ok"))
        store.finish_turn(s)


def test_concurrent_threads_and_processes_do_not_corrupt_each_other(store_target):
    db = store_target
    SessionStore(db)
    threads = [threading.Thread(target=_writer, args=(db, f"T{k}", 25)) for k in range(6)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db, f"P{k}", 25)) for k in range(3)]
    for w in threads + procs:
        w.start()
    for t in threads:
        t.join(120)
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = SessionStore(db)
    for owner in [f"T{k}" for k in range(6)] + [f"P{k}" for k in range(3)]:
        s = store.load("shared-id", owner)
        assert s.cart == {f"P{i:04d}": i + 1 for i in range(25)}, owner
        assert [t.user for t in s.turns] == [f"turn {i} of {owner}" for i in range(25)], owner
    if not db.startswith("postgresql"):
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_concurrent_assistant_sessions_keep_their_own_carts(index, store_target):
    a = Assistant(index, sessions=SessionStore(store_target))
    errors, sessions = [], {}

    def shopper(user: str, pid: str):
        try:
            s = a.new_session(user)
            sessions[user] = s
            for _ in range(3):
                a.turn(s, f"add {pid} to my cart")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    pids = ["PE001", "PE002", "PK001", "PC001"]
    threads = [threading.Thread(target=shopper, args=(f"U{k}", pids[k])) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    for k in range(4):
        s = sessions[f"U{k}"]
        assert s.cart == {pids[k]: 3} and a.sessions.cart(s) == {pids[k]: 3}


def test_orders_and_feedback(store_target):
    store = SessionStore(store_target)
    s = Session(user_id="U1")
    with pytest.raises(ValueError, match="empty"):
        store.place_order(s, {})
    store.set_cart_item(s, "PK001", 2)
    store.set_cart_item(s, "PC001", 1)
    s.cart = store.cart(s)
    order = store.place_order(s, {"PK001": 899.0, "PC001": 299.0})
    assert order["total"] == 2097.0 and s.cart == {} and store.cart(s) == {}
    assert [o["order_id"] for o in store.orders_of("U1")] == [order["order_id"]] and store.orders_of("U2") == []
    s.turns.append(Turn(user="hi", reply="hello"))
    store.begin_turn(s, "hi")
    store.finish_turn(s)
    store.add_feedback(s, 0, -1, "call me on 9876543210")
    assert store.feedback("U1")[0]["comment"] == "call me on [PHONE]" and store.feedback("U2") == []
    assert store.load(s.session_id, "U1").turns[0].feedback == -1
    with pytest.raises(ValueError):
        store.add_feedback(s, 5, 1)
