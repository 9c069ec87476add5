"""The agent console tab: the store's customer-service queue, and for the selected conversation its analysis
(intent, sentiment, purchase propensity, needs-human), the customer's orders and three suggested replies
that the agent can insert, edit and send. With "Phrase with the LLM" the templated drafts show at once,
a working state says the LLM is rewording them, and at the time limit the drafts stay. A leaf over
`assistant.agent_assist`.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

import gradio as gr

from assistant.agent_assist import (
    PHRASE_LIMIT_S, AgentModels, Analysis, analyse_conversation, phrase_all, suggest_replies,
)
from assistant.titles import clip
from ui.components_agent import analysis_panel, orders_panel, phrase_status, suggestion_html
from ui.markup import md_text

log = logging.getLogger(__name__)
QUEUE_HEADERS = ["id", "status", "customer", "lang", "last message"]
QUEUE_WIDTHS = ["70px", "130px", "160px", "60px", "auto"]


class AgentConsole:
    def __init__(self, store, models: AgentModels, backend=None, phrase_limit_s: float = PHRASE_LIMIT_S):
        self.store, self.models, self.backend, self.phrase_limit_s = store, models, backend, phrase_limit_s
        self._analyses: dict[str, Analysis] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        threading.Thread(target=self._warm, name="agent-console-warmup", daemon=True).start()

    # ---- data -----------------------------------------------------------------------------------
    def _warm(self) -> None:
        try:
            self.models.warm()
            for conv in self.store.conversations:
                self.analysis(conv["conversation_id"])
        except Exception:  # the console still works conversation by conversation
            log.exception("agent console warm-up failed")
        finally:
            self._ready.set()

    def conversation(self, cid: str) -> dict[str, Any] | None:
        return next((c for c in self.store.conversations if c.get("conversation_id") == cid), None)

    def analysis(self, cid: str) -> Analysis:
        with self._lock:
            if cid not in self._analyses:
                self._analyses[cid] = analyse_conversation(self.store, self.conversation(cid), self.models)
            return self._analyses[cid]

    def queue_rows(self, wait_s: float = 240.0) -> list[list[str]]:
        self._ready.wait(wait_s)
        rows = []
        for c in self.store.conversations:
            user = self.store.users.get(c.get("user_id") or "")
            last = next((m["text"] for m in reversed(c["messages"]) if m["role"] == "customer"), "")
            a = self._analyses.get(c["conversation_id"])
            answered = c["messages"][-1]["role"] == "agent"
            status = "answered" if answered else "…" if a is None else "⚠ needs human" if a.needs_human else "open"
            rows.append([c["conversation_id"], status, user.name if user else c.get("user_id") or "",
                         c.get("lang", ""), clip(last, 90)])
        return rows

    # ---- events ---------------------------------------------------------------------------------
    def select(self, evt: gr.SelectData, phrase: bool):
        row = evt.row_value if getattr(evt, "row_value", None) else None
        cid = row[0] if row else self.store.conversations[evt.index[0]]["conversation_id"]
        yield from self.show(cid, phrase)

    def rephrase(self, cid: str | None, phrase: bool):
        if not cid:
            yield (gr.skip(),) * 10
            return
        yield from self.show(cid, phrase)

    def show(self, cid: str, phrase: bool = False):
        """The conversation's panels with templated drafts; with phrase, then the LLM's rewording (a generator:
        the drafts and a working state first, the result or the time-limit note when it is done)."""
        conv = self.conversation(cid)
        if conv is None:
            yield (None, [], "", "", "", *[""] * 3, [], "")
            return
        a = self.analysis(cid)
        drafts = suggest_replies(self.store, conv, a)
        phrasing = phrase and self.backend is not None
        status = phrase_status(None, self.phrase_limit_s) if phrasing else ""
        yield self._panels(cid, conv, a, drafts, status)
        if phrasing:
            done = phrase_all(drafts, self.backend, a.lang, self.phrase_limit_s)
            yield self._panels(cid, conv, a, done.suggestions, phrase_status(done, self.phrase_limit_s))

    def _panels(self, cid: str, conv: dict[str, Any], a: Analysis, suggestions, status: str) -> tuple:
        items = [s.to_dict() for s in suggestions]
        padded = items + [None] * (3 - len(items))
        topic = md_text(conv.get("topic", "").replace("_", " "))
        return (cid, transcript(conv), analysis_panel(a.to_dict()),
                orders_panel(self.store, conv.get("user_id"), a.order_ids),
                f"**{md_text(cid)}** · {topic} · opened {md_text(conv.get('created_at', '')[:16])}",
                *[suggestion_html(i, s) for i, s in enumerate(padded)], items, status)

    def send(self, cid: str | None, text: str):
        conv = self.conversation(cid) if cid else None
        text = (text or "").strip()
        if conv is None or not text:
            gr.Warning("Select a conversation and write a reply first.")
            return gr.skip(), gr.skip(), gr.skip()
        conv["messages"].append({"role": "agent", "text": text[:4000]})
        return transcript(conv), "", self.queue_rows(wait_s=0)


def transcript(conv: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation for a chatbot, every message as typed (never as HTML or Markdown)."""
    return [{"role": "user" if m["role"] == "customer" else "assistant", "content": md_text(m["text"])}
            for m in conv.get("messages", [])]


def build_console(console: AgentConsole) -> None:
    """The console's components and events, inside the caller's gr.Blocks / gr.Tab: the queue across the
    top (every column visible), the conversation with its analysis beside the suggested replies."""
    current = gr.State(None)
    suggestions = gr.State([])
    gr.Markdown("### Queue")
    queue = gr.Dataframe(value=console.queue_rows(wait_s=0), headers=QUEUE_HEADERS, interactive=False, wrap=True,
                         elem_id="agent-queue", max_height=300, column_widths=QUEUE_WIDTHS)
    refresh = gr.Button("Refresh queue", size="sm")
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            title = gr.Markdown("Select a conversation in the queue.", elem_id="agent-title")
            chat = gr.Chatbot(label="Conversation", show_label=False, buttons=["copy"], height=260,
                              elem_id="agent-transcript", feedback_options=None, latex_delimiters=[])
            analysis = gr.HTML(elem_id="agent-analysis")
            orders = gr.HTML(elem_id="agent-orders")
        with gr.Column(scale=5, min_width=320):
            gr.Markdown("### Suggested replies")
            phrase = gr.Checkbox(label=f"Phrase with the LLM (at most {console.phrase_limit_s:.0f} s; facts are "
                                       "checked, the templated drafts stay otherwise)", value=False,
                                 visible=console.backend is not None, elem_id="phrase-llm")
            status = gr.HTML(elem_id="phrase-status")
            boxes, inserts = [], []
            for i in range(3):
                boxes.append(gr.HTML(elem_id=f"suggestion-{i}"))
                inserts.append(gr.Button(f"Insert suggestion {i + 1}", size="sm", elem_id=f"insert-{i}"))
            reply = gr.Textbox(label="Reply to the customer (edit before sending)", lines=5, elem_id="agent-reply")
            send = gr.Button("Send", variant="primary", elem_id="agent-send")
    shown = [current, chat, analysis, orders, title, *boxes, suggestions, status]
    queue.select(console.select, [phrase], shown)
    phrase.change(console.rephrase, [current, phrase], shown)
    refresh.click(console.queue_rows, None, queue)
    for i, button in enumerate(inserts):
        button.click(lambda items, i=i: items[i]["text"] if i < len(items) else gr.skip(), [suggestions], reply)
    send.click(console.send, [current, reply], [chat, reply, queue])
    return queue
