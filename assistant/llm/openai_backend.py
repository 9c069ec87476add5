"""Remote backend: any OpenAI-compatible `/v1/chat/completions` server (vLLM, TGI, llama.cpp server, OpenAI).

Knows the HTTP protocol only: request bodies (tools, `response_format` json_schema), server-sent-event
streaming, retries with exponential backoff on connection errors, 429 and 5xx, and one overall deadline
per call (`timeout_s`, raised as BackendTimeout, never retried). Tool calls come from the response's
structured `tool_calls`; when a server leaves them in the text (small models in a ```json fence), they are
parsed from the text like a local model's. A non-streaming call cannot see its first token, so its
`ttft_s` equals `total_s`. The server's tokenizer is unknown here, so `count_tokens` is an estimate
(about 4 characters a token); reported usage comes from the server.

Knows nothing about products, sessions or which tools a turn may use.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import closing
from typing import Iterator, Sequence

from assistant.errors import BackendError, BackendTimeout
from assistant.llm.base import Generation, MessageLike, StreamItem, as_messages
from assistant.llm.chat import tool_names
from assistant.toolcalls import calls_from_objects, parse_tool_calls

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    """Client of an OpenAI-compatible server. `base_url` ends in `/v1` (default `$OPENAI_BASE_URL` or
    http://127.0.0.1:8000/v1); `model` defaults to the first model the server lists. `tool_choice` is sent
    with every call that offers tools: "auto" (default), "required", or the name of one tool to force
    (servers then constrain the call by grammar, e.g. llama.cpp's chatml-function-calling)."""

    name = "openai"

    def __init__(self, model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                 max_retries: int = 2, backoff_s: float = 0.5, connect_timeout_s: float = 10.0,
                 headers: dict | None = None, tool_choice: str = "auto"):
        try:
            import httpx
        except ImportError as e:
            raise ImportError("the openai backend needs httpx (a core dependency): pip install httpx") from e
        self._httpx = httpx
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        self._client = httpx.Client(headers={**({"Authorization": f"Bearer {key}"} if key else {}),
                                             **(headers or {})})
        self.max_retries, self.backoff_s, self.connect_timeout_s = max_retries, backoff_s, connect_timeout_s
        self._model = model
        self.tool_choice = (tool_choice if tool_choice in ("auto", "required", "none")
                            else {"type": "function", "function": {"name": tool_choice}})

    @property
    def model_id(self) -> str:
        if self._model is None:
            self._model = self._first_served_model()
        return self._model

    def count_tokens(self, text: str) -> int:
        return max(1, round(len(text) / 4)) if text else 0

    def close(self) -> None:
        self._client.close()

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 120.0) -> Generation:
        t0 = time.perf_counter()
        body = self._body(messages, tools, json_schema, max_tokens, temperature, seed, stream=False)
        with closing(self._request(body, t0 + timeout_s)) as response:
            try:
                response.read()
            except self._httpx.TimeoutException as e:
                raise BackendTimeout(f"{self.base_url}: no complete answer within {timeout_s:.1f}s") from e
            except self._httpx.TransportError as e:
                raise BackendError(f"{self.base_url}: response broke off: {type(e).__name__}: {e}") from e
            data = _json_body(response)
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.base_url}: response has no choices[0].message: {str(data)[:300]}") from None
        usage = data.get("usage") or {}
        return self._generation(message.get("content") or "", message.get("tool_calls") or [], tools,
                                choice.get("finish_reason"), usage, t0, None)

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
               seed: int = 0, timeout_s: float = 120.0) -> Iterator[StreamItem]:
        t0 = time.perf_counter()
        deadline = t0 + timeout_s
        body = self._body(messages, tools, json_schema, max_tokens, temperature, seed, stream=True)
        parts, calls, usage, finish, t_first, n_chunks = [], {}, {}, None, None, 0
        with closing(self._request(body, deadline)) as response:
            for chunk in self._events(response, deadline):
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content") or delta.get("tool_calls"):
                        t_first = t_first or time.perf_counter()
                    if delta.get("content"):
                        n_chunks += 1
                        parts.append(delta["content"])
                        yield delta["content"]
                    _merge_call_deltas(calls, delta.get("tool_calls") or [])
                    finish = choice.get("finish_reason") or finish
        usage = usage or {"completion_tokens": n_chunks + len(calls)}
        yield self._generation("".join(parts), [calls[i] for i in sorted(calls)], tools, finish, usage, t0,
                               t_first)

    def _body(self, messages, tools, json_schema, max_tokens, temperature, seed, stream: bool) -> dict:
        body = {"model": self.model_id, "messages": [m.to_openai() for m in as_messages(messages)],
                "max_tokens": max_tokens, "temperature": temperature, "seed": seed, "stream": stream}
        if tools:
            body["tools"], body["tool_choice"] = tools, self.tool_choice
        if json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "reply", "schema": json_schema, "strict": True}}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _generation(self, content: str, raw_calls: list[dict], tools, finish, usage: dict, t0: float,
                    t_first: float | None) -> Generation:
        names = tool_names(tools) if tools else None
        calls, errors = calls_from_objects(raw_calls, names)
        text = content
        if tools and not raw_calls:
            text, calls, errors = parse_tool_calls(content, names)
        t_end = time.perf_counter()
        raw = content + "".join(f"\n<tool_call>\n{json.dumps(c, ensure_ascii=False)}\n</tool_call>"
                                for c in raw_calls)
        return Generation(text=text.strip(), tool_calls=calls, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          ttft_s=(t_first or t_end) - t0, total_s=t_end - t0, raw=raw,
                          finish_reason="tool_calls" if calls else (finish or "stop"), tool_call_errors=errors,
                          cached_prompt_tokens=int((usage.get("prompt_tokens_details") or {})
                                                   .get("cached_tokens") or 0))

    def _request(self, body: dict, deadline: float):
        """An open streaming response with a 2xx status, after retries; the caller closes it."""
        url = self.base_url + "/chat/completions"
        for attempt in range(self.max_retries + 1):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BackendTimeout(f"{url}: no answer within the deadline (attempt {attempt + 1})")
            timeout = self._httpx.Timeout(remaining, connect=min(self.connect_timeout_s, remaining))
            try:
                response = self._client.send(self._client.build_request("POST", url, json=body, timeout=timeout),
                                              stream=True)
            except self._httpx.TimeoutException as e:
                raise BackendTimeout(f"{url}: timed out after {remaining:.1f}s ({type(e).__name__})") from e
            except self._httpx.TransportError as e:
                problem = f"cannot reach {url}: {type(e).__name__}: {e}"
            else:
                if response.status_code < 400:
                    return response
                problem = f"{url} answered HTTP {response.status_code}: {_error_text(response)}"
                response.close()
                if response.status_code not in _RETRY_STATUS:
                    raise BackendError(problem)
            if attempt < self.max_retries:
                time.sleep(min(self.backoff_s * 2 ** attempt, max(0.0, deadline - time.perf_counter())))
        raise BackendError(f"{problem} (gave up after {self.max_retries + 1} attempts)")

    def _events(self, response, deadline: float) -> Iterator[dict]:
        """Parsed `data:` events of a server-sent-event stream, until `[DONE]`."""
        try:
            for line in response.iter_lines():
                if time.perf_counter() > deadline:
                    raise BackendTimeout(f"{self.base_url}: stream exceeded its deadline")
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                try:
                    yield json.loads(payload)
                except ValueError:
                    raise BackendError(f"{self.base_url}: malformed stream event: {payload[:200]}") from None
        except self._httpx.TimeoutException as e:
            raise BackendTimeout(f"{self.base_url}: stream stalled past the deadline") from e
        except self._httpx.TransportError as e:
            raise BackendError(f"{self.base_url}: stream broke off: {type(e).__name__}: {e}") from e

    def _first_served_model(self) -> str:
        try:
            response = self._client.get(self.base_url + "/models", timeout=self.connect_timeout_s)
            response.raise_for_status()
            return response.json()["data"][0]["id"]
        except Exception as e:  # any failure here means: we cannot guess, the user must say
            raise BackendError(f"no model given and {self.base_url}/models did not name one ({e}); "
                               f"pass --model") from e


def _merge_call_deltas(calls: dict[int, dict], deltas: list[dict]) -> None:
    """Streamed tool calls arrive in pieces keyed by index; argument strings are concatenated. The name comes
    once (OpenAI, vLLM) or again in every piece (llama.cpp's llama_cpp.server): a repeat is not appended."""
    for d in deltas:
        call = calls.setdefault(d.get("index", len(calls)), {"id": "", "type": "function",
                                                             "function": {"name": "", "arguments": ""}})
        call["id"] = d.get("id") or call["id"]
        fn = d.get("function") or {}
        name = fn.get("name") or ""
        if name != call["function"]["name"]:
            call["function"]["name"] += name
        call["function"]["arguments"] += fn.get("arguments") or ""


def _json_body(response) -> dict:
    try:
        return response.json()
    except ValueError:
        raise BackendError(f"{response.request.url}: response is not JSON: {response.text[:300]}") from None


def _error_text(response) -> str:
    try:
        response.read()
        data = response.json()
        return str((data.get("error") or {}).get("message") or data)[:300]
    except Exception:  # an error page of any shape: show its start
        return response.text[:300]
