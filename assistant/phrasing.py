"""The reply of a turn: templated from tool results, or phrased by the model and gated sentence by sentence.

"template" (the default for small models) streams the reply built by assistant.replies. "lead" streams it at once
and lets the model add one helpful sentence; "full" lets the model write the whole answer from the FACTS block.
Every model sentence goes through assistant.grounding (prices, ratings, counts, ids, brands, quotes, offers,
actions, product features, instruction text) and is dropped when it states what the facts do not hold; a reply
left empty falls back to the template. Knows nothing about how tools were chosen.
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import prompts
from assistant import guard, render, replies
from assistant.errors import BackendError, BackendTimeout
from assistant.grounding import Grounding, field_numbers, numbers_in, split_sentences
from assistant.toolcalls import ProseFilter


_WARRANTY = re.compile(r"warranty|guarantee|保修|质保", re.I)
_CHANGE_WORDS = re.compile(r"cancel|return|exchange|refund|replace|broke|damaged|defective|取消|退|换|坏", re.I)


_SENTENCE_END = re.compile(r"[.!?。！？…)\]」』\"']$")

class Phraser:
    def __init__(self, index, backend, config):
        self.index, self.backend, self.config = index, backend, config
        self._brands = {p.brand for p in index.store.products.values() if p.brand}

    # ---- the templated reply -----------------------------------------------------------------------
    def template(self, session, text: str, u, plan, res) -> str:
        lang = res.lang
        conv = u.trace.get("converted")
        if plan.ask:
            return self._currency_note(u, conv, lang) if plan.ask == "currency" and conv else \
                self._ask(plan.ask, u, session, lang)
        out = []
        if conv:
            out.append(self._currency_note(u, conv, lang))
        if plan.reply == "cart":
            out.append(self.cart_text(session, lang))
        elif plan.reply == "cart_already":
            out.append(("购物车里已经有这个数量了。" if lang == "zh" else "Your cart already has that many. ")
                       + self.cart_text(session, lang))
        elif plan.reply == "policy":
            followup = u.sources.get("action") == "rule:policy_followup" and session.turns
            out.append(self._policy_reply(f"{session.turns[-1].user} {text}" if followup else text, lang))
        elif plan.reply == "chitchat":
            out.append(replies.CHITCHAT["zh" if lang == "zh" else "en"])
        if res.tool_calls:
            out.append(replies.from_calls(res.tool_calls, lang, question=text))
            if _WARRANTY.search(text) and plan.reply is None:  # the store's warranty rule beside the product
                out.append(self.policy_text(text, lang, 1))
        if plan.reply == "order_change":
            out.append(self._order_change(text, lang))
        return "\n".join(p for p in out if p) or replies.CHITCHAT["zh" if lang == "zh" else "en"]

    def _currency_note(self, u, conv: dict, lang: str) -> str:
        store, cur = self.index.store, conv["currency"]
        values = [u.filters[k] for k in ("max_price", "min_price") if k in u.filters]
        if conv.get("assumed"):
            amounts = ", ".join(render.money(v, store.currency) for v in values)
            return replies.ask("currency_assumed", lang, store=store.currency, amounts=amounts)
        if conv.get("rate"):
            amounts = ", ".join(f"{render.money(v, cur)} ≈ {render.money(v * conv['rate'], store.currency)}" for v in values)
            return ("按本店汇率，" if lang == "zh" else "At the store's rate, ") + amounts + ("。" if lang == "zh" else ".")
        amounts = ", ".join(f"{v:,g} {cur}" for v in values)
        return replies.ask("currency", lang, store=store.currency, foreign=cur, amounts=amounts)

    def _ask(self, what: str, u, session, lang: str) -> str:
        if what == "order_id":
            own = self.index.store.orders_of(session.user_id) if session.user_id else []
            recent = sorted(own, key=lambda o: o.created_at, reverse=True)[:3]
            hint = ""
            if recent:
                ids = ", ".join(f"{o.order_id} ({replies.status_text(o.status, lang)})" for o in recent)
                hint = f"（您最近的订单：{ids}）" if lang == "zh" else f" (your recent orders: {ids})"
            return replies.ask("order_id", lang, hint=hint)
        return replies.ask(what, lang)

    def cart_text(self, session, lang: str) -> str:
        from assistant.tools import cart_lines, cart_total

        products = self.index.store.products
        lines = [(p.title, q, p.price) for p, q in cart_lines(products, session.cart)]
        return replies.cart_reply(lines, cart_total(products, session.cart), lang)

    def policy_text(self, text: str, lang: str = "en", n: int = 2) -> str:
        """The store-policy sentences that answer the question (assistant.agent_policy), one per line."""
        from assistant.agent_policy import policy_lines, relevant_lines

        if not self.index.store.policy:
            return ""
        return "\n".join(ln.text for ln in relevant_lines(policy_lines(self.index.store.policy), text, lang, n))

    def _policy_reply(self, text: str, lang: str) -> str:
        policy = self.policy_text(text, lang, 3)
        if not policy:
            return ("抱歉，我这里没有这家店的政策信息，请查看店铺的帮助页面。" if lang == "zh" else
                    "Sorry, I don't have this store's policy details; please check the store's help pages.")
        return policy

    def _order_change(self, text: str, lang: str) -> str:
        policy = self.policy_text(text if _CHANGE_WORDS.search(text) else text + " return cancel", lang, 2)
        note = ("我无法在这里直接修改订单；客服可以按店铺政策为您办理。" if lang == "zh" else
                "I can't change orders from this chat; a service agent can do it for you under the store's policy.")
        return (policy + "\n" if policy else "") + note

    # ---- the answer --------------------------------------------------------------------------------
    def answer(self, session, text: str, u, plan, res, t0: float) -> Iterator:
        from assistant.engine import TextEvent

        templated = self.template(session, text, u, plan, res)
        failed = any(c.get("error") for c in res.tool_calls)
        use_llm = (self.backend is not None and self.config.phrase_with_llm and self.config.answer_style != "template"
                   and not res.no_match and not failed and not plan.ask and res.tool_calls)
        if res.text:  # agent mode already phrased and gated the answer
            res.timings.setdefault("ttft_ms", (time.perf_counter() - t0) * 1e3)
            yield TextEvent(res.text)
            return
        if not use_llm:
            res.text = templated
            res.timings["ttft_ms"] = (time.perf_counter() - t0) * 1e3
            yield TextEvent(templated)
            return
        yield from self._model_answer(session, text, plan, res, t0, templated)

    def grounding(self, text: str, res, session, extra: str = "") -> Grounding:
        calls = res.tool_calls
        facts = render.facts(calls, max_products=5) + ("\n" + extra if extra else "")
        trusted = field_numbers([c.get("result") for c in calls]) | numbers_in(extra)
        discounted = any(p.get("discount_pct") for p in res.products)
        return Grounding(facts, text, set(self.index.store.products), self._brands, trusted_numbers=trusted,
                         trusted_text=extra + (" % off, discount" if discounted else ""),
                         private=self.private_text(res.lang), products=list(res.products))

    def _model_answer(self, session, text: str, plan, res, t0: float, templated: str) -> Iterator:
        from assistant.engine import TextEvent

        policy = self.policy_text(text, res.lang, 3) if plan.reply in ("policy", "order_change") else ""
        grounding = self.grounding(text, res, session, policy)
        facts = render.facts(res.tool_calls, max_products=3)
        lead = self.config.answer_style == "lead"
        emitted: list[str] = []
        if lead:  # the facts first, at once; the model adds one helpful sentence after them
            res.timings["ttft_ms"] = (time.perf_counter() - t0) * 1e3
            emitted.append(templated)
            yield TextEvent(templated)
            instruction = prompts.render(f"lead_{'zh' if res.lang == 'zh' else 'en'}.md")
        else:
            instruction = prompts.render(f"full_{'zh' if res.lang == 'zh' else 'en'}.md")
        messages = [{"role": "system", "content": prompts.render(f"system_{res.lang}.md", store_name=self.config.store_name)},
                    {"role": "user", "content": prompts.render("answer.md", question=text, facts=facts,
                                                               policy=policy, instruction=instruction)}]
        yield from self.stream_gated(messages, grounding, res, emitted, t0,
                                     None if lead else self.config.max_full_answer_tokens)
        if not emitted or (res.grounding_violations and not "".join(emitted).strip()):
            res.timings.setdefault("ttft_ms", (time.perf_counter() - t0) * 1e3)
            emitted.append(templated)
            yield TextEvent(templated)
        res.text = "\n".join(s.strip() for s in emitted if s.strip()) if lead else " ".join(s.strip() for s in emitted)

    def stream_gated(self, messages, grounding: Grounding, res, emitted: list[str], t0: float,
                     max_tokens: int | None = None) -> Iterator:
        """Stream the model's answer clause by clause through the grounding check."""
        buffer = ""
        prose = ProseFilter()  # tool-call markup in an answer is never shown (no tool runs from here)
        try:
            for item in self.backend.stream(messages, max_tokens=max_tokens or self.config.max_answer_tokens,
                                            temperature=self.config.temperature, seed=self.config.seed,
                                            timeout_s=self.config.llm_timeout_s):
                if not isinstance(item, str):
                    res.prompt_tokens += item.prompt_tokens
                    continue
                buffer += prose.feed(item)
                parts = split_sentences(buffer)
                if len(parts) > 1:
                    for s in parts[:-1]:
                        yield from self._gate(s, grounding, res, emitted, t0)
                    buffer = parts[-1]
            buffer = re.sub(r"\s+\d{1,2}[.)]$", "", buffer + prose.flush())  # a list item's number, cut there
            # an unfinished last clause (the token limit cut it) is left out once something complete was said
            if buffer.strip() and (not emitted or _SENTENCE_END.search(buffer.strip())):
                yield from self._gate(buffer, grounding, res, emitted, t0)
        except (BackendError, BackendTimeout) as e:
            res.errors.append(f"answer backend failed: {e}")

    def _gate(self, sentence: str, grounding: Grounding, res, emitted: list[str], t0: float) -> Iterator:
        from assistant.engine import TextEvent

        sentence = guard.strip_instructions(sentence) if sentence else sentence
        violations = grounding.check(sentence)
        if violations:
            res.grounding_violations += [{"kind": v.kind, "claim": v.claim, "sentence": v.sentence} for v in violations]
            return
        if not sentence.strip() or sentence.strip() == guard.REMOVED or any(
                sentence.strip() == e.strip() for e in emitted):  # never the same sentence twice
            return
        res.timings.setdefault("ttft_ms", (time.perf_counter() - t0) * 1e3)
        emitted.append(sentence)
        yield TextEvent(sentence if len(emitted) == 1 else " " + sentence.strip())

    def private_text(self, lang: str) -> str:
        """The instructions a reply must never repeat."""
        names = [f"system_{lang}.md", "parse.md", f"lead_{lang}.md", f"full_{lang}.md", "agent.md"]
        texts = []
        for name in names:
            try:
                texts.append(prompts.render(name, store_name=self.config.store_name))
            except Exception:  # a prompt that needs other variables: its static text is enough
                continue
        return "\n".join(texts) + "\n" + prompts.render("answer.md", question="", facts="", policy="", instruction="")
