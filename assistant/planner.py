"""The deterministic half of the dialogue policy: from the shopper's words and the session, which
tool calls a turn needs, with which arguments, and the turn's intent label.

It resolves references ("the second one", "that cable", "第一个", "its"), carries filters across
refinements ("cheaper", "only boAt"), and fills every constraint the words state. The engine uses
its plan directly when it is confident and lets the LLM choose otherwise; either way the plan's
constraints are merged into the model's search arguments. Knows nothing about models or prompts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant import constraints as cons
from assistant.session import Session
from retrieval.lexical import tokenize
from retrieval.search import ProductIndex

INTENTS = ("browse", "compare", "purchase", "support", "chitchat")

_CART = re.compile(r"\b(?:add|put|throw)\b.*\b(?:cart|basket|bag)\b|\bbuy (?:it|this|that|them|the|one|two|\d)|"
                   r"\bi'?ll take\b|\border (?:it|this|that|one)\b|加入购物车|加到购物车|放进购物车|加购|买这个|我要买|下单", re.I)
_SHOW_CART = re.compile(r"what'?s in my (?:cart|basket)|show (?:me )?my (?:cart|basket)|my cart total|购物车里|看看购物车", re.I)
_COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|difference between|which (?:one |of (?:them|these|the two) )?is better|"
                      r"better than|对比|比较|哪个好|哪个更|区别", re.I)
_REVIEWS = re.compile(r"\breviews?\b|what do (?:people|customers|buyers|users) (?:say|think)|feedback|complain|"
                      r"\bis (?:the|its) \w+ (?:good|ok|bad|any good)|how (?:good )?is (?:the|its) \w+|\bpros and cons\b|"
                      r"评价|评论|口碑|好评|差评|怎么样|好不好|质量如何", re.I)
_DETAILS = re.compile(r"tell me (?:more|about)|more (?:details|info)|\bdetails\b|\bspecs?\b|specifications|features|"
                      r"what(?:'s| is) (?:its|the) (?:actual )?price|how much (?:is|does)|详情|参数|介绍一下|多少钱|价格是", re.I)
_RECOMMEND = re.compile(r"recommend|suggest|what should i (?:buy|get)|\bfor me\b|my friends|popular|trending|best seller|"
                        r"gift idea|推荐|适合我|朋友们?(?:喜欢|在买)|热门", re.I)
_ORDER = re.compile(r"\bmy orders?\b|order status|where(?:'s| is) my (?:order|package|parcel|delivery)|track(?:ing)? (?:my )?"
                    r"(?:order|package)|订单|物流|快递|到哪了", re.I)
_POLICY = re.compile(r"return policy|\breturns?\b|refund|shipping|delivery (?:time|charges?|fees?|options?)|warranty|"
                     r"cancel(?:lation)?|exchange|退货|退款|运费|保修|取消订单|换货|配送|发货", re.I)
_INTENT_PREDICT = re.compile(r"how likely (?:am i|is (?:this|the) (?:shopper|customer)) to buy|purchase (?:intent|propensity)|"
                             r"购买(?:意向|可能)", re.I)
_CHITCHAT = re.compile(r"^\s*(?:hi|hello|hey|thanks|thank you|thx|ok(?:ay)?|cool|great|bye|good (?:morning|evening|night)|"
                       r"who are you|how are you|never ?mind|你好|您好|谢谢|嗨|再见|好的|你是谁)\b", re.I)
_SEARCHY = re.compile(r"\b(?:show me|find|search|looking for|i need|i want|under|below|rated)\b|找|要买|以下", re.I)
_FILLER = re.compile(r"\b(?:please|pls|show me|can you|could you|i want|i need|i'?m looking for|looking for|do you (?:have|sell|carry)|"
                     r"find me|search for|get me|i would like|something|some|any|options?|ones?|only|just|instead|also|"
                     r"what about|how about|cheaper|less expensive|more expensive|with)\b|请|帮我|给我|我想要?|有没有|推荐一下|找一下|找",
                     re.I)


@dataclass
class PlannedCall:
    name: str
    arguments: dict[str, Any]


@dataclass
class Plan:
    intent: str
    calls: list[PlannedCall] = field(default_factory=list)
    confident: bool = True
    show_cart: bool = False
    policy: bool = False
    ask_order: bool = False
    constraints: cons.Constraints | None = None
    focus: list[str] = field(default_factory=list)  # product ids the turn is about


class Planner:
    def __init__(self, index: ProductIndex):
        self.index = index
        store = index.store
        self.brands = sorted({p.brand for p in store.products.values() if p.brand and len(p.brand) >= 2})
        self.categories = sorted({c for p in store.products.values() for c in p.category[1:] if len(c) >= 3})

    def plan(self, text: str, session: Session, lang: str) -> Plan:
        c = cons.extract(text, self.brands, self.categories)
        explicit_ids = [pid for pid in re.findall(r"\b[A-Z0-9]{5,}\b", text) if pid in self.index.store.products]
        if _CHITCHAT.search(text) and len(text.split()) <= 6 and not explicit_ids:
            return Plan("chitchat", constraints=c)
        if c.order_ids:
            return Plan("support", [PlannedCall("order_status", {"order_id": o}) for o in c.order_ids[:3]], constraints=c)
        if _SHOW_CART.search(text):
            return Plan("purchase", show_cart=True, constraints=c)
        if _ORDER.search(text) and not _CART.search(text) and not _POLICY.search(text):
            return Plan("support", ask_order=True, constraints=c)
        if _POLICY.search(text) and not _REVIEWS.search(text):
            return Plan("support", policy=True, constraints=c)
        if _INTENT_PREDICT.search(text):
            return Plan("purchase", [PlannedCall("predict_order_intent", {})], constraints=c)
        if _CART.search(text):
            return self._cart(text, session, c, explicit_ids)
        if _COMPARE.search(text):
            return self._compare(text, session, c, explicit_ids)
        if not _REVIEWS.search(text) and (_DETAILS.search(text) or (explicit_ids and len(tokenize(text)) <= 3)):
            target = self._refer(text, session, c, explicit_ids, 1) or session_focus(session)[:1]
            if target:
                return Plan("browse", [PlannedCall("get_product", {"product_id": target[0]})], constraints=c, focus=target)
        if _REVIEWS.search(text) or self._aspect_question(text):
            return self._reviews(text, session, c, explicit_ids)
        if _RECOMMEND.search(text):
            context = self._query_text(text, c) or None
            return Plan("browse", [PlannedCall("recommend", {"context": context, "k": 5})], constraints=c)
        return self._search(text, session, c)

    # ---- per-intent plans ------------------------------------------------------------------
    def _search(self, text: str, session: Session, c: cons.Constraints) -> Plan:
        query = self._query_text(text, c)
        filters = c.filters()
        refinement = (not query or len(tokenize(query)) <= 1 and (c.cheaper or c.pricier or filters)) and session.last_search
        if refinement:
            last = session.last_search
            query = last.get("query", query) if not query or c.cheaper or c.pricier or not filters.keys() - {"brand"} else query
            filters = {**last.get("filters", {}), **filters}
            if c.cheaper and session.last_shown:
                prices = [self.index.store.products[p].price for p in session.last_shown[:3] if p in self.index.store.products]
                prices = [p for p in prices if p is not None]
                if prices:
                    filters["max_price"] = round(min(prices) - 0.01, 2)
        if not query:
            return Plan("chitchat", confident=False, constraints=c)
        args = {"query": query, **filters, "k": 5}
        return Plan("browse", [PlannedCall("search_products", args)], confident=bool(tokenize(query)), constraints=c)

    def _cart(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        target = self._refer(text, session, c, explicit, 1)
        if not target:
            target = self._lookup(self._query_text(_CART.sub(" ", text), c))
        if not target:
            return Plan("purchase", confident=False, constraints=c)
        return Plan("purchase", [PlannedCall("add_to_cart", {"product_id": target[0], "quantity": c.quantity or 1})],
                    constraints=c, focus=target)

    def _compare(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        ids = list(explicit)
        if len(ids) < 2 and c.references:
            ids += [session.last_shown[i] for i in c.references if -len(session.last_shown) <= i < len(session.last_shown)]
        if len(ids) < 2:
            parts = re.split(r"\bwith\b|\band\b|\bvs\.?\b|\bversus\b|\bor\b|,|和|与|跟|还是", _COMPARE.sub(" ", text), flags=re.I)
            for part in parts:
                found = self._named(part, session) or self._lookup(part)
                ids += [f for f in found[:1] if f not in ids]
        if len(dict.fromkeys(ids)) < 2 and session.last_shown:
            ids += session.last_shown[:3 if re.search(r"three|3|三", text) else 2]
        ids = list(dict.fromkeys(ids))[:5]
        if len(ids) < 2:
            return Plan("compare", confident=False, constraints=c)
        return Plan("compare", [PlannedCall("compare_products", {"product_ids": ids})], constraints=c, focus=ids)

    def _reviews(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        target = (self._refer(text, session, c, explicit, 1) or self._lookup(self._query_text(_REVIEWS.sub(" ", text), c))
                  or session_focus(session)[:1])
        if not target:
            return Plan("browse", confident=False, constraints=c)
        from assistant.insights.aspects import find_aspects

        aspects = find_aspects(text)
        args: dict[str, Any] = {"product_id": target[0]}
        if aspects:
            args["aspect"] = aspects[0]
        return Plan("browse", [PlannedCall("review_sentiment_summary", args)], constraints=c, focus=target)

    @staticmethod
    def _aspect_question(text: str) -> bool:
        from assistant.insights.aspects import find_aspects

        return bool(find_aspects(text)) and bool(re.search(r"\?|？|\bhow\b|\bis it\b|\bgood\b|\bbad\b|吗|如何|怎样", text, re.I)) \
            and len(text) < 80 and not _SEARCHY.search(text)

    # ---- references --------------------------------------------------------------------------
    def _refer(self, text: str, session: Session, c: cons.Constraints, explicit: list[str], n: int) -> list[str]:
        if explicit:
            return explicit[:n]
        shown = session.last_shown
        picked = [shown[i] for i in c.references if shown and -len(shown) <= i < len(shown)]
        if picked:
            return picked[:n]
        named = self._named(text, session)
        if named:
            return named[:n]
        if c.pronoun or not self._query_text(text, c):
            focus = session_focus(session)
            if focus:
                return focus[:n]
        return []

    def _named(self, text: str, session: Session) -> list[str]:
        """Products among those shown whose titles share distinctive words with the text ("that cable")."""
        words = set(tokenize(text)) - {"one", "product", "item"}
        if not words:
            return []
        scored = []
        for pid in dict.fromkeys(session.last_shown + session_focus(session)):
            p = self.index.store.products.get(pid)
            if p is None:
                continue
            overlap = words & set(tokenize(f"{p.title} {p.brand}"))
            if overlap:
                scored.append((len(overlap), -session.last_shown.index(pid) if pid in session.last_shown else -99, pid))
        scored.sort(reverse=True)
        if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            return [scored[0][2]]
        return []

    def _lookup(self, text: str) -> list[str]:
        """The catalog product a phrase names, when search finds a clear match."""
        if len(tokenize(text)) == 0:
            return []
        hits = self.index.search(text, None, k=1)
        return [hits[0].product_id] if hits and hits[0].relevant else []

    @staticmethod
    def _query_text(text: str, c: cons.Constraints) -> str:
        q = cons.strip_constraints(text)
        q = _FILLER.sub(" ", q)
        q = re.sub(r"[?？!！,，。.]+", " ", q)
        return " ".join(q.split())


def session_focus(session: Session) -> list[str]:
    """Products the conversation is currently about: the last turn's focus, else the last shown."""
    for turn in reversed(session.turns):
        if turn.focus or turn.products:
            return list(turn.focus or turn.products)
    return list(session.last_shown)
