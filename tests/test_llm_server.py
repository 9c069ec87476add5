"""The `openai` backend against a real OpenAI-compatible server: llama.cpp's own `llama_cpp.server`
(llama-cpp-python[server]) started on 127.0.0.1 with the smallest shipped GGUF model (SmolLM2-135M), then
stopped. Plain and streamed text, structured tool calls (plain and streamed), the model list, readiness."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from assistant.llm.base import Generation
from assistant.tools import TOOLS

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs llama-cpp-python[server] ('.[dev]')")
    from assistant.model_files import ModelFileError, smollm2_path

    try:
        model = smollm2_path()
    except ModelFileError as e:
        pytest.skip(str(e))
    port, log = free_port(), tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smollm2",
           "--chat_format", "chatml-function-calling", "--n_ctx", "2048", "--n_threads", "1",
           "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.time() < deadline, "llama_cpp.server did not start: " + log.read_text()[-3000:]
            try:
                if httpx.get(base + "/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def backend(base: str, **kw):
    from assistant.llm.openai_backend import OpenAIBackend

    return OpenAIBackend(base_url=base, **kw)


def test_model_list_generate_and_stream(server):
    b = backend(server)
    assert b.model_id == "smollm2"  # the first model the server lists
    gen = b.generate([{"role": "user", "content": "Say hello."}], max_tokens=12, timeout_s=300)
    assert gen.text and gen.completion_tokens > 0 and gen.prompt_tokens > 0 and gen.finish_reason in ("stop", "length")
    items = list(b.stream([{"role": "user", "content": "Say hello."}], max_tokens=12, timeout_s=300))
    deltas, final = items[:-1], items[-1]
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas) and isinstance(final, Generation)
    assert final.text == "".join(deltas).strip() and final.ttft_s <= final.total_s


@pytest.mark.parametrize("stream", [False, True])
def test_structured_tool_calls_from_the_server(server, stream):
    b = backend(server, tool_choice="search_products")  # the server constrains the call by grammar
    messages = [{"role": "user", "content": "Find electric kettles under 2000 rupees."}]
    tools = [TOOLS["search_products"].schema(), TOOLS["get_product"].schema()]
    if stream:
        gen = list(b.stream(messages, tools=tools, max_tokens=60, timeout_s=300))[-1]
    else:
        gen = b.generate(messages, tools=tools, max_tokens=60, timeout_s=300)
    assert gen.finish_reason == "tool_calls" and not gen.tool_call_errors, gen.raw
    call = gen.tool_calls[0]
    assert call.name == "search_products" and isinstance(call.arguments.get("query"), str)


def test_the_api_is_ready_with_the_server_and_serves_a_turn_through_it(server):
    from fastapi.testclient import TestClient

    from assistant.engine import Assistant, AssistantConfig
    from retrieval.schema import Product
    from retrieval.search import ProductIndex
    from retrieval.store import Store
    from ui.api import create_app

    kettle = Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon",
                     899, "INR", 1200, 4.1, 300)
    assistant = Assistant(ProductIndex.build(Store(products={"PK001": kettle})), backend(server),
                          config=AssistantConfig(llm_timeout_s=300))
    client = TestClient(create_app(assistant))
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and "openai" in ready["checks"]["model"]["detail"]
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "electric kettle"}]})
    assert r.status_code == 200 and "PK001" in [p["product_id"] for p in r.json()["shopassist"]["products"]]
    assert "shopassist_model_calls_total" in client.get("/metrics").text
