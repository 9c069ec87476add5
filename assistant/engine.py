"""The dialogue engine: one shopper turn from text to a grounded, streamed reply with structured data.

Per turn: guard (refusals decided in code) -> plan (deterministic tools and constraints) -> optional
LLM tool choice among the allowed tools (when the plan is not confident, or always with
router="llm") with schema validation, one repair round and the plan as fallback -> tools -> answer
phrased by the LLM from the FACTS block, streamed sentence by sentence through the grounding check
(ungrounded sentences are dropped and counted; a templated reply built from the tool results
replaces an empty or failed answer). Backend errors and timeouts degrade to templated replies; the
trace records what happened. Knows nothing about UIs or HTTP.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import prompts
from assistant import guard, render
from assistant.errors import BackendError, BackendTimeout
from assistant.grounding import Grounding, field_numbers, numbers_in, split_sentences
from assistant.insights_registry import Insights
from assistant.planner import Plan, PlannedCall, Planner, allowed_tools
from assistant.session import Session, Turn
from assistant.toolcalls import ProseFilter
from assistant.tooling import ToolError
from assistant.tools import TOOLS, ToolContext
from retrieval.search import ProductIndex

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 4000
ROUTER_TOOLS = ("search_products", "get_product", "compare_products", "review_sentiment_summary", "recommend",
                "add_to_cart", "order_status")


@dataclass
class AssistantConfig:
    router: str = "auto"          # auto: plan when confident, LLM otherwise | llm: LLM always chooses | plan
    phrase_with_llm: bool = True  # False: templated replies only
    llm_timeout_s: float = 60.0
    max_answer_tokens: int = 90
    # "lead": the templated facts stream at once and the model adds one sentence (small CPU models);
    # "full": the model phrases the whole answer (stronger backends), the template is the fallback
    answer_style: str = "lead"
    max_repairs: int = 1
    store_name: str = "our store"
    temperature: float = 0.0      # 0: greedy, repeatable; > 0 samples (eval: pass^k over repeated runs)
    seed: int = 0


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


def detect_lang(text: str) -> str:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "zh" if cjk >= 2 or (cjk and cjk >= len(text.strip()) * 0.3) else "en"


class Assistant:
    def __init__(self, index: ProductIndex, backend=None, insights: Insights | None = None,
                 config: AssistantConfig | None = None, sessions=None):
        self.index, self.backend = index, backend
        self.sessions = sessions  # an assistant.persistence.SessionStore, or None: sessions live in memory only
        self.insights = insights or Insights()
        self.config = config or AssistantConfig()
        self.planner = Planner(index)
        store = index.store
        self._brands = {p.brand for p in store.products.values() if p.brand}

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
    def stream(self, session: Session, text: str) -> Iterator[ToolEvent | TextEvent | DoneEvent]:
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
        owned = {o.order_id for o in self.index.store.orders_of(session.user_id)} if session.user_id else set()
        plan = self.planner.plan(text, session, lang)
        refusal = guard.check(text, session.user_id, owned, plan.constraints.order_ids if plan.constraints else [])
        if refusal is not None:
            res.refused = True
            res.intent = {"privacy": "support", "order_not_yours": "support", "manipulation": "support",
                          "injection": "chitchat"}[refusal.reason]
            res.text = refusal.text(lang)
            res.errors.append(f"refused: {refusal.detail}")
            focus = [p for p in re.findall(r"\b[A-Z0-9]{5,}\b", text) if p in self.index.store.products]
            yield TextEvent(res.text)
            yield from self._finish(session, text, res, t0, [], focus=focus)
            return
        res.intent = plan.intent
        calls = self._choose_calls(session, text, plan, res)
        ctx = ToolContext(self.index, session, self.insights,
                          persist_cart=self.sessions.cart_saver(session) if self.sessions is not None else None)
        t_tools = time.perf_counter()
        for call in calls:
            yield ToolEvent(call, done=False)
            self._run_tool(ctx, call)
            yield ToolEvent(call, done=True)
        res.timings["tools_ms"] = (time.perf_counter() - t_tools) * 1e3
        res.tool_calls = calls
        self._collect(res, calls)
        yield from self._answer(session, text, plan, res, t0)
        yield from self._finish(session, text, res, t0, calls, focus=plan.focus)

    def _bad_input(self, text: str, lang: str) -> str:
        if not text:
            return "请问您想找什么商品？" if lang == "zh" else "What are you shopping for today?"
        return (f"您的消息太长（{len(text)}字），请控制在{MAX_INPUT_CHARS}字以内。" if lang == "zh"
                else f"Your message is too long ({len(text)} characters); please keep it under {MAX_INPUT_CHARS}.")

    # ---- tool choice ---------------------------------------------------------------------------
    def _choose_calls(self, session: Session, text: str, plan: Plan, res: TurnResult) -> list[dict[str, Any]]:
        planned = [self._call_dict(c, "plan") for c in plan.calls]
        use_llm = self.backend is not None and (self.config.router == "llm" or
                                                (self.config.router == "auto" and not plan.confident))
        if not use_llm or plan.show_cart or plan.policy or plan.ask_order:
            return planned
        t = time.perf_counter()
        chosen = self._llm_calls(session, text, res, allowed_tools(plan))
        res.timings["router_ms"] = (time.perf_counter() - t) * 1e3
        if not chosen:
            return planned
        return [self._merge_constraints(c, plan) for c in chosen]

    def _llm_calls(self, session: Session, text: str, res: TurnResult, allowed: set[str]) -> list[dict[str, Any]]:
        """The model's calls among the tools the plan allows this turn (never widened by any text)."""
        schemas = [TOOLS[n].schema() for n in ROUTER_TOOLS if n in allowed]
        owned = {o.order_id for o in self.index.store.orders_of(session.user_id)} if session.user_id else set()
        shown = ", ".join(f"{i}. {pid} {guard.strip_instructions(self.index.store.products[pid].title)[:50]}"
                          for i, pid in enumerate(session.last_shown[:5], 1) if pid in self.index.store.products)
        messages = [{"role": "system", "content": prompts.render(f"system_{res.lang}.md", store_name=self.config.store_name)
                     + "\n\n" + prompts.render("router.md", shown=shown)}]
        for user, reply in session.history(2):
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        messages.append({"role": "user", "content": text})
        for attempt in range(self.config.max_repairs + 1):
            try:
                gen = self.backend.generate(messages, tools=schemas, max_tokens=200,
                                            temperature=self.config.temperature, seed=self.config.seed,
                                            timeout_s=self.config.llm_timeout_s)
            except (BackendError, BackendTimeout) as e:
                res.errors.append(f"router backend failed: {e}")
                return []
            res.prompt_tokens += gen.prompt_tokens
            problems = list(gen.tool_call_errors)
            calls = []
            for tc in gen.tool_calls:
                tool = TOOLS.get(tc.name)
                if tool is None or tc.name not in ROUTER_TOOLS or tc.name not in allowed:
                    problems.append(f"unknown or not allowed tool {tc.name!r}")
                    continue
                from assistant.toolcalls import validate_arguments

                errs = validate_arguments(tool.parameters, tc.arguments)
                if errs:
                    problems.append(f"{tc.name}: " + "; ".join(errs))
                    continue
                if tc.name == "order_status" and str(tc.arguments.get("order_id", "")).strip().upper() not in owned:
                    # a model never picks whose order to read; the id is not echoed into the trace either
                    problems.append("order_status: an order id that is not one of the shopper's own orders")
                    continue
                calls.append({"name": tc.name, "arguments": dict(tc.arguments), "source": "llm"})
            if not problems:
                return calls
            res.errors.append("model tool-call errors: " + " | ".join(problems))
            messages += [{"role": "assistant", "content": gen.raw},
                         {"role": "user", "content": "Your tool call was invalid: " + " | ".join(problems)
                          + ". Reply with a corrected tool call."}]
        return []

    @staticmethod
    def _call_dict(call: PlannedCall, source: str) -> dict[str, Any]:
        return {"name": call.name, "arguments": dict(call.arguments), "source": source}

    @staticmethod
    def _merge_constraints(call: dict[str, Any], plan: Plan) -> dict[str, Any]:
        """Explicit constraints from the shopper's words win over what the model filled (or forgot)."""
        if call["name"] == "search_products" and plan.constraints is not None:
            planned = next((c.arguments for c in plan.calls if c.name == "search_products"), {})
            for key in ("max_price", "min_price", "min_rating", "brand", "category"):
                if key in planned:
                    call["arguments"][key] = planned[key]
        return call

    def _run_tool(self, ctx: ToolContext, call: dict[str, Any]) -> None:
        t = time.perf_counter()
        try:
            # retrieved text is data: instruction-like clauses never reach a prompt or a reply
            call["result"] = guard.neutralise(TOOLS[call["name"]](ctx, call["arguments"]))
        except ToolError as e:
            call["error"] = str(e)
        except Exception as e:  # a bug in a tool: the shopper gets an apology, the trace the detail
            log.exception("tool %s failed", call["name"])
            call["error"] = f"internal error in {call['name']} ({type(e).__name__})"
        call["ms"] = round((time.perf_counter() - t) * 1e3, 1)

    def _collect(self, res: TurnResult, calls: list[dict[str, Any]]) -> None:
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

    # ---- the answer ----------------------------------------------------------------------------
    def _answer(self, session: Session, text: str, plan: Plan, res: TurnResult, t0: float) -> Iterator[TextEvent]:
        calls = res.tool_calls
        policy = self._policy_text(text) if plan.policy else ""
        facts = render.facts(calls, max_products=3)
        if plan.show_cart:
            facts = self._cart_facts(session)
        templated = self._templated(calls, plan, res, session, policy)
        use_llm = self.backend is not None and self.config.phrase_with_llm and not res.no_match \
            and not any(c.get("error") for c in calls)
        if not use_llm:
            res.text = templated
            res.timings["ttft_ms"] = (time.perf_counter() - t0) * 1e3
            yield TextEvent(templated)
            return
        trusted = field_numbers([c.get("result") for c in calls]) | numbers_in(policy)
        if plan.show_cart:
            trusted |= numbers_in(facts)
        discounted = any(p.get("discount_pct") for p in res.products)
        grounding = Grounding(facts + "\n" + policy, text, set(self.index.store.products), self._brands,
                              trusted_numbers=trusted, trusted_text=policy + (" % off, discount" if discounted else ""),
                              private=self._private_text(res.lang), products=list(res.products))
        lead = self.config.answer_style == "lead"
        emitted: list[str] = []
        if lead:  # the facts first, at once; the model adds one helpful sentence after them
            res.timings["ttft_ms"] = (time.perf_counter() - t0) * 1e3
            emitted.append(templated)
            yield TextEvent(templated)
            instruction = (f"顾客已经看到：“{templated}”。请再补充一句简短、有帮助的话（例如指出评分最高或最便宜的选择，或建议下一步），"
                           "不要重复上面的内容，只使用上面的事实。" if res.lang == "zh" else
                           f"The shopper already sees: \"{templated}\" Add ONE short helpful sentence (for example point out "
                           "the best-rated or cheapest option, or suggest a next step). Do not repeat it; use only the facts above.")
        else:
            instruction = ("请直接对顾客说话（用“您”），用中文一到两句话回答，只使用上面的事实。" if res.lang == "zh"
                           else "Reply to the shopper directly (say \"you\"), in one or two sentences, using only the facts above.")
        messages = [{"role": "system", "content": prompts.render(f"system_{res.lang}.md", store_name=self.config.store_name)},
                    {"role": "user", "content": prompts.render("answer.md", question=text, facts=facts,
                                                               policy=policy, instruction=instruction)}]
        buffer = ""
        prose = ProseFilter()  # tool-call markup in an answer is never shown (no tool runs from here)
        try:
            for item in self.backend.stream(messages, max_tokens=self.config.max_answer_tokens,
                                            temperature=self.config.temperature, seed=self.config.seed,
                                            timeout_s=self.config.llm_timeout_s):
                if not isinstance(item, str):
                    res.prompt_tokens += item.prompt_tokens
                    continue
                buffer += prose.feed(item)
                sentences = split_sentences(buffer)
                if len(sentences) > 1:
                    for s in sentences[:-1]:
                        yield from self._gate(s, grounding, res, emitted, t0)
                    buffer = sentences[-1]
            buffer += prose.flush()
            if buffer.strip():
                yield from self._gate(buffer, grounding, res, emitted, t0)
        except (BackendError, BackendTimeout) as e:
            res.errors.append(f"answer backend failed: {e}")
        if not emitted or (res.grounding_violations and not "".join(emitted).strip()):
            res.timings.setdefault("ttft_ms", (time.perf_counter() - t0) * 1e3)
            emitted.append(templated)
            yield TextEvent(templated)
        res.text = " ".join(s.strip() for s in emitted).strip()

    def _gate(self, sentence: str, grounding: Grounding, res: TurnResult, emitted: list[str],
              t0: float) -> Iterator[TextEvent]:
        violations = grounding.check(sentence)
        if violations:
            res.grounding_violations += [{"kind": v.kind, "claim": v.claim, "sentence": v.sentence} for v in violations]
            return
        if not sentence.strip():
            return
        res.timings.setdefault("ttft_ms", (time.perf_counter() - t0) * 1e3)
        emitted.append(sentence)
        yield TextEvent(sentence if not emitted[:-1] else " " + sentence.strip())

    def _templated(self, calls, plan: Plan, res: TurnResult, session: Session, policy: str) -> str:
        zh = res.lang == "zh"
        if plan.show_cart:
            return self._cart_reply(session, zh)
        if plan.ask_order:
            return "请提供您的订单号（例如 O10001），我来帮您查询。" if zh else \
                "Please give me your order number (for example O10001) and I'll check it for you."
        if plan.policy and not calls:
            if not policy:
                return "抱歉，我这里没有这家店的政策信息，请查看店铺的帮助页面。" if zh else \
                    "Sorry, I don't have this store's policy details; please check the store's help pages."
            return policy.split("\n\n")[0][:600]
        if not calls:
            if plan.intent == "chitchat":
                return "您好！我可以帮您找商品、比较商品、看评价、管理购物车和查询订单。" if zh else \
                    "Hello! I can help you find and compare products, read reviews, fill your cart and check your orders."
            return "能再具体说说您想要什么吗？比如商品类型和预算。" if zh else \
                "Could you tell me a bit more, such as the kind of product and your budget?"
        return render.templated_reply(calls, res.lang)

    def _policy_text(self, text: str) -> str:
        policy = self.index.store.policy
        if not policy:
            return ""
        sections = [s.strip() for s in re.split(r"\n(?=#)", policy) if s.strip()]
        words = set(re.findall(r"[a-z]{4,}|[\u4e00-\u9fff]{2}", text.lower()))
        scored = sorted(sections, key=lambda s: -sum(w in s.lower() for w in words))
        return "\n\n".join(scored[:2])[:1200]

    def _cart_facts(self, session: Session) -> str:
        lines = []
        for pid, q in session.cart.items():
            p = self.index.store.products.get(pid)
            if p:
                lines.append(f"{q} x [{pid}] {p.title[:70]} at {render.money(p.price, p.currency)}")
        total = sum((self.index.store.products[p].price or 0) * q for p, q in session.cart.items()
                    if p in self.index.store.products)
        return "cart: " + ("; ".join(lines) + f"; total {render.money(total)}" if lines else "empty")

    def _cart_reply(self, session: Session, zh: bool) -> str:
        if not session.cart:
            return "您的购物车是空的。" if zh else "Your cart is empty."
        facts = self._cart_facts(session)[len("cart: "):]
        return ("购物车：" if zh else "Your cart: ") + facts

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _finish(self, session: Session, text: str, res: TurnResult, t0: float, calls, focus=None) -> Iterator[DoneEvent]:
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

    def _private_text(self, lang: str) -> str:
        """The instructions a reply must never repeat."""
        return (prompts.render(f"system_{lang}.md", store_name=self.config.store_name) + "\n"
                + prompts.render("router.md", shown="") + "\n" + prompts.render("answer.md", question="", facts="",
                                                                                  policy="", instruction=""))
