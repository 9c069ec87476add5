"""The OpenAI-compatible API, driven by the official `openai` client against a real uvicorn server."""
from __future__ import annotations

import fcntl
import hashlib
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest


ROOT = Path(__file__).resolve().parents[1]
MODEL = "shopassist-test"  # the model the test server serves: any other name is a 404, as on OpenAI servers
# a uvicorn server over the demo index (about 20 s of CPU to build on a fresh machine): .ci/run runs it
pytestmark = pytest.mark.slow


def demo_index_dir() -> Path:
    """A small demo index (150 products, 80 shoppers, 30 service conversations) with its insight models,
    built once per machine under the temp folder and rebuilt when the code that makes it changes."""
    from ui.commands.demo import ensure_demo_index

    sources = sorted([*ROOT.glob("retrieval/*.py"), *ROOT.glob("assistant/insights/*.py"), ROOT / "ui/commands/demo.py",
                      *ROOT.glob("ui/commands/train.py")])
    key = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    directory = Path(tempfile.gettempdir()) / f"shopassist-test-demo-{key}"
    with open(str(directory) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test processes share one build
        return ensure_demo_index(directory, n_products=150, n_users=80)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving an app in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def index_dir() -> Path:
    return demo_index_dir()


@pytest.fixture(scope="module")
def base_url(index_dir):
    from assistant.agent_assist import AgentModels
    from assistant.app import load_assistant
    from ui.api import create_app

    assistant = load_assistant(index_dir, backend="none")
    app = create_app(assistant, AgentModels(assistant.index.store, index_dir / "models", insights=assistant.insights),
                     model_name=MODEL)
    with Server(app) as url:
        yield url


@pytest.fixture()
def client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0, timeout=120)


def some_user(index_dir, with_orders: bool = True) -> tuple[str, str]:
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    order = next(o for o in store.orders.values() if o.status == "shipped")
    return order.user_id, order.order_id


def names_first(ext: dict, text: str) -> bool:
    """The reply names the first product shown (its title's opening words; long titles are cut in lists)."""
    return " ".join(ext["products"][0]["title"].split()[:4]) in text


def test_models_and_health(client, base_url):
    assert [m.id for m in client.models.list().data] == ["shopassist-test", "shopassist"]
    health = httpx.get(base_url + "/healthz").json()
    assert health["status"] == "ok" and health["products"] == 150


def test_non_streaming_completion_with_products_and_extension(client):
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "running shoes"}],
                                       extra_headers={"X-Session-Id": "t-nonstream"})
    assert r.object == "chat.completion" and r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.content
    ext = r.model_extra["shopassist"]
    assert ext["intent"] == "browse" and not ext["refused"] and not ext["no_match"]
    assert [c["name"] for c in ext["tool_calls"]] == ["search_products"]
    assert ext["products"] and all("Running Shoes" in p["category"] for p in ext["products"][:2])
    assert names_first(ext, r.choices[0].message.content)
    assert r.usage.total_tokens >= r.usage.completion_tokens > 0


def test_streaming_completion_matches_and_ends_with_extension(client):
    stream = client.chat.completions.create(model=MODEL, stream=True, extra_headers={"X-Session-Id": "t-stream"},
                                            messages=[{"role": "user", "content": "power bank"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    tools = [c.model_extra["shopassist"]["tool"] for c in chunks if "tool" in (c.model_extra.get("shopassist") or {})]
    assert [(t["name"], t["status"]) for t in tools] == [("search_products", "running"), ("search_products", "done")]
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    ext = final.model_extra["shopassist"]
    assert text.strip() and ext["products"] and names_first(ext, text)


def test_session_carries_references_and_cart_across_requests(client, index_dir):
    user, _ = some_user(index_dir)
    headers = {"X-Session-Id": "t-cart", "X-User-Id": user}
    first = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "power bank"}],
                                           extra_headers=headers)
    shown = first.model_extra["shopassist"]["products"][0]["product_id"]
    second = client.chat.completions.create(model=MODEL, extra_headers=headers, messages=[
        {"role": "user", "content": "power bank"}, {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "add the first one to my cart"}])
    ext = second.model_extra["shopassist"]
    assert ext["cart"] == {shown: 1} and ext["user"] == user and ext["session_id"] == "t-cart"


def test_user_field_signs_in_and_orders_are_private(client, index_dir):
    user, order_id = some_user(index_dir)
    mine = client.chat.completions.create(model=MODEL, user=user,
                                          messages=[{"role": "user", "content": f"where is my order {order_id}?"}])
    ext = mine.model_extra["shopassist"]
    assert not ext["refused"] and "order_status" in [c["name"] for c in ext["tool_calls"]]
    assert order_id in mine.choices[0].message.content
    other = client.chat.completions.create(model=MODEL, user="U999",
                                           messages=[{"role": "user", "content": f"where is my order {order_id}?"}])
    assert other.model_extra["shopassist"]["refused"]
    assert "order_status" not in [c["name"] for c in other.model_extra["shopassist"]["tool_calls"]]


