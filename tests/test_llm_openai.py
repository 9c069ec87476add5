"""The OpenAI-compatible backend against a small fake server on 127.0.0.1 (no network beyond loopback)."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.errors import BackendError, BackendTimeout
from assistant.llm import Generation, Message, ToolCall, load_backend
from tests.timing import Stopwatch

SEARCH = {"type": "function", "function": {
    "name": "search_products", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}
CALL_ARGS = '{"query": "usb c cable", "max_price": 300}'


class FakeServer(ThreadingHTTPServer):
    """Behaviour is chosen by the request's `model`; every request body is recorded."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.failures_left = 0

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is expected here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self._json(200, {"data": [{"id": "served-model", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({**body, "_auth": self.headers.get("Authorization")})
        model = body["model"]
        if model == "broken" or (model == "flaky" and self.server.failures_left > 0):
            self.server.failures_left -= 1
            return self._json(500, {"error": {"message": "the GPU caught fire"}})
        if model == "bad_request":
            return self._json(400, {"error": {"message": "max_tokens is too large"}})
        if model == "slow":
            time.sleep(2.0)
        content, calls = _answer(model, body)
        if body.get("stream"):
            return self._sse(model, content, calls)
        message = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = calls
        self._json(200, {"choices": [{"index": 0, "message": message,
                                      "finish_reason": "tool_calls" if calls else "stop"}],
                         "usage": {"prompt_tokens": 42, "completion_tokens": 7,
                                   "prompt_tokens_details": {"cached_tokens": 32}}})

    def _sse(self, model, content, calls):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, word in enumerate(content.split(" ")):
            self._event({"choices": [{"index": 0, "delta": {"content": word if i == 0 else " " + word}}]})
            if model == "slow_stream" and i == 0:
                time.sleep(2.0)
        for call in calls:  # tool calls arrive in pieces, as vLLM sends them
            args = call["function"]["arguments"]
            self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "id": call["id"], "type": "function",
                 "function": {"name": call["function"]["name"], "arguments": args[:10]}}]}}]})
            self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": args[10:]}}]}}]})
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if calls else "stop"}]})
        if model != "no_usage":
            self._event({"choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": 5}})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, data: dict):
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, data: dict):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _answer(model: str, body: dict) -> tuple[str, list[dict]]:
    if model == "tools":
        return "", [{"id": "call_abc", "type": "function",
                     "function": {"name": "search_products", "arguments": CALL_ARGS}}]
    if model == "fenced":
        return 'Let me search.\n```json\n{"name": "search_products", "arguments": ' + CALL_ARGS + "}\n```", []
    if model == "json":
        return '{"intent": "browse"}', []
    last = body["messages"][-1]["content"]
    return f"echo: {last}", []


@pytest.fixture(scope="module")
def server():
    srv = FakeServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def backend(server, model, **kw):
    return load_backend("openai", model, base_url=server.url, backoff_s=0.01, **kw)


def test_generate_sends_messages_and_reads_usage(server):
    g = backend(server, "echo", api_key="sk-test").generate(
        [Message("system", "be brief"), Message("user", "hello")], max_tokens=20, temperature=0.2, seed=5)
    assert (g.text, g.finish_reason, g.prompt_tokens, g.completion_tokens) == ("echo: hello", "stop", 42, 7)
    assert g.cached_prompt_tokens == 32
    sent = server.requests[-1]
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    assert (sent["max_tokens"], sent["temperature"], sent["seed"], sent["stream"]) == (20, 0.2, 5, False)
    assert sent["_auth"] == "Bearer sk-test" and "tools" not in sent and "response_format" not in sent


