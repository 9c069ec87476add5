"""The turn parse: one structured reading of what a shopper's message asks, and the model that produces it.

`TurnParse` is the schema every reader fills (the rules and slots, the learned classifier, an LLM): the action,
the refusal class, the residual search text, references to shown products, constraints with their direction,
quantity, order id and review aspect. `LLMReader` asks a chat model for it under JSON-schema constrained decoding
(valid JSON by construction on llama.cpp) with the few-shot prompt in prompts/parse.md and
prompts/parse_examples.jsonl; the static part of that prompt is identical on every call, so the backend's prefix
cache serves it and a turn pays only for its own context and message. A reply that does not validate is a failed
parse (None), never an exception: the caller falls back.

Knows nothing about stores, sessions or tools: the context comes in as text, resolution happens elsewhere.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import prompts
from assistant.errors import BackendError, BackendTimeout
from assistant.llm.chat import PROMPTED

log = logging.getLogger(__name__)

ACTIONS = ("search", "details", "compare", "reviews", "recommend", "add_to_cart", "show_cart", "order_status",
           "order_change", "policy", "chitchat", "refuse")
REFUSALS = ("privacy", "price_change", "override", "prompt", "bad_quantity")
_REQUIRED = ("action", "refuse", "query", "refs")
_FIELDS = _REQUIRED + ("brand", "aspect", "max_price", "min_price", "min_rating", "quantity", "order_id")


@dataclass
class TurnParse:
    action: str = "search"
    query: str = ""
    refs: list[str] = field(default_factory=list)
    brand: str | None = None
    aspect: str | None = None
    max_price: float | None = None
    min_price: float | None = None
    min_rating: float | None = None
    quantity: int | None = None
    order_id: str | None = None
    refuse: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "")}

    def to_json(self) -> str:
        """The form the model writes: the four required fields always, the others only when set."""
        d = asdict(self)
        d["refuse"] = d["refuse"] or "none"
        d.update({k: int(v) for k, v in d.items() if isinstance(v, float) and v.is_integer()})
        return json.dumps({k: d[k] for k in _FIELDS if k in _REQUIRED or d[k] not in (None, [], "")},
                          ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TurnParse":
        """A validated parse; raises ValueError naming the first field that is out of its domain."""
        if not isinstance(d, dict):
            raise ValueError("a parse is a JSON object")
        unknown = set(d) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        p = cls()
        action = d.get("action")
        if action not in ACTIONS:
            raise ValueError(f"action {action!r} is not one of {ACTIONS}")
        p.action = action
        if d.get("refuse") not in (None, "none") and d["refuse"] not in REFUSALS:
            raise ValueError(f"refuse {d['refuse']!r} is not one of {REFUSALS}")
        p.refuse = None if d.get("refuse") in (None, "none") else d["refuse"]
        p.query = _text(d.get("query"), 120) or ""
        p.refs = [_text(r, 40) for r in d.get("refs") or [] if _text(r, 40)][:5]
        p.brand, p.aspect, p.order_id = _text(d.get("brand"), 40), _text(d.get("aspect"), 40), _text(d.get("order_id"), 40)
        p.max_price, p.min_price = _number(d.get("max_price"), 0, 1e9), _number(d.get("min_price"), 0, 1e9)
        p.min_rating = _number(d.get("min_rating"), 0, 5)
        q = d.get("quantity")
        p.quantity = int(q) if isinstance(q, (int, float)) and not isinstance(q, bool) and q == int(q) else None
        return p


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    text = " ".join(str(value).split())[:limit]
    return text or None


def _number(value: Any, lo: float, hi: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if lo < value <= hi else None


def schema() -> dict[str, Any]:
    """The JSON schema of a parse, as constrained decoding sees it: four required fields first (the refusal class
    is stated, "none" included, so a small model never adds one by accident), the rest only when set."""
    text, number = {"type": "string"}, {"type": "number"}
    return {"type": "object", PROMPTED: True, "additionalProperties": False, "required": list(_REQUIRED),
            "properties": {"action": {"enum": list(ACTIONS)}, "refuse": {"enum": ["none", *REFUSALS]},
                           "query": text, "refs": {"type": "array", "items": text}, "brand": text, "aspect": text,
                           "max_price": number, "min_price": number, "min_rating": number,
                           "quantity": {"type": "integer"}, "order_id": text}}


@lru_cache(maxsize=1)
def _examples() -> tuple[tuple[str, str], ...]:
    lines = resources.files("prompts").joinpath("parse_examples.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.strip():
            ex = json.loads(line)
            parse = TurnParse.from_dict({k: v for k, v in ex["parse"].items() if v is not None})
            out.append((context_text(ex["shown"], "", ex["message"]), parse.to_json()))
    return tuple(out)


def context_text(shown: str, cart: str, message: str) -> str:
    """The per-turn part of the prompt: what the shopper sees and what they said."""
    return (f"Shown: {shown or 'nothing yet'}\n" + (f"Cart: {cart}\n" if cart else "") + f"Message: {message}")


class LLMReader:
    """Reads a turn with a chat model. `read()` returns (parse or None, timing and token facts)."""

    def __init__(self, backend, timeout_s: float = 20.0, max_tokens: int = 96):
        self.backend, self.timeout_s, self.max_tokens = backend, timeout_s, max_tokens
        self._schema = schema()

    def messages(self, shown: str, cart: str, message: str) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": prompts.render("parse.md")}]
        for user, answer in _examples():
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return msgs + [{"role": "user", "content": context_text(shown, cart, message)}]

    def warm(self) -> None:
        """Evaluate the static prompt once so that the first turn pays only for its own tokens."""
        prefill = getattr(self.backend, "prefill", None)
        if prefill is not None:
            prefill(self.messages("", "", "")[:-1])

    def read(self, shown: str, cart: str, message: str, temperature: float = 0.0,
             seed: int = 0) -> tuple[TurnParse | None, dict[str, Any]]:
        t0 = time.perf_counter()
        info: dict[str, Any] = {}
        try:
            gen = self.backend.generate(self.messages(shown, cart, message), json_schema=self._schema,
                                        max_tokens=self.max_tokens, temperature=temperature, seed=seed,
                                        timeout_s=self.timeout_s)
        except (BackendError, BackendTimeout) as e:
            return None, {"error": f"parse backend failed: {e}", "ms": (time.perf_counter() - t0) * 1e3}
        info.update(ms=(time.perf_counter() - t0) * 1e3, prompt_tokens=gen.prompt_tokens,
                    cached_tokens=gen.cached_prompt_tokens, output_tokens=gen.completion_tokens, raw=gen.raw[:400])
        try:
            return TurnParse.from_dict(json.loads(gen.text or gen.raw)), info
        except (ValueError, TypeError) as e:  # json.JSONDecodeError is a ValueError
            info["error"] = f"invalid parse: {e}"
            return None, info
