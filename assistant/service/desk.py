"""The service desk for human agents: the service agent drafts, a person approves, edits or rejects.

Per conversation, each customer message runs `ServiceAgent.turn`; its reply is only a suggestion, and a
write it proposes is a draft card until the agent approves it: only then is the reply (with the exact
proposal) sent and the proposal counted as shown, so the customer's next yes can run it. Editing changes
the proposal's arguments and checks them with the policy again; rejecting withdraws it. Conversations
handed to a human (`transfer_to_human_agents`) come back from the durable records as queue entries with
their summary.

Knows conversations and the draft/approve cycle; nothing about rendering.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.service import policy
from assistant.service.agent import ServiceAgent
from assistant.service.state import ServiceState
from assistant.tooling import ToolError


@dataclass
class DeskConversation:
    cid: str
    state: ServiceState
    messages: list[dict[str, str]] = field(default_factory=list)  # {"role": customer|agent, "text"}
    suggestion: str = ""
    card: dict[str, Any] | None = None


class ServiceDesk:
    def __init__(self, agent: ServiceAgent):
        self.agent = agent
        self.conversations: dict[str, DeskConversation] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: str | Path, backend=None, store=None) -> ServiceDesk | None:
        """The desk over `<index>/service/` (None when the index has no service data). `store`: the session
        store (or a database path) that keeps the changes; default `<index>/service/records.sqlite`."""
        from assistant.service.data import RetailData
        from assistant.service.domain import RetailDomain
        from assistant.service.records import ServiceRecords

        folder = Path(index_dir) / "service"
        if not (folder / "orders.json").exists():
            return None
        records = ServiceRecords(store if store is not None else folder / "records.sqlite")
        return cls(ServiceAgent(RetailDomain(RetailData.load(folder), records), backend))

    def new_conversation(self) -> str:
        cid = "S" + uuid.uuid4().hex[:6].upper()
        self.conversations[cid] = DeskConversation(cid, self.agent.new_state())
        return cid

    def get(self, cid: str) -> DeskConversation:
        if cid not in self.conversations:
            raise KeyError(f"no service conversation {cid!r}")
        return self.conversations[cid]

    # ---- the customer's side ---------------------------------------------------------------------------
    def customer_says(self, cid: str, text: str) -> DeskConversation:
        conv = self.get(cid)
        with self._lock:
            conv.messages.append({"role": "customer", "text": text})
            reply = self.agent.turn(conv.state, text)
        if not reply.transferred and conv.state.transcript and conv.state.transcript[-1]["role"] == "agent":
            conv.state.transcript.pop()  # a suggestion: in the transcript once a person sends it
        conv.suggestion = reply.text
        if reply.executed:
            done = reply.executed[-1]
            conv.card = {**(conv.card or {}), "name": done["name"], "arguments": done["arguments"],
                         "summary": (conv.card or {}).get("summary", ""), "status": "executed", "note": reply.text}
        elif conv.card and conv.card["status"] == "sent":
            conv.card = {**conv.card, "status": "withdrawn"}
        if conv.state.pending is not None:
            conv.state.pending.shown = False  # not shown until a person sends it
            conv.card = self._card(conv, "draft")
        if reply.transferred:
            conv.messages.append({"role": "agent", "text": reply.text})
            conv.suggestion = ""
        return conv

    # ---- the agent's side ------------------------------------------------------------------------------
    def approve(self, cid: str, text: str) -> DeskConversation:
        """Send the (possibly edited) reply with the proposal; the proposal now counts as shown."""
        conv = self.get(cid)
        pending = conv.state.pending
        text = (text or conv.suggestion).strip()
        if pending is not None and pending.summary not in text:
            text = f"{text} {pending.summary} Please answer yes to confirm.".strip()
        self._send(conv, text)
        if pending is not None:
            pending.shown = True
            conv.card = self._card(conv, "sent")
        return conv

    def send(self, cid: str, text: str) -> DeskConversation:
        """A reply of the agent's own, without the proposal: the proposal is withdrawn."""
        conv = self.get(cid)
        if conv.state.pending is not None:
            self.reject(cid)
        self._send(conv, text)
        return conv

    def reject(self, cid: str) -> DeskConversation:
        conv = self.get(cid)
        proposal, conv.state.pending = conv.state.pending, None
        for r in conv.state.requests:
            if proposal is not None and r.id == proposal.request_id:
                r.status, r.note = "dropped", "rejected by the human agent"
        if conv.card:
            conv.card = {**conv.card, "status": "rejected"}
        conv.suggestion = ""
        return conv

    def edit(self, cid: str, arguments: dict[str, Any]) -> DeskConversation:
        """New arguments for the pending proposal, checked by the policy again (a refusal is shown on the card)."""
        conv = self.get(cid)
        pending = conv.state.pending
        if pending is None:
            raise ValueError("there is no proposal to edit")
        try:
            new = policy.propose(conv.state, self.agent.domain, pending.name, arguments, pending.request_id)
        except ToolError as e:
            conv.card = {**(conv.card or {}), "status": "refused", "note": str(e)}
            return conv
        conv.suggestion = conv.suggestion.replace(pending.summary, new.summary) if pending.summary in conv.suggestion \
            else f"{conv.suggestion} {new.summary}"
        conv.card = self._card(conv, "draft")
        return conv

    def _send(self, conv: DeskConversation, text: str) -> None:
        conv.messages.append({"role": "agent", "text": text})
        conv.state.transcript.append({"role": "agent", "text": text})
        conv.suggestion = ""

    @staticmethod
    def _card(conv: DeskConversation, status: str) -> dict[str, Any]:
        p = conv.state.pending
        return {"id": p.id, "name": p.name, "arguments": dict(p.arguments), "summary": p.summary, "status": status,
                "note": ""}

    # ---- hand-offs -------------------------------------------------------------------------------------
    def handoff_conversations(self) -> list[dict[str, Any]]:
        """Transferred conversations as agent-console queue entries (the summary first)."""
        out = []
        for h in self.agent.domain.records.handoffs():
            messages = [{"role": "agent", "text": f"[transferred to a human] {h['summary']}"}]
            messages += [{"role": "customer" if m["role"] == "customer" else "agent", "text": m["text"]}
                         for m in h["transcript"]]
            out.append({"conversation_id": f"H{h['id']:04d}", "user_id": h["owner"], "messages": messages,
                        "topic": "transferred", "lang": "en", "summary": h["summary"],
                        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(h["ts"]))})
        return out
