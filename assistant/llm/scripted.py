"""A deterministic backend that replays queued replies and records every call (for tests and demos).

Like pydantic-ai's FunctionModel or simonw/llm's MockModel, but a real backend: `--backend scripted` works
from the command line. Each call takes the next queued reply:
- a string: treated exactly like model output (tool-call markup in it is parsed, errors reported);
- a `ToolCall` or a list of them: rendered as `<tool_call>` markup, then parsed like model output, so a
  call to a tool not offered this turn shows up in `tool_call_errors` as it would with a real model;
- a dict: its JSON (for `json_schema` calls);
- a `Generation`: returned as is;
- a callable `(messages, tools) -> reply`: called, and its result handled as above.
With the queue empty it never fails: it answers with a clearly labelled text built from the last tool
result (or the last user message), or for `json_schema` calls with the smallest JSON matching the schema.

Knows nothing about any model; token counts are whitespace-separated words.
"""
from __future__ import annotations

import json
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, Union

from assistant.llm.base import Generation, Message, MessageLike, StreamItem, ToolCall, as_messages
from assistant.llm.chat import assemble_generation

Reply = Union[str, dict, ToolCall, list, Generation, Callable[[list[Message], "list[dict] | None"], object]]
UNSCRIPTED_LABEL = "[scripted reply: no reply queued]"


@dataclass
class RecordedCall:
    """One call the backend received."""

    messages: list[Message]
    tools: list[dict] | None
    json_schema: dict | None
    max_tokens: int
    temperature: float
    seed: int


class ScriptedBackend:
    """Replays `replies` in order; `calls` records every request."""

    name = "scripted"

    def __init__(self, replies: Iterable[Reply] = (), model: str | None = None):
        self.model_id = model or "scripted"
        self.queue: deque[Reply] = deque(replies)
        self.calls: list[RecordedCall] = []

    def enqueue(self, *replies: Reply) -> ScriptedBackend:
        self.queue.extend(replies)
        return self

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 120.0) -> Generation:
        t0 = time.perf_counter()
        msgs = as_messages(messages)
        self.calls.append(RecordedCall(msgs, tools, json_schema, max_tokens, temperature, seed))
        reply = self.queue.popleft() if self.queue else _unscripted(msgs, json_schema)
        while callable(reply):
            reply = reply(msgs, tools)
        if isinstance(reply, Generation):
            return reply
        raw = _as_raw(reply)
        prompt_tokens = sum(self.count_tokens(m.content) for m in msgs)
        return assemble_generation(raw, tools, prompt_tokens=prompt_tokens,
                                   completion_tokens=self.count_tokens(raw), t_start=t0,
                                   t_first=time.perf_counter(), hit_limit=False)

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
               seed: int = 0, timeout_s: float = 120.0) -> Iterator[StreamItem]:
        generation = self.generate(messages, tools, json_schema, max_tokens, temperature, seed, timeout_s)
        yield from re.findall(r"\s*\S+|\s+", generation.raw)
        yield generation


def _as_raw(reply: object) -> str:
    if isinstance(reply, str):
        return reply
    if isinstance(reply, ToolCall):
        reply = [reply]
    if isinstance(reply, list) and all(isinstance(c, ToolCall) for c in reply):
        return "\n".join(_markup(c) for c in reply)
    if isinstance(reply, (dict, list)):
        return json.dumps(reply, ensure_ascii=False)
    raise TypeError(f"a scripted reply must be str, dict, ToolCall(s), Generation or a callable, "
                    f"got {type(reply).__name__}")


def _markup(call: ToolCall) -> str:
    body = {"name": call.name, "arguments": call.arguments, **({"id": call.id} if call.id else {})}
    return f"<tool_call>\n{json.dumps(body, ensure_ascii=False)}\n</tool_call>"


def _unscripted(messages: list[Message], json_schema: dict | None) -> str:
    if json_schema is not None:
        return json.dumps(minimal_instance(json_schema), ensure_ascii=False)
    for m in reversed(messages):
        if m.role == "tool":
            return f"{UNSCRIPTED_LABEL} Here is what the tool returned: {_shorten(m.content)}"
        if m.role == "user":
            return f"{UNSCRIPTED_LABEL} You said: {_shorten(m.content)}"
    return f"{UNSCRIPTED_LABEL} Hello."


def minimal_instance(schema: dict) -> object:
    """The smallest value matching a (simple) JSON schema: required keys only, first enum/anyOf option."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0])
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props.get(k, {})) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    defaults = {"string": "x" * schema.get("minLength", 0), "integer": schema.get("minimum", 0),
                "number": schema.get("minimum", 0), "boolean": False, "null": None}
    return defaults.get(kind)


def _shorten(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
