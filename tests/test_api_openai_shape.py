"""The API answers as OpenAI servers do: an unknown model is a 404 the openai client raises as NotFoundError,
every error (unknown route, wrong method) is OpenAI-shaped, and a stream forwards each text piece the
engine yields at once, before the engine produces the next one."""
from __future__ import annotations

import json
import threading

import httpx
import pytest

from tests.test_api import MODEL, Server, base_url, client, index_dir  # noqa: F401  (fixtures)


def assert_openai_error(r: httpx.Response, status: int, code: str | None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"] and err["code"] == code
    return err


def test_unknown_model_is_a_404_the_openai_client_raises(client):
    import openai

    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "power bank"}])
    assert e.value.status_code == 404 and e.value.code == "model_not_found" and "gpt-4o" in str(e.value)
    served = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "power bank"}])
    assert served.choices[0].message.content


def test_unknown_routes_and_methods_answer_in_openai_shape(base_url):
    err = assert_openai_error(httpx.post(base_url + "/v1/completions", json={"prompt": "hi"}), 404, "unknown_url")
    assert "/v1/completions" in err["message"] and err["type"] == "invalid_request_error"
    assert_openai_error(httpx.get(base_url + "/v1/nothing-here"), 404, "unknown_url")
    assert_openai_error(httpx.get(base_url + "/v1/chat/completions"), 405, "method_not_allowed")
    assert_openai_error(httpx.post(base_url + "/v1/chat/completions", json={"model": 3, "messages": []}), 400,
                        "invalid_model")


@pytest.fixture()
def word_streaming_server(index_dir):  # noqa: F811
    """An API whose engine yields every reply word by word (as a token-streaming model would), and holds
    each next word until the client says it received the previous one: an API that accumulated text would
    never get the acknowledgement."""
    from assistant.agent_assist import AgentModels
    from assistant.app import load_assistant
    from assistant.engine import TextEvent
    from ui.api import create_app

    assistant = load_assistant(index_dir, backend="none")
    received, log = threading.Event(), {"pieces": [], "waited_in_vain": 0}
    real_stream = assistant.stream

    def stream(session, text):
        for event in real_stream(session, text):
            if not isinstance(event, TextEvent):
                yield event
                continue
            for piece in event.delta.split(" "):
                received.clear()
                log["pieces"].append(piece)
                yield TextEvent(piece + " ")
                if not received.wait(30):
                    log["waited_in_vain"] += 1

    assistant.stream = stream
    app = create_app(assistant, AgentModels(assistant.index.store, index_dir / "models"), model_name=MODEL)
    with Server(app) as url:
        yield url, received, log


def test_stream_forwards_each_piece_as_the_engine_yields_it(word_streaming_server):
    url, received, log = word_streaming_server
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "power bank"}]}
    chunks = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
                if delta:
                    chunks.append(delta)
                    received.set()
    assert log["waited_in_vain"] == 0, "a piece reached the client only after the engine produced the next one"
    assert len(log["pieces"]) > 3 and len(chunks) == len(log["pieces"])
    assert "".join(chunks).split() == " ".join(log["pieces"]).split()
