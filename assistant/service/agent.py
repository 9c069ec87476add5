"""The service agent: one customer message in, one reply out, with the tool calls and the pending proposal.

Per message: the policy first settles the pending write (run on an explicit yes, withdrawn otherwise); the
model labels each sentence (`parse`); code reads identity (e-mail, or name and zip), orders, products,
options, payment and addresses exactly (`extract`, `vocab`), keeps the customer's requests (`requests`),
authenticates, resolves the requests one at a time against the records through the service tools
(`resolve`) and proposes the next write, whose exact description ends the reply. Questions are asked only
when nothing can be proposed; out-of-scope requests are handed to a human last. With `mode="agent"` a
strong backend chooses the tools itself (`agent_mode`); the policy and the confirmations stay here.

Entry point for the shopper engine: `ServiceAgent.turn(state, text) -> ServiceReply` (`new_state(user_id)`
starts a conversation; a user id signed in by the session counts as authenticated).
Knows the conversation flow; the rules live in `policy`, wording in `replies`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.service import extract, policy, replies
from assistant.service.domain import RetailDomain
from assistant.service.parse import MessageParser
from assistant.service.requests import read_message
from assistant.service.resolve import Resolver
from assistant.service.state import Request, ServiceState
from assistant.service.tools import SERVICE_TOOLS, ServiceContext
from assistant.tooling import ToolError

MAX_INPUT_CHARS = 4000
MAX_QUESTIONS = 2  # the same request is asked about at most this often, then set aside
_NO = re.compile(r"^\W*(?:no|nope|nah|don't|do not|never ?mind|not now|cancel that|stop)\b", re.I)


@dataclass
class ServiceReply:
    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    proposal: dict[str, Any] | None = None   # the write awaiting the customer's yes, as shown in `text`
    executed: list[dict[str, Any]] = field(default_factory=list)  # writes run by this message's yes
    done: bool = False                       # nothing left to do: the reply asked "anything else?"
    transferred: bool = False
    parse: list[dict[str, str]] = field(default_factory=list)
    latency_s: float = 0.0


class Trace:
    """Runs service tools for one turn and records every call with its result or error."""

    def __init__(self, ctx: ServiceContext):
        self.ctx, self.calls = ctx, []

    def __call__(self, name: str, arguments: dict[str, Any], request_id: str = "") -> Any:
        self.ctx.request_id = request_id
        try:
            result = SERVICE_TOOLS[name](self.ctx, arguments)
        except ToolError as e:
            self.calls.append({"name": name, "arguments": arguments, "error": str(e)})
            raise
        self.calls.append({"name": name, "arguments": arguments, "result": result})
        return result


class ServiceAgent:
    def __init__(self, domain: RetailDomain, backend=None, mode: str = "parse", temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 60.0):
        if mode not in ("parse", "agent"):
            raise ValueError(f"unknown service agent mode {mode!r}: parse or agent")
        self.domain, self.backend, self.mode = domain, backend, mode
        self.parser = MessageParser(backend, temperature, seed, timeout_s)
        self.product_names = list(domain.product_types())

    def new_state(self, user_id: str | None = None) -> ServiceState:
        state = ServiceState()
        if user_id and self.domain.user(user_id) is not None:
            state.customer_id, state.auth_via = user_id, "session"
        return state

    def turn(self, state: ServiceState, text: str) -> ServiceReply:
        t0 = time.perf_counter()
        text = (text or "").strip()[:MAX_INPUT_CHARS]
        state.transcript.append({"role": "customer", "text": text})
        state.done = False
        trace = Trace(ServiceContext(self.domain, state))
        parts: list[str] = []
        outcome = policy.on_customer_message(state, self.domain, text)
        executed = self._settle(state, outcome, text, parts)
        if self.mode == "agent":
            from assistant.service.agent_mode import agent_turn

            parts.append(agent_turn(self, state, text, trace, outcome))
            parsed = []
        else:
            parsed = [] if outcome.kind == "executed" else self.parser.parse(text)
            read_message(state, parsed, self.product_names)
            if self._identify(state, text, trace, parts):
                self._work(state, trace, parts)
        return self._reply(state, parts, trace, executed, parsed, t0)

    # ---- the pending write ------------------------------------------------------------------------
    def _settle(self, state: ServiceState, outcome: policy.Outcome, text: str, parts: list[str]) -> list[dict]:
        req = next((r for r in state.requests if outcome.proposal and r.id == outcome.proposal.request_id), None)
        if outcome.kind == "executed":
            parts.append(replies.executed(outcome))
            _set(req, "done", outcome.proposal.summary)
            return [{"name": outcome.proposal.name, "arguments": outcome.proposal.arguments}]
        if outcome.kind in ("refused", "failed"):
            parts.append(replies.not_done(outcome))
            _set(req, "refused", outcome.message)
        elif outcome.kind == "withdrawn":
            if _NO.search(text):
                parts.append(replies.WITHDRAWN)
                _set(req, "dropped", "the customer did not confirm")
            else:
                _set(req, "open", "")
        return []

    # ---- identity -----------------------------------------------------------------------------------
    def _identify(self, state: ServiceState, text: str, trace: Trace, parts: list[str]) -> bool:
        if state.customer_id:
            return True
        by_email = self._by_email(state, text, trace)
        tried = by_email + self._by_name_zip(state, text, trace)
        if state.customer_id:
            user = trace("get_user_details", {"user_id": state.customer_id})
            parts.append(replies.greeting(user))
            return True
        state.failed_auth += tried
        if tried:  # the other way in: an e-mail after a name and zip failed, and the reverse
            parts.append(replies.not_found(tried, by_email=bool(by_email) and len(by_email) == len(tried)))
        else:  # also when only a name was given: asked for the zip alone, qwen1.5b as customer lost its role
            parts.append(replies.ask_identity(next(iter(extract.malformed_zips(text)), "")))
        state.asked = "identity"
        return False

    def _by_email(self, state: ServiceState, text: str, trace: Trace) -> list[str]:
        """Each e-mail in the message, until one finds the customer; returns the ones that did not."""
        tried = []
        for email in extract.emails(text):
            state.emails.append(email)
            if self._try(trace, "find_user_id_by_email", {"email": email}):
                break
            tried.append(email)
        return tried

    def _by_name_zip(self, state: ServiceState, text: str, trace: Trace) -> list[str]:
        """Names said now or before, with the latest zip code; returns what was tried in vain."""
        zips = extract.zips(text)
        state.zip = zips[0] if zips else state.zip
        introduced = extract.introduced_names(text)
        if introduced:
            state.first_name, state.last_name = introduced[0]
        remembered = [(state.first_name, state.last_name)] if state.first_name else []
        candidates = list(dict.fromkeys(extract.names(text)[:3] + remembered))
        if state.customer_id or not state.zip or not candidates:
            return []
        for first, last in candidates:
            if self._try(trace, "find_user_id_by_name_zip", {"first_name": first, "last_name": last,
                                                             "zip": state.zip}):
                return []
        return [f"the name {candidates[0][0]} {candidates[0][1]} and zip code {state.zip}"]

    @staticmethod
    def _try(trace: Trace, name: str, arguments: dict[str, Any]) -> bool:
        try:
            trace(name, arguments)
            return True
        except ToolError:
            return False

    # ---- requests -----------------------------------------------------------------------------------
    def _work(self, state: ServiceState, trace: Trace, parts: list[str]) -> None:
        resolver, question = Resolver(self.domain, trace), None
        for req in [r for r in state.open_requests() if r.action != "human"]:
            try:
                res = resolver.resolve(req, state)
                if res.kind == "ask":
                    question = question or (req, res.text)
                    continue
                if res.kind == "info":
                    parts.append(res.text)
                    _set(req, "done", "answered")
                    continue
                if res.rest:
                    _split(state, req, res.rest)
                for oid in reversed(res.other_orders):
                    state.requests.insert(state.requests.index(req) + 1, Request(req.action, order_id=oid,
                                                                                 texts=list(req.texts)))
                trace(res.name, res.arguments, req.id)
            except ToolError as e:
                parts.append(replies.refused(e))
                _set(req, "refused", str(e))
                continue
            _set(req, "proposed", "")
            parts.append(replies.proposal(state.pending.summary))
            return
        if question is not None:
            self._ask(state, *question, parts)
            return
        self._finish(state, trace, parts)

    def _ask(self, state: ServiceState, req: Request, text: str, parts: list[str]) -> None:
        req.asked += 1
        if req.asked > MAX_QUESTIONS:
            _set(req, "dropped", "the details could not be settled")
            parts.append("I could not settle the details of that request, so I have set it aside.")
            return
        parts.append(text)
        state.asked = req.id

    def _finish(self, state: ServiceState, trace: Trace, parts: list[str]) -> None:
        human = [r for r in state.open_requests() if r.action == "human"]
        if human:
            summary = _summary(state)
            trace("transfer_to_human_agents", {"summary": summary})
            for r in human:
                _set(r, "done", "transferred")
            parts.append(replies.TRANSFERRED)
            return
        state.idle_turns += 1
        if any(r.status != "open" for r in state.requests) or state.idle_turns > 1:
            parts.append(replies.CLOSING)
            state.done = True
        else:
            parts.append(replies.WHAT_TO_DO)

    def _reply(self, state: ServiceState, parts: list[str], trace: Trace, executed: list[dict],
               parsed: list, t0: float) -> ServiceReply:
        text = " ".join(p for p in parts if p).strip()
        proposal = None
        if state.pending is not None:
            state.pending.shown = state.pending.summary in text
            proposal = {"id": state.pending.id, "name": state.pending.name, "arguments": state.pending.arguments,
                        "summary": state.pending.summary}
        state.transcript.append({"role": "agent", "text": text})
        return ServiceReply(text, trace.calls, proposal, executed, state.done and state.pending is None,
                            state.transferred, [{"sentence": p.text, "action": p.action, "source": p.source}
                                                for p in parsed], time.perf_counter() - t0)


def _set(req: Request | None, status: str, note: str) -> None:
    if req is not None:
        req.status, req.note = status, note


def _split(state: ServiceState, req: Request, rest: list[str]) -> None:
    """Products of a request that are in another order become a request of their own."""
    req.products = [p for p in req.products if p not in rest]
    state.requests.insert(state.requests.index(req) + 1, Request(req.action, products=rest, texts=list(req.texts)))


def _summary(state: ServiceState) -> str:
    said = " / ".join(m["text"] for m in state.transcript if m["role"] == "customer")[-600:]
    done = "; ".join(f"{r.action}: {r.status}" for r in state.requests if r.action != "human") or "nothing yet"
    return f"Customer {state.customer_id or '(not authenticated)'} asked: {said} Requests so far: {done}."
