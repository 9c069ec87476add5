"""Faults: slow, failing, hanging or babbling backends, crashing tools, missing index files, corrupt model
files and an unavailable session store each give a clear message or a degraded answer, never a hang or a
traceback in the chat."""
from __future__ import annotations

import hashlib
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.engine import Assistant, AssistantConfig
from assistant.errors import BackendError, BackendTimeout, ModelFileError, ShopAssistError
from assistant.llm.base import Generation, ToolCall
from assistant.llm.scripted import ScriptedBackend
from assistant.persistence import SessionStore
from assistant.tools import TOOLS
from retrieval.schema import Order, OrderItem, Product
from retrieval.search import ProductIndex
from retrieval.store import Store
from tests.timing import Stopwatch

PRODUCTS = [
    Product("PE001", "Auralis Pods wireless bluetooth earbuds", "30 hour battery", ["Electronics", "Headphones"],
            "Auralis", 1299, "INR", 1999, 4.3, 120),
    Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon", 899, "INR",
            1200, 4.1, 300),
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


def within(seconds: float, fn, *args):
    """Run fn in a thread; fail (instead of hanging the suite) when it takes longer than `seconds`.

    Returns fn's result and the seconds it ran or was blocked, leaving out the time its thread waited for a
    CPU (tests/timing.py), so bounds on it hold on a loaded machine; `seconds` is only a guard against hangs."""
    box: dict = {}

    def run():
        with Stopwatch() as sw:
            box["out"] = fn(*args)
        box["took"] = sw.seconds

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds}s"
    return box["out"], box["took"]


def clean(result) -> None:
    """A usable reply: non-empty, no traceback or exception text, no tool-call markup."""
    assert result.text.strip()
    for bad in ("Traceback", "Error:", "Exception", "<tool_call>", "File \""):
        assert bad not in result.text, result.text


def raising(exc):
    def reply(messages, tools):
        raise exc
    return reply


@pytest.mark.parametrize("exc", [BackendTimeout("llamacpp: no answer within 1.0s"), BackendError("server said 500")])
@pytest.mark.parametrize("router", ["llm", "auto"])
def test_backend_timeouts_and_errors_degrade_to_templated_answers(index, exc, router):
    a = Assistant(index, ScriptedBackend([raising(exc)] * 4), config=AssistantConfig(router=router))
    r, _ = within(30, a.turn, a.new_session("U1"), "wireless earbuds under 1500")
    clean(r)
    assert r.products and r.products[0]["product_id"] == "PE001" and "1,299" in r.text
    assert any(type(exc).__name__ in e or str(exc) in e for e in r.errors)


def test_a_stream_that_fails_midway_keeps_the_verified_part(index):
    class Flaky(ScriptedBackend):
        def stream(self, messages, *args, **kw):
            yield "The Auralis Pods cost ₹1,299. "
            yield "They also"
            raise BackendTimeout("cut off")

    a = Assistant(index, Flaky(), config=AssistantConfig(router="plan", answer_style="full"))
    r, _ = within(30, a.turn, a.new_session(), "wireless earbuds")
    clean(r)
    assert "₹1,299" in r.text and "They also" not in r.text and any("cut off" in e for e in r.errors)


def test_a_hanging_http_backend_times_out(index):
    """A server that accepts the connection and never answers: the call ends at the deadline."""
    from assistant.llm import load_backend

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    conns = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(server.accept()[0])  # read nothing, answer nothing
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        backend = load_backend("openai", "any", base_url=f"http://127.0.0.1:{server.getsockname()[1]}/v1",
                               max_retries=0, connect_timeout_s=1.0)
        a = Assistant(index, backend, config=AssistantConfig(router="llm", llm_timeout_s=1.5))
        r, took = within(30, a.turn, a.new_session(), "wireless earbuds")
    finally:
        stop.set()
        server.close()
        for c in conns:
            c.close()
    clean(r)
    assert r.products and took < 10
    assert sum("timeout" in e.lower() or "within" in e.lower() for e in r.errors) >= 1, r.errors


