"""Agent mode for strong backends: the model chooses the tools of every kind of turn over several steps.

The turn's reading (assistant.understand) still decides what the model may do: the tools offered are those the
policy allows for this turn (the cart only when the shopper asks to buy, orders only when they ask about their
own), a call outside them or with invalid arguments goes back to the model as an error it can fix, an order id
that is not the shopper's is refused in code, and the prices and ratings the shopper stated exactly override the
model's search arguments. Tool results go back as tool messages; after at most `max_agent_steps` rounds the
model's answer is gated sentence by sentence like any model text. A model that calls no tool for a turn the
policy planned tools for gets the planned calls run for it; a backend failure falls back to them too.

Knows nothing about UIs; runs inside Assistant.stream (it yields the engine's ToolEvents).
"""
from __future__ import annotations

import json
import time
from typing import Iterator

import prompts
from assistant.errors import BackendError, BackendTimeout
from assistant.grounding import split_sentences
from assistant.llm.base import Message, ToolCall as ModelCall
from assistant.toolcalls import validate_arguments
from assistant.tools import TOOLS
from assistant.turn_policy import ToolCall, allowed_tools

_EXACT = ("max_price", "min_price", "min_rating", "brand")


def _tool_message(call: ToolCall) -> str:
    if call.error:
        return json.dumps({"error": call.error}, ensure_ascii=False)
    return json.dumps(call.result, ensure_ascii=False, default=str)[:3000]


def _check(call: ModelCall, allowed: set[str], owned: set[str]) -> str | None:
    tool = TOOLS.get(call.name)
    if tool is None or call.name not in allowed:
        return f"tool {call.name!r} is not available for this request; available: {sorted(allowed)}"
    errors = validate_arguments(tool.parameters, call.arguments)
    if errors:
        return f"invalid arguments for {call.name}: " + "; ".join(errors)
    if call.name == "order_status" and str(call.arguments.get("order_id", "")).strip().upper() not in owned:
        return "order_status: that order id is not one of the shopper's own orders"
    return None


def _exact(call: ToolCall, u) -> ToolCall:
    """The shopper's exactly stated limits win over the model's reading of them."""
    if call.name == "search_products":
        for key in _EXACT:
            if key in u.filters:
                call.arguments[key] = u.filters[key]
    return call


def run_agent(assistant, session, text: str, u, plan, res) -> Iterator:
    """Yields ToolEvents; returns the ToolCalls made. Sets res.text when the model's gated answer is kept."""
    from assistant.engine import ToolEvent

    cfg, backend = assistant.config, assistant.backend
    allowed = allowed_tools(u)
    schemas = [TOOLS[n].schema() for n in TOOLS if n in allowed]
    owned = {o.order_id for o in assistant.index.store.orders_of(session.user_id)} if session.user_id else set()
    shown = ", ".join(f"{i}. [{pid}] {assistant.index.store.products[pid].title[:50]}"
                      for i, pid in enumerate(session.last_shown[:5], 1) if pid in assistant.index.store.products)
    messages: list = [Message("system", prompts.render("agent.md", store_name=cfg.store_name, shown=shown,
                                                       allowed=", ".join(sorted(allowed))))]
    for user, reply in session.history(2):
        messages += [Message("user", user), Message("assistant", reply)]
    messages.append(Message("user", text))
    ctx, calls, answer = assistant.tool_context(session), [], ""
    t0 = time.perf_counter()
    for step in range(cfg.max_agent_steps):
        try:
            gen = backend.generate(messages, tools=schemas, max_tokens=300, temperature=cfg.temperature,
                                   seed=cfg.seed, timeout_s=cfg.llm_timeout_s)
        except (BackendError, BackendTimeout) as e:
            res.errors.append(f"agent backend failed: {e}")
            break
        res.prompt_tokens += gen.prompt_tokens
        if not gen.tool_calls and not gen.tool_call_errors:
            answer = gen.text
            break
        messages.append(Message("assistant", gen.text, tool_calls=list(gen.tool_calls)))
        for err in gen.tool_call_errors:  # unreadable calls and calls to tools not offered this turn
            res.errors.append(f"agent: a call not available or not readable: {err}")
            messages.append(Message("user", f"Your tool call could not be used: {err}. Use only the tools offered."))
        for mc in gen.tool_calls:
            problem = _check(mc, allowed, owned)
            if not problem and any(c.name == mc.name and c.arguments == mc.arguments for c in calls):
                messages.append(Message("tool", "You already have this result above; answer the shopper now.",
                                        name=mc.name, tool_call_id=mc.id or mc.name))
                continue
            call = ToolCall(mc.name, dict(mc.arguments), source="agent")
            if problem:
                call.error = problem
                res.errors.append(f"agent: {problem}")
            else:
                _exact(call, u)
                yield ToolEvent(call.to_dict(), done=False)
                assistant.run_tool(ctx, call)
                yield ToolEvent(call.to_dict(), done=True)
                calls.append(call)
            messages.append(Message("tool", _tool_message(call), name=mc.name, tool_call_id=mc.id or mc.name))
    res.timings["agent_ms"] = (time.perf_counter() - t0) * 1e3
    if not calls and plan.calls:  # a model that skipped the tools this turn needs: the planned calls answer
        calls = yield from assistant._run_calls(session, plan.calls)
        return calls
    if answer.strip() and calls:
        _gate_answer(assistant, session, text, answer, calls, res)
    return calls


def _gate_answer(assistant, session, text: str, answer: str, calls: list[ToolCall], res) -> None:
    """Keep the model's sentences that the grounding check accepts; none kept -> the template answers."""
    res.tool_calls = [c.to_dict() for c in calls]
    assistant._collect(res, res.tool_calls, _NoSort())
    grounding = assistant.phraser.grounding(text, res, session)
    kept = []
    for sentence in split_sentences(answer):
        violations = grounding.check(sentence)
        if violations:
            res.grounding_violations += [{"kind": v.kind, "claim": v.claim, "sentence": v.sentence} for v in violations]
        elif sentence.strip() and sentence.strip() not in kept:
            kept.append(sentence.strip())
    res.products = []  # collected again by the engine after the agent returns
    if kept:
        res.text = " ".join(kept)


class _NoSort:
    trace: dict = {}
