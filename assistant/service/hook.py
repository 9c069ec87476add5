"""The narrow entry point for the shopper engine: route an after-sales message to the service agent.

The engine keeps one JSON-able dict per session (`session_state`, None before the first service message)
and calls `service_turn` for a message when `wants_service(text, session_state)` is true: an order id
with an action word, an after-sales action word (cancel, return, refund, exchange...), or a service
conversation that is still open. The signed-in user of the session counts as authenticated; a guest is
asked for e-mail or name and zip like any customer.

Knows routing; nothing about rules or records.
"""
from __future__ import annotations

from typing import Any

from assistant.service.agent import ServiceAgent, ServiceReply
from assistant.service.extract import order_ids
from assistant.service.parse import keyword_label
from assistant.service.state import ServiceState

SERVICE_WORDS = ("cancel", "return", "exchange", "address", "payment", "profile_address", "keep")


def wants_service(text: str, session_state: dict[str, Any] | None) -> bool:
    if session_state and not session_state.get("done") and not session_state.get("transferred"):
        return True  # a service conversation in progress (e.g. a proposal waiting for yes)
    return keyword_label(text) in SERVICE_WORDS or bool(order_ids(text) and keyword_label(text) != "none")


def service_turn(agent: ServiceAgent, session_state: dict[str, Any] | None, user_id: str | None,
                 text: str) -> tuple[ServiceReply, dict[str, Any]]:
    """One message through the service agent; returns the reply and the session's new service state."""
    state = ServiceState.from_dict(session_state) if session_state else agent.new_state(user_id)
    reply = agent.turn(state, text)
    return reply, state.to_dict()