def test_chinese_in_chinese_out(client):
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "推荐一款充电宝"}])
    assert r.model_extra["shopassist"]["lang"] == "zh"
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in r.choices[0].message.content) >= 4


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "invalid_json"),
    (b"[1, 2]", 400, "invalid_json"),
    (json.dumps({"model": MODEL}).encode(), 400, "missing_messages"),
    (json.dumps({"messages": []}).encode(), 400, "missing_messages"),
    (json.dumps({"messages": [{"role": "wizard", "content": "hi"}]}).encode(), 400, "invalid_role"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}).encode(),
     400, "last_message_not_user"),
    (json.dumps({"messages": [{"role": "user", "content": "   "}]}).encode(), 400, "empty_message"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 4001}]}).encode(), 400, "message_too_long"),
    (json.dumps({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "u"}}]}]}).encode(),
     400, "unsupported_content"),
    (json.dumps({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}]}).encode(),
     400, "invalid_image_url"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}], "user": "bad user!"}).encode(), 400, "invalid_user"),
    (json.dumps({"messages": [{"role": "user", "content": "y" * 70000}]}).encode(), 413, "body_too_large"),
])
def test_bad_requests_get_clear_json_errors(base_url, body, status, code):
    r = httpx.post(base_url + "/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and err["type"] == "invalid_request_error"


def test_openai_client_surfaces_errors(client):
    import openai

    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[{"role": "assistant", "content": "hello"}])
    assert "last message" in str(e.value)


def test_text_content_parts_are_accepted(client):
    r = client.chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "running shoes"}]}])
    assert r.model_extra["shopassist"]["products"]


def test_suggest_replies_for_a_queued_conversation(base_url, index_dir):
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    conv = next(c for c in store.conversations if c["topic"] == "order_tracking" and c["lang"] == "en")
    r = httpx.post(base_url + "/v1/suggest-replies", json={"conversation_id": conv["conversation_id"]}, timeout=300)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["analysis"]["intent"] and 0 <= body["analysis"]["confidence"] <= 1
    assert body["analysis"]["sentiment"] in ("negative", "neutral", "positive")
    assert body["analysis"]["propensity"]["factors"]
    assert len(body["suggestions"]) == 3
    assert any(f"order {conv['order_id']}" in c for s in body["suggestions"] for c in s["cites"])


def test_suggest_replies_ad_hoc_and_errors(base_url):
    ok = httpx.post(base_url + "/v1/suggest-replies", timeout=300, json={"conversation": {
        "user_id": "U001", "messages": [{"role": "customer", "text": "Do you have express delivery to Pune?"}]}})
    assert ok.status_code == 200 and len(ok.json()["suggestions"]) == 3
    missing = httpx.post(base_url + "/v1/suggest-replies", json={"conversation_id": "C999"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "conversation_not_found"
    bad = httpx.post(base_url + "/v1/suggest-replies", json={"conversation": {"messages": [{"role": "bot"}]}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_message"


def test_sessions_survive_a_restart_with_a_session_store(index_dir, tmp_path):
    from openai import OpenAI

    from assistant.app import load_assistant
    from assistant.persistence import SessionStore
    from ui.api import create_app

    def app():
        assistant = load_assistant(index_dir, backend="none")
        assistant.sessions = SessionStore(tmp_path / "sessions.db")
        return create_app(assistant)

    user, _ = some_user(index_dir)
    headers = {"X-Session-Id": "durable-1", "X-User-Id": user}
    with Server(app()) as url:
        client = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        client.chat.completions.create(model="shopassist", messages=[{"role": "user", "content": "power bank"}],
                                       extra_headers=headers)
        added = client.chat.completions.create(model="shopassist", extra_headers=headers, messages=[
            {"role": "user", "content": "add the first one to my cart"}]).model_extra["shopassist"]["cart"]
    assert len(added) == 1
    with Server(app()) as url:  # a new process-worth of state: only the SQLite file remains
        client = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        r = client.chat.completions.create(model="shopassist", extra_headers=headers,
                                           messages=[{"role": "user", "content": "what's in my cart?"}])
        assert r.model_extra["shopassist"]["cart"] == added
        other = client.chat.completions.create(model="shopassist", extra_headers={**headers, "X-User-Id": "U999"},
                                               messages=[{"role": "user", "content": "what's in my cart?"}])
        assert other.model_extra["shopassist"]["cart"] == {}
