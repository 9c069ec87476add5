"""The LLM interface every backend implements: messages in, one `Generation` (or a stream of text) out.

A backend knows how to turn chat messages and OpenAI-style tool schemas into text from one model, and
how to find the tool calls in that text. It knows nothing about products, tools' behaviour, sessions or
which tools a turn may call: that is the policy's job.

Tools are OpenAI function schemas: `{"type": "function", "function": {"name", "description", "parameters"}}`.
`json_schema`, when given, constrains the reply to JSON matching it (by grammar where the backend can,
otherwise by instruction; each backend's docstring says which).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Protocol, Sequence, Union, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]
ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for. `arguments` is already parsed JSON (not validated)."""

    name: str
    arguments: dict
    id: str = ""

    def to_openai(self) -> dict:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)}}


@dataclass
class Message:
    """One chat message. A `tool` message carries a tool's result; `tool_call_id` links it to the call."""

    role: Role
    content: str = ""
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown message role {self.role!r}; expected one of {ROLES}")

    def to_openai(self) -> dict:
        """The OpenAI chat-completions form of this message."""
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name:
            d["name"] = self.name
        if self.tool_call_id:
            d["tool_call_id"] = self.tool_call_id
        if self.tool_calls:
            d["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return d

    @classmethod
    def from_openai(cls, d: dict) -> Message:
        """Accepts the OpenAI form (arguments as a JSON string or an object)."""
        calls = []
        for c in d.get("tool_calls") or []:
            fn = c.get("function", c)
            args = fn.get("arguments") or {}
            calls.append(ToolCall(fn["name"], json.loads(args) if isinstance(args, str) else dict(args),
                                  c.get("id", "")))
        content = d.get("content") or ""
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return cls(d["role"], content, d.get("name"), d.get("tool_call_id"), calls)


MessageLike = Union[Message, dict]


def as_messages(messages: Sequence[MessageLike]) -> list[Message]:
    """Normalise a mix of `Message` objects and OpenAI-style dicts."""
    return [m if isinstance(m, Message) else Message.from_openai(m) for m in messages]


@dataclass
class Generation:
    """The complete result of one model call.

    `text` is the reply without tool-call markup; `raw` is exactly what the model produced.
    `tool_call_errors` lists tool calls the model attempted but that could not be parsed (or named an
    unknown tool): send them back so the model can fix them. `cached_prompt_tokens` counts prompt tokens
    whose KV cache was reused from the previous call (prefix cache). `finish_reason` is "stop", "length"
    or "tool_calls".
    """

    text: str
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    total_s: float
    raw: str
    finish_reason: str
    tool_call_errors: list[str] = field(default_factory=list)
    cached_prompt_tokens: int = 0

    @property
    def decode_tokens_per_s(self) -> float:
        """Completion tokens after the first, per second of decoding (0 when not measurable)."""
        decode_s = self.total_s - self.ttft_s
        return (self.completion_tokens - 1) / decode_s if self.completion_tokens > 1 and decode_s > 0 else 0.0


StreamItem = Union[str, Generation]


@runtime_checkable
class LLMBackend(Protocol):
    """What the policy, UI, API and eval code may rely on.

    `generate` and `stream` take the same arguments. `stream` yields text deltas (raw model text, tool-call
    markup included; `assistant.toolcalls.ProseFilter` hides the markup for live display) and finally exactly
    one `Generation`, equal to what `generate` would return. Finish or close a stream before the next call:
    a local backend serves one call at a time.
    `temperature=0` is greedy decoding; `seed` makes sampling repeatable where the backend allows.
    `timeout_s` bounds the whole call; exceeding it raises `BackendTimeout` (local backends check it between
    tokens: a long prompt evaluation is not interrupted). Other failures raise `BackendError`.
    """

    name: str
    model_id: str

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 120.0) -> Generation: ...

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
               seed: int = 0, timeout_s: float = 120.0) -> Iterator[StreamItem]: ...

    def count_tokens(self, text: str) -> int: ...


def final_generation(items: Iterator[StreamItem]) -> Generation:
    """Drain a `stream()` and return its closing `Generation`."""
    last = None
    for item in items:
        last = item
    if not isinstance(last, Generation):
        raise RuntimeError("a backend stream ended without its final Generation")
    return last