def test_structured_tool_calls(server):
    history = [Message("user", "cables"),
               Message("assistant", "", tool_calls=[ToolCall("search_products", {"q": 1}, "c0")]),
               Message("tool", "[]", tool_call_id="c0"), Message("user", "usb c cable under 300")]
    g = backend(server, "tools").generate(history, tools=[SEARCH])
    assert g.tool_calls == [ToolCall("search_products", json.loads(CALL_ARGS), "call_abc")]
    assert g.finish_reason == "tool_calls" and g.tool_call_errors == []
    sent = server.requests[-1]
    assert sent["tools"] == [SEARCH] and sent["tool_choice"] == "auto"
    assert sent["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"q": 1}'
    assert sent["messages"][2] == {"role": "tool", "content": "[]", "tool_call_id": "c0"}


def test_tool_calls_left_in_the_text_are_parsed(server):
    g = backend(server, "fenced").generate([Message("user", "cables")], tools=[SEARCH])
    assert g.text == "Let me search." and g.tool_calls[0].arguments == json.loads(CALL_ARGS)


def test_json_schema_becomes_response_format(server):
    schema = {"type": "object", "properties": {"intent": {"type": "string"}}}
    g = backend(server, "json").generate([Message("user", "x")], json_schema=schema)
    assert json.loads(g.text) == {"intent": "browse"}
    assert server.requests[-1]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}


def test_stream_text(server):
    items = list(backend(server, "echo").stream([Message("user", "three little words")]))
    final = items[-1]
    assert isinstance(final, Generation)
    assert items[:-1] == ["echo:", " three", " little", " words"]
    assert final.text == "echo: three little words" and final.completion_tokens == 5
    assert server.requests[-1]["stream"] is True and server.requests[-1]["stream_options"] == {"include_usage": True}


def test_stream_assembles_tool_call_pieces(server):
    final = list(backend(server, "tools").stream([Message("user", "x")], tools=[SEARCH]))[-1]
    assert final.tool_calls == [ToolCall("search_products", json.loads(CALL_ARGS), "call_abc")]


def test_stream_without_usage_estimates_completion_tokens(server):
    final = list(backend(server, "no_usage").stream([Message("user", "a b")]))[-1]
    assert final.completion_tokens == 3 and final.prompt_tokens == 0


def test_retries_5xx_then_succeeds(server):
    server.failures_left = 2
    before = len(server.requests)
    g = backend(server, "flaky", max_retries=2).generate([Message("user", "hi")])
    assert g.text == "echo: hi" and len(server.requests) - before == 3


def test_gives_up_after_retries_with_the_server_message(server):
    before = len(server.requests)
    with pytest.raises(BackendError, match=r"HTTP 500: the GPU caught fire \(gave up after 3 attempts\)"):
        backend(server, "broken", max_retries=2).generate([Message("user", "hi")])
    assert len(server.requests) - before == 3


def test_client_errors_are_not_retried(server):
    before = len(server.requests)
    with pytest.raises(BackendError, match="HTTP 400: max_tokens is too large") as err:
        backend(server, "bad_request").generate([Message("user", "hi")])
    assert not isinstance(err.value, BackendTimeout) and len(server.requests) - before == 1


def test_slow_server_times_out(server):
    with Stopwatch() as sw, pytest.raises(BackendTimeout):  # time waiting for a CPU is left out
        backend(server, "slow").generate([Message("user", "hi")], timeout_s=0.5)
    assert sw.seconds < 1.5, sw


def test_stalled_stream_times_out(server):
    stream = backend(server, "slow_stream").stream([Message("user", "one two")], timeout_s=0.5)
    assert next(stream) == "echo:"
    with pytest.raises(BackendTimeout):
        list(stream)


def test_unreachable_server_is_a_backend_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    b = load_backend("openai", "m", base_url=f"http://127.0.0.1:{port}/v1", backoff_s=0.01, max_retries=1)
    with pytest.raises(BackendError, match="cannot reach .*gave up after 2 attempts"):
        b.generate([Message("user", "hi")], timeout_s=5)


def test_model_defaults_to_the_first_served_one(server):
    assert backend(server, None).model_id == "served-model"


def test_streamed_tool_call_names_repeated_in_every_piece_are_not_doubled():
    from assistant.llm.openai_backend import _merge_call_deltas

    calls: dict = {}
    _merge_call_deltas(calls, [{"index": 0, "id": "c1", "function": {"name": "search_products", "arguments": '{"q'}}])
    _merge_call_deltas(calls, [{"index": 0, "function": {"name": "search_products", "arguments": 'uery": "x"}'}}])
    _merge_call_deltas(calls, [{"index": 1, "function": {"name": "get_", "arguments": ""}},
                               {"index": 1, "function": {"name": "product", "arguments": "{}"}}])
    assert calls[0]["function"] == {"name": "search_products", "arguments": '{"query": "x"}'}
    assert calls[1]["function"]["name"] == "get_product"  # a name split across pieces is still joined