@pytest.mark.parametrize("router_reply", [
    "{{{ not json at all",
    '<tool_call>{"name": "search_products", "arguments": {"query": </tool_call>',
    '<tool_call>{"name": "delete_all_orders", "arguments": {}}</tool_call>',
    '<tool_call>{"name": "search_products", "arguments": {"query": 42, "k": "many"}}</tool_call>',
    '<tool_call>{"name": "add_to_cart", "arguments": {"product_id": "PE001", "quantity": 100000}}</tool_call>',
    "\x00\x01\x02 binary garbage \udcff",
])
@pytest.mark.parametrize("answer_reply", [
    "",
    "It costs ₹1 and has 17 stars and a 99% discount with code FREE99!",
    '<tool_call>{"name": "order_status", "arguments": {"order_id": "O10002"}}</tool_call>',
    "\ufffd\ufffd\ufffd",
])
def test_malformed_model_output_never_reaches_the_shopper(index, router_reply, answer_reply):
    model = ScriptedBackend([router_reply, router_reply, router_reply, answer_reply])
    a = Assistant(index, model, config=AssistantConfig(router="agent", answer_style="full"))
    s = a.new_session("U1")
    r, _ = within(30, a.turn, s, "show me wireless earbuds")
    clean(r)
    assert [c["name"] for c in r.tool_calls] == ["search_products"] and s.cart == {}
    assert "₹1 " not in r.text and "FREE99" not in r.text and "O10002" not in r.text


def test_a_crashing_tool_gives_an_apology_not_a_traceback(index, monkeypatch):
    tool = TOOLS["search_products"]

    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero deep inside the ranker")

    monkeypatch.setattr(tool, "function", boom)
    a = Assistant(index)
    r, _ = within(30, a.turn, a.new_session(), "wireless earbuds")
    clean(r)
    assert "internal error in search_products" in r.text and "division by zero" not in r.text
    assert r.tool_calls[0]["error"] == "internal error in search_products (ZeroDivisionError)"
    r2, _ = within(30, a.turn, a.new_session(), "add PK001 to my cart")  # other tools still work
    assert r2.cart == {"PK001": 1}


@pytest.mark.parametrize("missing", ["index/index.json", "index/vectors.npy", "index/vectors.faiss",
                                     "index/vectors.json", "store/products.jsonl"])
def test_missing_index_files_are_named(index_dir, tmp_path, missing):
    import shutil

    from assistant.app import load_assistant

    broken = tmp_path / "idx"
    shutil.copytree(index_dir, broken)
    (broken / missing).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_assistant(broken, backend="none")
    assert Path(missing).name in str(info.value)
    with pytest.raises(FileNotFoundError, match="no search index"):
        load_assistant(tmp_path / "nowhere", backend="none")


def test_a_corrupt_model_file_is_refused_with_a_clear_error(tmp_path):
    from assistant.llm import load_backend
    from assistant.model_files import assemble_parts, verify

    parts = []
    for i, chunk in enumerate([b"GGUF" + b"\x01" * 1000, b"\x02" * 1000]):
        parts.append(tmp_path / f"part{i}")
        parts[-1].write_bytes(chunk)
    good = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    dest = tmp_path / "cache" / "model.gguf"
    assert assemble_parts(parts, dest, good) == dest
    parts[1].write_bytes(b"\x03" * 1000)  # a corrupt download of one part
    dest.write_bytes(b"tampered")          # and the cached copy changed on disk: the stamp no longer matches
    with pytest.raises(ModelFileError, match="sha256"):
        assemble_parts(parts, dest, good, hint="reinstall its parts")
    assert not list(dest.parent.glob("*.tmp"))  # no half-written file left behind
    with pytest.raises(ModelFileError, match="does not match"):
        verify(dest, good)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"this is not a gguf file" * 100)
    with pytest.raises((BackendError, ModelFileError, ImportError)) as info:
        load_backend("llamacpp", str(garbage))
    assert isinstance(info.value, (ShopAssistError, ImportError)) and "garbage.gguf" in str(info.value)


def test_an_unavailable_session_store_costs_durability_not_the_answer(index, tmp_path):
    store = SessionStore(tmp_path / "s.db", timeout_s=0.2)
    a = Assistant(index, sessions=store)
    s = a.new_session("U1")
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        r, took = within(30, a.turn, s, "wireless earbuds")
        clean(r)
        assert r.products and any("session not saved" in e for e in r.errors) and took < 10
        r2, _ = within(30, a.turn, s, "add PK001 to my cart")
        clean(r2)
        assert s.cart == {} and "couldn't complete" in r2.text  # not claimed as added when not saved
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r3, _ = within(30, a.turn, s, "add PK001 to my cart")
    assert s.cart == {"PK001": 1} and store.cart(s) == {"PK001": 1} and not r3.errors
