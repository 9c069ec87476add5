"""The shopper chat (Gradio) and the app that puts it beside the agent console.

A generator over `Assistant.stream` events: tool calls appear as collapsible steps (arguments, what came
back, how long), the reply streams in, and the products it presents show as cards with an add-to-cart
button that runs the engine's `add_to_cart` tool for the session. Comparisons render as a table, review
summaries as aspect bars with quoted evidence; the cart panel follows the session's cart. A persona
selector signs in a demo shopper (a new session, so personalised and social recommendations change);
thumbs up/down are stored on the turn (and in the session store, when there is one) and appended,
redacted, to `<index>/feedback.jsonl`.

A leaf: it renders what the engine returns and decides nothing about products, prices or policy.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from assistant.engine import MAX_INPUT_CHARS, Assistant, DoneEvent, TextEvent, ToolEvent
from assistant.photo import PhotoSearch, stream_with_image
from assistant.photo_image import MAX_IMAGE_BYTES
from assistant.pii import redact
from assistant.tooling import ToolError
from assistant.tools import TOOLS, ToolContext
from ui import components as C
from ui.markup import md_text

log = logging.getLogger(__name__)

EXAMPLES_EN = ["wireless earbuds under 2000 rupees", "compare the first two", "what do reviewers say about the first one?",
               "add the first one to my cart", "recommend something for me", "what is your return policy?"]
EXAMPLES_ZH = ["推荐一款2000元以内的蓝牙耳机", "比较一下前两个", "第一个的评价怎么样？", "把第一个加入购物车", "我的购物车里有什么？"]
APOLOGY = {"en": "Sorry, something went wrong on our side. Please try again.",
           "zh": "抱歉，我们这边出了点问题，请再试一次。"}


class Shopper:
    def __init__(self, assistant: Assistant, index_dir: str | Path | None = None, photos: PhotoSearch | None = None):
        self.assistant = assistant
        self.photos = photos or PhotoSearch(assistant)  # OCR models load with the first photo
        self.store = assistant.index.store
        self.feedback_log = Path(index_dir) / "feedback.jsonl" if index_dir else None
        self._log_lock = threading.Lock()

    # ---- state ----------------------------------------------------------------------------------
    def new_state(self, user_id: str | None) -> dict[str, Any]:
        """A browser tab's state. The session itself is made on first use: Gradio copies a State's initial
        value into every tab, and each tab must get its own session id."""
        return {"user": user_id or None, "session": None, "messages": [], "turn_of_msg": {}}

    def session(self, state: dict[str, Any]):
        if state["session"] is None:
            session = self.assistant.new_session(state["user"])
            if state["user"] in self.store.users:
                session.lang = self.store.users[state["user"]].lang
            state["session"] = session
        return state["session"]

    def personas(self) -> list[tuple[str, str]]:
        users = sorted(self.store.users.values(), key=lambda u: u.user_id)
        return [("Guest (not signed in)", "")] + [(f"{u.name} · {u.user_id} · {u.lang}", u.user_id) for u in users]

    def default_persona(self) -> str:
        """An English-speaking shopper with friends and orders: personalised results are visible at once."""
        for u in sorted(self.store.users.values(), key=lambda u: u.user_id):
            if u.lang == "en" and self.store.friends_of(u.user_id) and self.store.orders_of(u.user_id):
                return u.user_id
        return ""

    def panels(self, state: dict[str, Any], result=None) -> tuple:
        """(cards, comparison, reviews, cart, persona) for the current state."""
        session = self.session(state)
        lang = result.lang if result else session.lang
        cards = {"lang": lang, "products": result.products if result and not result.no_match else []}
        return (cards, C.comparison_table(result.comparison if result else None, lang),
                C.review_summary(result.review_summary if result else None, lang),
                C.cart_panel(session.cart, self.store.products, lang), C.persona_panel(self.store, session.user_id))

    # ---- events ---------------------------------------------------------------------------------
    def switch_persona(self, user_id: str):
        state = self.new_state(user_id)
        return (state, [], *self.panels(state), C.turn_status(0, None))

    def respond(self, text: str, state: dict[str, Any], image: tuple[str, bytes] | None = None) -> Iterator[tuple]:
        text = (text or "").strip()
        skip6 = (gr.skip(),) * 6
        if not text and image is None:
            yield (gr.skip(), gr.skip(), state, *skip6)
            return
        session, messages = self.session(state), state["messages"]
        if len(text) > MAX_INPUT_CHARS:  # not sent, not cut: the text stays in the box to be shortened
            notice = C.label(session.lang, "too_long").format(n=len(text), limit=MAX_INPUT_CHARS)
            yield (gr.skip(), gr.skip(), state, *skip6[:5], C.turn_status(len(session.turns), None, notice))
            return
        first, turn_index = len(messages), len(session.turns)
        if image is not None:
            messages.append({"role": "user", "content": {"path": image[0]}})
        if text:
            messages.append({"role": "user", "content": md_text(text)})
        first = len(messages) - 1
        yield (copy.deepcopy(messages), "", state, *skip6)
        result = None
        events = stream_with_image(self.photos, session, text, image[1]) if image is not None else \
            self.assistant.stream(session, text)
        try:
            for event in events:
                if isinstance(event, DoneEvent):
                    result = event.result
                    if len(messages) == first + 1 or messages[-1].get("metadata"):
                        # some replies (bad input) arrive only with the result
                        self._show(TextEvent(result.text), messages)
                        yield (copy.deepcopy(messages), gr.skip(), state, *skip6)
                    continue
                self._show(event, messages)
                yield (copy.deepcopy(messages), gr.skip(), state, *skip6)
        except Exception:  # never a traceback in the chat: an apology here, the detail in the log
            log.exception("turn failed")
            messages.append({"role": "assistant", "content": APOLOGY.get(session.lang, APOLOGY["en"])})
        if len(session.turns) > turn_index:
            for i in range(first, len(messages)):
                state["turn_of_msg"][i] = turn_index
        yield (copy.deepcopy(messages), "", state, *self.panels(state, result)[:4], gr.skip(),
               C.turn_status(len(session.turns), result))

    def respond_multimodal(self, value: dict[str, Any] | str | None, state: dict[str, Any]) -> Iterator[tuple]:
        """The input box's text and attached photo (a file Gradio saved) as one turn."""
        value = value if isinstance(value, dict) else {"text": value or "", "files": []}
        files = [f if isinstance(f, str) else (f or {}).get("path") for f in value.get("files") or []]
        image = None
        if files and files[0]:
            try:  # a file over the limit is read only far enough to be refused
                with open(files[0], "rb") as f:
                    image = (files[0], f.read(MAX_IMAGE_BYTES + 1))
            except OSError:
                log.warning("the uploaded file %s could not be read", files[0])
                image = (files[0], b"")  # the photo turn says the file is empty
        yield from self.respond(value.get("text") or "", state, image)

    @staticmethod
    def _show(event, messages: list[dict[str, Any]]) -> None:
        if isinstance(event, ToolEvent):
            # a finished call replaces its running step: the latest pending step of that tool (the engine sends
            # each event with its own copy of the call, so identity cannot pair them)
            call = event.call
            head = md_text(f"tool · {call['name']}(")
            pending = next((i for i in range(len(messages) - 1, -1, -1)
                            if (messages[i].get("metadata") or {}).get("status") == "pending"
                            and messages[i]["metadata"]["title"].startswith(head)), None)
            meta = {"title": C.tool_title(call), "id": f"tool-{len(messages)}",
                    "status": "done" if event.done else "pending"}
            if event.done:
                meta["duration"] = round((call.get("ms") or 0) / 1000, 3)
            msg = {"role": "assistant", "content": C.tool_body(call), "metadata": meta}
            if event.done and pending is not None:
                msg["metadata"]["id"] = messages[pending]["metadata"]["id"]
                messages[pending] = msg
            else:
                messages.append(msg)
        elif isinstance(event, TextEvent):
            last = messages[-1]
            if last["role"] != "assistant" or last.get("metadata"):
                messages.append({"role": "assistant", "content": ""})
            messages[-1]["content"] += md_text(event.delta)  # shown as typed: never as HTML or Markdown

    def add_to_cart(self, product_id: str, state: dict[str, Any]):
        """The add-to-cart button: the engine's add_to_cart tool, for this session, shown as a tool step."""
        session = self.session(state)
        call = {"name": "add_to_cart", "arguments": {"product_id": product_id, "quantity": 1}}
        t0 = time.perf_counter()
        try:
            store = self.assistant.sessions  # durable carts: the line is saved before the tool returns
            ctx = ToolContext(self.assistant.index, session, self.assistant.insights,
                              persist_cart=store.cart_saver(session) if store is not None else None)
            call["result"] = TOOLS["add_to_cart"](ctx, call["arguments"])
        except ToolError as e:
            call["error"] = str(e)
        call["ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        state["messages"].append({"role": "assistant", "content": C.tool_body(call),
                                  "metadata": {"title": "cart button · " + C.tool_title(call)[len("tool · "):], "status": "done",
                                               "duration": call["ms"] / 1000}})
        if call.get("error"):
            gr.Warning(call["error"])
        return state, copy.deepcopy(state["messages"]), C.cart_panel(session.cart, self.store.products, session.lang)

    def feedback(self, state: dict[str, Any], data: gr.LikeData):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_index = state["turn_of_msg"].get(index)
        session = state["session"]
        if session is None or turn_index is None or turn_index >= len(session.turns):
            return state
        turn = session.turns[turn_index]
        turn.feedback = 1 if data.liked is True else -1 if data.liked is False else 0
        if self.assistant.sessions is not None:
            try:
                self.assistant.sessions.add_feedback(session, turn_index, turn.feedback)
            except Exception:
                log.exception("could not store feedback in the session store")
        self._log(session, turn_index, turn)
        return state

    def _log(self, session, turn_index: int, turn) -> None:
        if self.feedback_log is None:
            return
        record = {"ts": time.time(), "session_id": session.session_id, "user_id": session.user_id,
                  "turn": turn_index, "feedback": turn.feedback, "user": redact(turn.user), "reply": redact(turn.reply),
                  "intent": turn.intent, "lang": turn.lang, "products": turn.products,
                  "tools": [c.get("name") for c in turn.tool_calls]}
        try:
            with self._log_lock, open(self.feedback_log, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as e:  # a read-only index folder: the feedback stays on the turn
            log.warning("could not append feedback to %s: %s", self.feedback_log, e)


def build_shopper(shopper: Shopper) -> None:
    """The shopper tab's components and events, inside the caller's gr.Blocks / gr.Tab."""
    persona0 = shopper.default_persona()
    state = gr.State(shopper.new_state(persona0))
    cards = gr.State({"lang": "en", "products": []})
    with gr.Row():
        with gr.Column(scale=7, min_width=420):
            persona = gr.Dropdown(shopper.personas(), value=persona0, label="Signed in as (demo shopper)",
                                  elem_id="persona")
            # no floating label or toolbar over the messages; text is text (no LaTeX either)
            chatbot = gr.Chatbot(label="Shopping assistant", show_label=False, buttons=["copy"], height=480,
                                 elem_id="shopper-chat", feedback_options=("Like", "Dislike"),
                                 group_consecutive_messages=False, latex_delimiters=[])
            with gr.Row():
                box = gr.MultimodalTextbox(placeholder="Ask for a product, a comparison, reviews, your cart or an "
                                                       "order, or attach a photo of a product… / 用中文提问、发商品照片也可以",
                                           show_label=False, scale=8, elem_id="shopper-input", file_types=["image"],
                                           file_count="single", sources=["upload"], submit_btn=False)
                send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="shopper-send")
            status = gr.HTML(C.turn_status(0, None), elem_id="turn-status")
        with gr.Column(scale=4, min_width=280):
            lang0 = shopper.store.users[persona0].lang if persona0 in shopper.store.users else "en"
            cart = gr.HTML(C.cart_panel({}, shopper.store.products, lang0), elem_id="cart-panel")
            who = gr.HTML(C.persona_panel(shopper.store, persona0 or None), elem_id="persona-panel")
            gr.Examples([[e] for e in EXAMPLES_EN], [box], label="Examples")
            gr.Examples([[e] for e in EXAMPLES_ZH], [box], label="示例")
    gr.Markdown("#### Products in this reply / 本次回复中的商品")

    @gr.render(inputs=[cards])
    def show_cards(value):
        lang, products = value.get("lang", "en"), value.get("products", [])
        if not products:
            gr.Markdown("*No products in this reply.*" if lang != "zh" else "*本次回复中没有商品。*")
            return
        with gr.Row(equal_height=True, elem_classes="sa-cards"):
            for p in products:
                with gr.Column(min_width=190, scale=1, elem_classes="sa-card-col"):
                    gr.HTML(C.product_card(p, lang), js_on_load=C.IMG_FALLBACK_JS, key=f"card-{p['product_id']}")
                    button = gr.Button(C.label(lang, "add"), size="sm", elem_id=f"add-{p['product_id']}",
                                       elem_classes="sa-add", key=f"add-{p['product_id']}")
                    button.click(lambda s, pid=p["product_id"]: shopper.add_to_cart(pid, s), [state],
                                 [state, chatbot, cart])

    compare = gr.HTML(elem_id="comparison")
    reviews = gr.HTML(elem_id="reviews")
    outputs = [chatbot, box, state, cards, compare, reviews, cart, who, status]
    box.submit(shopper.respond_multimodal, [box, state], outputs)
    send.click(shopper.respond_multimodal, [box, state], outputs)
    persona.change(shopper.switch_persona, [persona], [state, chatbot, cards, compare, reviews, cart, who, status])
    chatbot.like(shopper.feedback, [state], [state])


