"""The dialogue engine: one shopper turn from text to a grounded, streamed reply with structured data.

Per turn: understand (assistant.understand: slots, named rules, the learned classifier and, when needed, the
model's structured parse) -> the guard's phrase lists as a fallback refusal -> plan (assistant.turn_policy: which
tools, with which arguments, decided in code) -> tools -> reply. With the default answer style "template" the reply
is built from the tool results (assistant.replies); "lead" streams that at once and lets the model add one
sentence; "full" lets the model phrase the whole answer. Every model sentence passes the grounding check
(assistant.grounding: numbers, ids, brands, quotes, offers, actions, product features) or is dropped, and the
template replaces an empty or failed answer. With router "agent" (strong backends) the model chooses the tools
itself over several steps (assistant.agent), inside the same permissions.

Backend errors and timeouts degrade to the rule-based reading and templated replies; the trace records what
happened. Knows nothing about UIs or HTTP.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from assistant import guard, replies
from assistant.insights_registry import Insights
from assistant.parse import LLMReader
from assistant.phrasing import Phraser
from assistant.session import Session, Turn
from assistant.slots import MAX_QUANTITY
from assistant.tooling import NotYours, ToolError
from assistant.tools import TOOLS, ToolContext
from assistant.turn_policy import ToolCall, TurnPlan, TurnPolicy
from assistant.understand import Understander, Understanding, detect_lang
from retrieval.search import ProductIndex

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 4000
ROUTERS = ("auto", "llm", "plan", "agent")
ANSWER_STYLES = ("template", "lead", "full")
_GUARD_REASON = {"privacy": "privacy", "order_not_yours": "order_not_yours", "manipulation": "price_change",
                 "injection": "override"}


@dataclass
class AssistantConfig:
    # auto: the model parses a turn only when the exact readers leave it open | llm: every turn | plan: never |
    # agent: the model chooses tools itself (strong backends)
    router: str = "auto"
    # template: replies from tool results | lead: template at once + one model sentence | full: the model phrases all
    answer_style: str = "template"
    phrase_with_llm: bool = True  # False: templated replies whatever the style
    llm_timeout_s: float = 60.0
    parse_timeout_s: float = 20.0
    max_answer_tokens: int = 90         # the one sentence of "lead"
    max_full_answer_tokens: int = 220   # a whole answer ("full"): room for a list of five products
    max_agent_steps: int = 4
    max_repairs: int = 1
    store_name: str = "our store"
    temperature: float = 0.0      # 0: greedy, repeatable; > 0 samples (eval: pass^k over repeated runs)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.router not in ROUTERS:
            raise ValueError(f"router {self.router!r} is not one of {ROUTERS}")
        if self.answer_style not in ANSWER_STYLES:
            raise ValueError(f"answer style {self.answer_style!r} is not one of {ANSWER_STYLES}")


@dataclass
class TurnResult:
    text: str
    intent: str
    lang: str
    products: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False
    no_match: bool = False
    grounding_violations: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    errors: list[str] = field(default_factory=list)
    comparison: dict[str, Any] | None = None
    review_summary: dict[str, Any] | None = None
    cart: dict[str, int] = field(default_factory=dict)
    understanding: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class ToolEvent:
    call: dict[str, Any]
    done: bool


@dataclass
class TextEvent:
    delta: str


@dataclass
class DoneEvent:
    result: TurnResult


class Assistant:
    def __init__(self, index: ProductIndex, backend=None, insights: Insights | None = None,
                 config: AssistantConfig | None = None, sessions=None, classifier=None, service=None):
        self.index = index
        self.service = service  # an assistant.service ServiceAgent when the store has after-sales records
        self.sessions = sessions  # an assistant.persistence.SessionStore, or None: sessions live in memory only
        self.insights = insights or Insights()
        self.config = config or AssistantConfig()
        self.understander = Understander(index, None, classifier, self.config.router)
        self.policy = TurnPolicy(index)
        self.phraser = Phraser(index, None, self.config)
        self.backend = backend

    @property
    def backend(self):
        return self._backend

    @backend.setter
    def backend(self, backend) -> None:
        """One model for the whole turn: the reader of turns and the phrasing of answers follow a replaced
        backend (a tracing wrapper, a fallback after a failed load)."""
        self._backend = backend
        timeout = min(self.config.parse_timeout_s, self.config.llm_timeout_s)
        self.understander.reader = LLMReader(backend, timeout_s=timeout) if backend is not None else None
        self.phraser.backend = backend

    def new_session(self, user_id: str | None = None, session_id: str | None = None) -> Session:
        """A fresh session, or with a SessionStore the saved one of this user by that id (cart, turns, last shown)."""
        if session_id and self.sessions is not None:
            restored = self.sessions.load(session_id, user_id)
            if restored is not None:
                return restored
        return Session(user_id=user_id, session_id=session_id) if session_id else Session(user_id=user_id)

    def turn(self, session: Session, text: str) -> TurnResult:
        result = None
        for event in self.stream(session, text):
            if isinstance(event, DoneEvent):
                result = event.result
        return result

    # ---- the turn ------------------------------------------------------------------------------
    def stream(self, session: Session, text: str,
               search: dict[str, Any] | None = None) -> Iterator[ToolEvent | TextEvent | DoneEvent]:
        """One turn. `search` ({"query", "brand"}), when given, is the turn's reading already made (a photo's
        words): a product search on exactly those words, `text` being what is recorded as the shopper's."""
        t0 = time.perf_counter()
        # lone surrogates (undecodable bytes let through by a caller) would break encoders and storage
        text = (text or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()
        lang = detect_lang(text) if text else session.lang
        session.lang = lang
        res = TurnResult(text="", intent="chitchat", lang=lang)
        self._save(res, "begin_turn", session, text[:MAX_INPUT_CHARS])
        if not text or len(text) > MAX_INPUT_CHARS:
            res.text = self._bad_input(text, lang)
            res.errors.append("empty input" if not text else f"input of {len(text)} chars over {MAX_INPUT_CHARS}")
            yield TextEvent(res.text)
            yield from self._finish(session, text[:MAX_INPUT_CHARS], res, t0, [])
            return
        if self.service is not None and self._wants_service(text, session):
            yield from self._service_turn(session, text, res, t0)
            return
        self.understander.router = self.config.router
        self.understander.sampling = (self.config.temperature, self.config.seed)
        u = self.understander.read(text, session) if search is None else _search_reading(search, lang)
        self._guard(u, text, session)
        res.intent, res.understanding = u.intent, _summary(u)
        res.timings["understand_ms"] = u.trace.get("ms", 0.0)
        if "model" in u.trace:
            res.prompt_tokens += u.trace["model"].get("prompt_tokens", 0)
            if u.trace["model"].get("error"):
                res.errors.append(u.trace["model"]["error"])
        plan = self._currency(u, self.policy.plan(u, session), session)
        if plan.refusal:
            res.refused = True
            q = u.quantity
            amount = (str(int(q)) if float(q).is_integer() else str(q)) if isinstance(q, (int, float)) and \
                plan.refusal == "bad_quantity" else ""
            res.text = replies.refusal(plan.refusal, lang, MAX_QUANTITY, amount)
            res.errors.append(f"refused: {plan.refusal}")
            yield TextEvent(res.text)
            yield from self._finish(session, text, res, t0, [], focus=u.products or u.mentioned)
            return
        calls = plan.calls
        if self.config.router == "agent" and self.backend is not None and plan.reply is None and plan.ask is None:
            from assistant.agent import run_agent

            calls = yield from run_agent(self, session, text, u, plan, res)
        else:
            calls = yield from self._run_calls(session, calls)
        res.tool_calls = [c.to_dict() for c in calls]
        if calls and all(c.not_yours for c in calls):  # an unknown order reads exactly like someone else's
            res.refused, res.text = True, replies.refusal("order_not_yours", lang)
            res.errors.append("refused: order_not_yours")
            yield TextEvent(res.text)
            yield from self._finish(session, text, res, t0, res.tool_calls)
            return
        self._collect(res, res.tool_calls, u)
        yield from self.phraser.answer(session, text, u, plan, res, t0)
        yield from self._finish(session, text, res, t0, res.tool_calls, focus=_focus_after(u, plan, res))

    @staticmethod
    def _wants_service(text: str, session: Session) -> bool:
        from assistant.service.hook import wants_service

        return wants_service(text, session.service)

    def _service_turn(self, session: Session, text: str, res: TurnResult, t0: float) -> Iterator[TextEvent | DoneEvent]:
        """An after-sales message (cancel, return, exchange, change an order, or a service conversation still open):
        the service agent answers under the store's written policy; a write runs only on the shopper's next yes."""
        from assistant.service.hook import service_turn

        res.intent = "support"
        try:
            reply, session.service = service_turn(self.service, session.service, session.user_id, text)
            res.text, res.tool_calls = reply.text, list(reply.tool_calls)
            res.understanding = {"action": "service", "proposal": reply.proposal, "executed": reply.executed,
                                 "transferred": reply.transferred, "parse": reply.parse}
        except Exception as e:  # a failing service agent: an apology and a person, never a stack trace
            log.exception("service agent failed")
            res.errors.append(f"service agent: {type(e).__name__}: {e}")
            res.text = replies.service_unavailable(res.lang)
        yield TextEvent(res.text)
        yield from self._finish(session, text, res, t0, res.tool_calls)

    def _guard(self, u: Understanding, text: str, session: Session) -> None:
        """The phrase lists of assistant.guard, as a fallback behind the turn's own reading."""
        if u.action == "refuse":
            return
        owned = {o.order_id for o in self.index.store.orders_of(session.user_id)} if session.user_id else set()
        existing = [o for o in u.order_ids if o in self.index.store.orders]
        r = guard.check(text, session.user_id, owned, existing)
        if r is not None:
            u.action, u.refusal = "refuse", _GUARD_REASON[r.reason]
            u.sources["action"] = f"guard:{r.reason}"

    def _currency(self, u: Understanding, plan: TurnPlan, session: Session) -> TurnPlan:
        """A price written in another currency: converted at the store's configured rate and said so. With no
        rate configured, nothing is searched with a limit the shopper did not mean: the reply asks for the amount
        in the store's currency; except an amount in 元/块 alone (Chinese for money of any kind), read in the
        store's currency and said so."""
        if not u.foreign_currency or not plan.calls:
            return plan
        rate = self.index.store.exchange_rates.get(u.foreign_currency)
        u.trace["converted"] = {"currency": u.foreign_currency, "rate": rate, "assumed": False}
        if rate is None and u.currency_word_only:
            u.trace["converted"]["assumed"] = True
            return plan
        if rate is None:  # the need stays: "4,000 rupees then" searches it
            if u.query:
                session.last_search = {"query": u.query, "filters": {k: v for k, v in u.filters.items()
                                                                     if k not in ("max_price", "min_price")}}
            return TurnPlan(ask="currency")
        for call in plan.calls:
            for key in ("max_price", "min_price"):
                if key in call.arguments and key in u.filters:
                    call.arguments[key] = round(u.filters[key] * rate, 2)
        return plan

    def _run_calls(self, session: Session, calls: list[ToolCall]) -> Iterator[ToolEvent]:
        ctx = self.tool_context(session)
        for call in calls:
            yield ToolEvent(call.to_dict(), done=False)
            self.run_tool(ctx, call)
            yield ToolEvent(call.to_dict(), done=True)
        return calls

    def tool_context(self, session: Session) -> ToolContext:
        return ToolContext(self.index, session, self.insights,
                           persist_cart=self.sessions.cart_saver(session) if self.sessions is not None else None)

    @staticmethod
    def run_tool(ctx: ToolContext, call: ToolCall) -> None:
        t = time.perf_counter()
        try:
            # retrieved text is data: instruction-like clauses never reach a prompt or a reply
            call.result = guard.neutralise(TOOLS[call.name](ctx, call.arguments))
        except NotYours as e:
            call.error, call.not_yours = str(e), True
        except ToolError as e:
            call.error = str(e)
        except Exception as e:  # a bug in a tool: the shopper gets an apology, the trace the detail
            log.exception("tool %s failed", call.name)
            call.error = f"internal error in {call.name} ({type(e).__name__})"
        call.ms = round((time.perf_counter() - t) * 1e3, 1)

    def _collect(self, res: TurnResult, calls: list[dict[str, Any]], u: Understanding) -> None:
        for call in calls:
            if call.get("error"):
                continue
            r = call.get("result") or {}
            name = call["name"]
            if name in ("search_products", "recommend"):
                res.products += r.get("products", [])
                if name == "search_products" and not r.get("matched"):
                    res.no_match = True
            elif name == "get_product":
                res.products.append({k: v for k, v in r.items() if k not in ("description", "attributes")})
            elif name == "compare_products":
                res.products += [{k: v for k, v in p.items() if k != "attributes"} for p in r.get("products", [])]
                res.comparison = r
            elif name == "review_sentiment_summary":
                res.review_summary = r
                if r.get("product"):
                    res.products.append(r["product"])
            elif name == "add_to_cart":
                res.products.append(r["added"])
        seen, unique = set(), []
        for p in res.products:
            if p["product_id"] not in seen:
                seen.add(p["product_id"])
                unique.append(p)
        res.products = unique

    def _bad_input(self, text: str, lang: str) -> str:
        if not text:
            return "请问您想找什么商品？" if lang == "zh" else "What are you shopping for today?"
        return (f"您的消息太长（{len(text)}字），请控制在{MAX_INPUT_CHARS}字以内。" if lang == "zh"
                else f"Your message is too long ({len(text)} characters); please keep it under {MAX_INPUT_CHARS}.")

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _finish(self, session: Session, text: str, res: TurnResult, t0: float, calls,
                focus=None) -> Iterator[DoneEvent]:
        res.timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        res.timings.setdefault("ttft_ms", res.timings["total_ms"])
        shown = [p["product_id"] for p in res.products]
        lists = {"search_products", "recommend", "compare_products"}
        if shown and not res.no_match and any(c["name"] in lists and not c.get("error") for c in calls):
            session.last_shown = shown
        res.cart = dict(session.cart)
        session.turns.append(Turn(user=text, reply=res.text, intent=res.intent, lang=res.lang, products=shown,
                                  focus=list(focus or []),
                                  tool_calls=[{k: v for k, v in c.items() if k != "result"} for c in calls],
                                  refused=res.refused, no_match=res.no_match))
        self._save(res, "finish_turn", session)
        yield DoneEvent(res)

    def _save(self, res: TurnResult, step: str, *args) -> None:
        """A SessionStore write; a failing store costs durability (reported), never the shopper's answer."""
        if self.sessions is None:
            return
        try:
            getattr(self.sessions, step)(*args)
        except Exception as e:
            log.exception("session store: %s failed", step)
            res.errors.append(f"session not saved ({step}: {type(e).__name__}: {e})")


def _search_reading(search: dict[str, Any], lang: str) -> Understanding:
    filters = {"brand": search["brand"]} if search.get("brand") else {}
    return Understanding(action="search", lang=lang, query=str(search.get("query", "")), filters=filters,
                         sources={"action": "given"})


def _focus_after(u: Understanding, plan: TurnPlan, res: TurnResult) -> list[str]:
    """What the next "it" means: the winner of a "which is cheapest/best" comparison, else what the turn was about."""
    items = [i["product_id"] for c in res.tool_calls if c["name"] == "order_status" and c.get("result")
             for i in c["result"].get("items", [])]
    if items:  # "what do buyers say about its camera?" after an order: the order's products
        return items
    winner = u.trace.get("winner")
    if winner and res.comparison:
        key = {"cheapest": "cheapest", "best_rated": "best_rated"}.get(winner)
        pid = res.comparison.get("summary", {}).get(key) if key else None
        if pid:
            return [pid]
    return plan.focus or u.products


def _summary(u: Understanding) -> dict[str, Any]:
    """The turn's reading as the trace shows it (no message text)."""
    return {"action": u.action, "refusal": u.refusal, "query": u.query, "products": u.products,
            "reference": u.reference, "filters": u.filters, "quantity": u.quantity, "order_ids": u.order_ids,
            "aspect": u.aspect, "refine": u.refine, "sources": u.sources, "rule": u.trace.get("rule"),
            "parse": u.trace.get("parse")}


def default_config(backend_name: str | None, model: str | None = None, **overrides) -> AssistantConfig:
    """The documented per-backend defaults: small local models read turns and replies are templated; strong
    backends (transformers on a GPU, an OpenAI-compatible server) run in agent mode and phrase the whole answer."""
    if backend_name in (None, "none", "templated"):
        base = {"router": "plan", "answer_style": "template"}
    elif backend_name in ("transformers", "openai"):
        base = {"router": "agent", "answer_style": "full"}
    else:
        base = {"router": "auto", "answer_style": "template"}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return AssistantConfig(**base)
