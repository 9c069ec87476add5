"""The service desk tab of the agent console: a customer's after-sales conversation with the service agent's
drafts. A proposed action shows as a card the agent can approve (send it for the customer's yes), edit
(new arguments, checked by the policy again) or reject, with the suggested reply beside it. Conversations
transferred to a human join the agent console's queue with their summary. A leaf over
`assistant.service.desk`; the customer's side is simulated by a message box for demos and tests.
"""
from __future__ import annotations

import json
from typing import Any

import gradio as gr

from assistant.service.desk import DeskConversation, ServiceDesk
from ui.components_service import account_panel, proposal_card


def open_desk(assistant, index_dir=None) -> ServiceDesk | None:
    """The service desk over the assistant's own service agent (opened by `assistant.app.load_assistant` when the
    index carries service data): the shopper chat and the desk share one set of records. None without one."""
    service = getattr(assistant, "service", None)
    return ServiceDesk(service) if service is not None else None


def sync_handoffs(desk: ServiceDesk, store) -> None:
    """Put transferred conversations into the agent console's queue (once each)."""
    known = {c.get("conversation_id") for c in store.conversations}
    store.conversations.extend(c for c in desk.handoff_conversations() if c["conversation_id"] not in known)


class DeskView:
    """Event handlers: each returns the values of the desk's components for one conversation."""

    def __init__(self, desk: ServiceDesk, store=None):
        self.desk, self.store = desk, store

    def view(self, conv: DeskConversation | None) -> tuple:
        if conv is None:
            return (None, [], proposal_card(None), "", "", account_panel(None, []), gr.update(choices=self.ids()))
        uid = conv.state.customer_id
        domain = self.desk.agent.domain
        user = domain.user(uid) if uid else None
        orders = domain.orders_of(uid) if uid else []
        chat = [{"role": "user" if m["role"] == "customer" else "assistant", "content": m["text"]}
                for m in conv.messages]
        args = json.dumps(conv.card["arguments"], indent=1) if conv.card else ""
        return (conv.cid, chat, proposal_card(conv.card), conv.suggestion, args, account_panel(user, orders),
                gr.update(choices=self.ids(), value=conv.cid))

    def ids(self) -> list[str]:
        return list(self.desk.conversations)

    def new(self):
        return self.view(self.desk.get(self.desk.new_conversation()))

    def pick(self, cid: str | None):
        return self.view(self.desk.conversations.get(cid or ""))

    def customer(self, cid: str | None, text: str):
        if not (text or "").strip():
            gr.Warning("Write the customer's message first.")
            return self.pick(cid) + ("",)
        cid = cid or self.desk.new_conversation()
        conv = self.desk.customer_says(cid, text.strip())
        if self.store is not None and conv.state.transferred:
            sync_handoffs(self.desk, self.store)
        return self.view(conv) + ("",)

    def approve(self, cid: str | None, reply: str):
        return self._act(cid, lambda c: self.desk.approve(c, reply))

    def reject(self, cid: str | None):
        return self._act(cid, self.desk.reject)

    def send(self, cid: str | None, reply: str):
        return self._act(cid, lambda c: self.desk.send(c, reply))

    def edit(self, cid: str | None, args: str):
        try:
            arguments: dict[str, Any] = json.loads(args or "{}")
        except json.JSONDecodeError as e:
            gr.Warning(f"The arguments are not valid JSON: {e.msg} (line {e.lineno})")
            return self.pick(cid)
        return self._act(cid, lambda c: self.desk.edit(c, arguments))

    def _act(self, cid: str | None, action):
        if not cid or cid not in self.desk.conversations:
            gr.Warning("Start or pick a service conversation first.")
            return self.pick(cid)
        try:
            return self.view(action(cid))
        except ValueError as e:
            gr.Warning(str(e))
            return self.pick(cid)


def build_service_desk(desk: ServiceDesk, store=None) -> None:
    """The desk's components and events, inside the caller's gr.Blocks / gr.Tab."""
    v = DeskView(desk, store)
    current = gr.State(None)
    with gr.Row():
        with gr.Column(scale=4, min_width=300):
            picker = gr.Dropdown(choices=[], label="Service conversations", elem_id="service-picker")
            new = gr.Button("New conversation", size="sm", elem_id="service-new")
            account = gr.HTML(elem_id="service-account")
            customer = gr.Textbox(label="Customer says (simulated customer side)", lines=3, elem_id="service-customer")
            customer_send = gr.Button("Customer sends", size="sm", elem_id="service-customer-send")
        with gr.Column(scale=5, min_width=320):
            chat = gr.Chatbot(label="Conversation", height=380, elem_id="service-transcript", feedback_options=None)
        with gr.Column(scale=5, min_width=320):
            card = gr.HTML(proposal_card(None), elem_id="service-proposal")
            with gr.Row():
                approve = gr.Button("Approve and send", variant="primary", size="sm", elem_id="service-approve")
                reject = gr.Button("Reject", size="sm", variant="stop", elem_id="service-reject")
            args = gr.Textbox(label="Edit the action's arguments (JSON)", lines=5, elem_id="service-args")
            edit = gr.Button("Apply edit", size="sm", elem_id="service-edit")
            reply = gr.Textbox(label="Suggested reply (edit before sending)", lines=5, elem_id="service-reply")
            send = gr.Button("Send without the action", size="sm", elem_id="service-send")
    shown = [current, chat, card, reply, args, account, picker]
    new.click(v.new, None, shown)
    picker.change(v.pick, [picker], shown)
    customer_send.click(v.customer, [current, customer], shown + [customer])
    approve.click(v.approve, [current, reply], shown)
    reject.click(v.reject, [current], shown)
    edit.click(v.edit, [current, args], shown)
    send.click(v.send, [current, reply], shown)