def build_app(assistant: Assistant, index_dir: str | Path | None = None, note: str = "",
              agent_models=None, phrase_limit_s: float | None = None) -> gr.Blocks:
    """The shopper chat and the agent console in one app; phrase_limit_s bounds the console's LLM phrasing."""
    from assistant.agent_assist import PHRASE_LIMIT_S, AgentModels
    from ui.agent_console import AgentConsole, build_console
    from ui.service_desk import build_service_desk, open_desk, sync_handoffs

    store = assistant.index.store
    agents = agent_models or AgentModels(store, Path(index_dir) / "models" if index_dir else None,
                                         insights=assistant.insights)
    console = AgentConsole(store, agents, assistant.backend, phrase_limit_s=phrase_limit_s or PHRASE_LIMIT_S)
    desk = open_desk(assistant, index_dir)  # after-sales service, when the index carries service data
    if desk is not None:
        sync_handoffs(desk, store)
    backend = getattr(assistant.backend, "name", None)
    # no analytics: the app is offline (and gradio 6 fails comparing our theme with its own for them)
    with gr.Blocks(title="shopassist", analytics_enabled=False) as app:
        gr.Markdown(f"## shopassist · {md_text(store.name)} store · {len(store.products)} products · "
                    + (f"LLM: {backend} · {md_text(C.model_label(assistant.backend))}" if backend
                       else "templated replies (no LLM)"))
        if note:
            gr.Markdown(f"**Warning**: {md_text(note)}", elem_id="backend-note")
        shopper = Shopper(assistant, index_dir)
        with gr.Tab("Shopper chat", elem_id="tab-shopper"):
            build_shopper(shopper)
        with gr.Tab("Agent console", elem_id="tab-agent"):
            queue = build_console(console)
        if desk is not None:
            with gr.Tab("Service desk", elem_id="tab-service"):
                build_service_desk(desk, store)
        # the queue at once (statuses "…"), then again when every conversation is analysed; never a spinner over it
        app.load(lambda: console.queue_rows(wait_s=0), None, queue, show_progress="hidden").then(
            console.queue_rows, None, queue, show_progress="hidden")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **kw):
    """Serve offline: system fonts (no font CDN), no analytics, no server-side rendering."""
    theme = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "Noto Sans CJK SC", "sans-serif"],
                           font_mono=["ui-monospace", "monospace"])
    kw.setdefault("max_file_size", MAX_IMAGE_BYTES)  # uploads (photos) are refused by Gradio past the photo limit
    return app.launch(server_name=host, server_port=port, css=C.CSS, theme=theme, ssr_mode=False,
                      show_error=False, quiet=False, footer_links=[], **kw)
