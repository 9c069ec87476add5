"""Agent mode for strong backends: the model chooses the service tools itself, over several steps.

The model sees the policy (prompts/service_agent.md), the conversation and every tool result; tool errors
(bad arguments, a refusal naming its rule) go back to it so it can correct itself, within a step cap. What
it cannot do is write: its write calls only make proposals (`tools`), the customer's yes is judged by code
before the model runs (`policy.on_customer_message`), and the exact description of a pending proposal is
appended to the model's reply whenever the reply does not already contain it. So a stronger model makes
the conversation more fluent and never less safe.

Knows the tool-calling loop; nothing about which rules exist.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import prompts
from assistant.errors import BackendError
from assistant.llm.base import Message, ToolCall
from assistant.service import replies
from assistant.service.policy import Outcome
from assistant.service.tools import SERVICE_TOOLS
from assistant.tooling import ToolError

log = logging.getLogger(__name__)
MAX_STEPS = 8
MAX_MESSAGES = 40
FALLBACK = "Sorry, I could not process that. Could you say it again?"


def _note(outcome: Outcome) -> str | None:
    if outcome.kind == "executed":
        return (f"[system] The customer confirmed. {outcome.proposal.name} ran: "
                f"{json.dumps(outcome.result, ensure_ascii=False)[:1500]}")
    if outcome.kind in ("withdrawn", "refused", "failed"):
        return f"[system] The proposal ({outcome.proposal.name}) did not run: {outcome.kind}. {outcome.message}"
    return None


def agent_turn(agent, state, text: str, trace, outcome: Outcome) -> str:
    """One customer message handled by the model's own tool calls; returns the reply text."""
    system = prompts.render("service_agent.md", policy=agent.domain.data.policy or "(see the tools' descriptions)")
    history: list[dict[str, Any]] = state.llm_messages
    note = _note(outcome)
    history.append({"role": "user", "content": f"{note}\n\n{text}" if note else text})
    tools = [t.schema() for t in SERVICE_TOOLS.values()]
    reply = ""
    for _ in range(MAX_STEPS):
        try:
            g = agent.backend.generate([{"role": "system", "content": system}, *history[-MAX_MESSAGES:]],
                                       tools=tools, temperature=agent.parser.temperature, max_tokens=400)
        except BackendError as e:
            log.warning("agent mode: backend failed: %s", e)
            break
        agent.parser.calls += 1
        if not g.tool_calls and not g.tool_call_errors:
            reply = g.text.strip()
            break
        calls = [ToolCall(c.name, c.arguments, c.id or f"call_{len(history)}_{i}") for i, c in enumerate(g.tool_calls)]
        history.append(Message("assistant", g.text, tool_calls=calls).to_openai())
        history.extend(_run(trace, call) for call in calls)
        for err in g.tool_call_errors:
            history.append({"role": "user", "content": f"[system] Tool call not understood: {err}"})
    reply = reply or FALLBACK
    if state.pending is not None and state.pending.summary not in reply:
        reply = f"{reply} {replies.proposal(state.pending.summary)}".strip()
    history.append({"role": "assistant", "content": reply})
    del history[:-MAX_MESSAGES]
    return reply


def _run(trace, call: ToolCall) -> dict[str, Any]:
    if call.name not in SERVICE_TOOLS:
        content = f"Error: unknown tool {call.name!r}"
    else:
        try:
            content = json.dumps(trace(call.name, dict(call.arguments)), ensure_ascii=False)[:4000]
        except ToolError as e:
            content = f"Error: {e}"
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content}
