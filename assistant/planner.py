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

_CART = re.compile(r"\b(?:add|put|throw)\b.*\b(?:cart|basket|bag)\b|^\s*(?:ok(?:ay)?,? |then |please )?add\b|\bbuy (?:it|this|that|them|the|one|two|\d)|"
                   r"\bi'?ll take\b|\border (?:it|this|that|one)\b|加入购物车|加到购物车|放进购物车|加购|买这个|我要买|下单", re.I)
_SHOW_CART = re.compile(r"what'?s in my (?:cart|basket)|show (?:me )?my (?:cart|basket)|my cart total|购物车里|看看购物车", re.I)
_COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|difference between|which (?:one |of (?:them|these|those|the two) )?is better|"
                      r"which (?:one )?(?:of (?:them|these|those|the two|the three) )?(?:is|has|are) (?:the )?(?:cheap|best|better|high|low|most|more|less)|"
                      r"(?:cheapest|best[- ]rated|highest[- ]rated) (?:of|among) (?:them|these|those|the)|"
                      r"better than|对比|比较|哪个好|哪个更|哪个便宜|哪个最|区别", re.I)
_REVIEWS = re.compile(r"\breviews?\b|\breviewers?\b|what do (?:people|customers|buyers|users|reviewers|others) (?:say|think)|feedback|complain\w*|"
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
_CHITCHAT = re.compile(r"(?:^|\b)(?:hi|hello|hey|thanks|thank you|thx|ok(?:ay)?|cool|great|bye|good (?:morning|evening|night)|"
                       r"who are you|how are you|never ?mind|what can you (?:do|help)|help me with)\b|你好|您好|谢谢|嗨|再见|好的|好吧|你是谁|"
                       r"你能做什么", re.I)
_SEARCHY = re.compile(r"\b(?:show me|find|search|looking for|i need|i want|under|below|rated)\b|找|要买|以下", re.I)
_REFINE = re.compile(r"\b(?:one|ones|those|these|them|only|just|instead)\b.*|^\s*(?:with|without|in)\b|"
                     r"^(?:that|those|the same)\b|^(?:and |but )|只要|只看|换成|那.{0,12}呢|的呢|有没有更", re.I)
_ORDER_FOLLOWUP = re.compile(r"courier|carrier|tracking|track it|status|shipped|deliver|arriv|when will|where is it|"
                             r"快递|物流|单号|到哪|状态|发货|送达|什么时候到", re.I)
_SIMILAR = re.compile(r"\bsimilar\b|\balternatives?\b|\blike (?:this|that|it) but\b|better (?:reviews|rated|rating)|"
                      r"higher[- ]rated|同类|类似|相似|评分更高|更好的", re.I)
_PERSONAL = re.compile(r"\bfor me\b|\bi might like\b|\bi'?d like\b|my friends|friends? (?:like|bought|buy)|based on|my taste|"
                       r"适合我|我可能喜欢|朋友", re.I)
_CART_WORDS = re.compile(r"\b(?:add|put|throw|into|to|in|my|the)\b|\b(?:cart|basket|bag)\b|加入购物车|加到购物车|放进购物车|加购|把|那款",
                         re.I)
_CHAT_WORDS = {"hi", "hello", "hey", "thank", "thanks", "ok", "okay", "great", "cool", "bye", "there", "can", "help",
               "with", "me", "you", "what", "who", "how", "are", "never", "mind", "good", "morning", "evening", "do",
               "谢谢", "你好", "您好", "好吧", "好的", "再见", "嗨"}
_PRONOUN_ONLY = re.compile(r"(?:the )?(?:two|three|them|these|those|it|this|that|one|ones|两款|这两款|这两个)?", re.I)
_GENERIC_WORDS = {"one", "ones", "product", "item", "the", "two", "three", "about", "say", "what", "do", "buyer", "people",
                  "reviewer", "customer", "anything", "should", "know", "from", "any", "complaint", "review", "it", "its",
                  "那款", "这款", "那个", "这个", "评价", "怎么样", "加入", "购物车", "要", "两个", "一个", "三个", "个",
                  "买", "我", "想", "吗", "呢", "还", "那", "这", "一下", "帮", "再"}
_FILLER = re.compile(r"\b(?:please|pls|show me|can you|could you|i want|i need|i'?m looking for|looking for|do you (?:have|sell|carry)|"
                     r"find me|search for|get me|i would like|something|some|any|options?|ones?|only|just|instead|also|"
                     r"what about|how about|cheaper|less expensive|more expensive|with|ok|okay|then|so|well|fine|also|now)\b|请|帮我|给我|我想要?|有没有|推荐一下|找一下|找",
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
        counts: dict[str, int] = {}
        for p in store.products.values():
            if p.brand and sum(ch.isalpha() for ch in p.brand) >= 2:  # not "10k", "4K"
                counts[p.brand] = counts.get(p.brand, 0) + 1
        self.brands = sorted(counts)
        lower_text = " ".join(f"{p.title} {p.description[:300]}" for p in store.products.values())
        # a brand that is also an ordinary word ("Room", "Newly") matches only as written
        self.generic_brands = {b for b in self.brands if counts[b] < 3 and b != b.lower()
                               and len(re.findall(rf"(?<![A-Za-z]){re.escape(b.lower())}(?![A-Za-z])", lower_text)) >= 3}
        self.categories = sorted({c for p in store.products.values() for c in p.category[1:] if len(c) >= 3})
        self.id_shapes = {_shape(pid) for pid in store.products}

    def plan(self, text: str, session: Session, lang: str) -> Plan:
        c = cons.extract(text, self.brands, self.categories)
        c.brand = self._brand(text, c.brand)
        explicit_ids = [pid for pid in re.findall(r"\b[A-Z0-9]{5,}\b", text) if pid in self.index.store.products]
        residue = set(tokenize(self._query_text(_CHITCHAT.sub(" ", text), c))) - _GENERIC_WORDS - _CHAT_WORDS
        if _CHITCHAT.search(text) and _short(text) and not explicit_ids and not residue and not c.filters():
            return Plan("chitchat", constraints=c)
        if c.order_ids:
            return Plan("support", [PlannedCall("order_status", {"order_id": o}) for o in c.order_ids[:3]], constraints=c)
        last_order = session_order(session)
        if last_order and _ORDER_FOLLOWUP.search(text):
            return Plan("support", [PlannedCall("order_status", {"order_id": last_order})], constraints=c)
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
        if _SIMILAR.search(text) and session_focus(session):
            return self._similar(text, session, c)
        if not _REVIEWS.search(text) and (_DETAILS.search(text) or (explicit_ids and len(tokenize(text)) <= 3)):
            target = self._refer(text, session, c, explicit_ids)
            if target:
                return Plan("browse", [PlannedCall("get_product", {"product_id": target[0]})], constraints=c, focus=target)
            unknown = self._unknown_ids(text)
            if unknown:  # "tell me about P9999": the tool says clearly that there is no such product
                return Plan("browse", [PlannedCall("get_product", {"product_id": unknown[0]})], constraints=c)
            query = self._query_text(_DETAILS.sub(" ", text), c)
            if self._lookup(query):  # a product not yet shown: search for it, the card answers
                return Plan("browse", [PlannedCall("search_products", {"query": query, **c.filters(), "k": 3})],
                            constraints=c)
            focus = session_focus(session)[:1]
            if focus:
                return Plan("browse", [PlannedCall("get_product", {"product_id": focus[0]})], constraints=c, focus=focus)
        if _REVIEWS.search(text) or self._aspect_question(text, session):
            plan = self._reviews(text, session, c, explicit_ids)
            if plan.calls:
                return plan
        if _RECOMMEND.search(text):
            context = self._content(self._query_text(_RECOMMEND.sub(" ", text), c))
            personal = _PERSONAL.search(text)
            if personal or (not c.filters() and len(tokenize(context or "", bigrams=False)) <= 2):
                return Plan("browse", [PlannedCall("recommend", {"context": context, "k": 5})], constraints=c)
        return self._search(text, session, c)

    def _content(self, text: str) -> str | None:
        """The words of `text` that the catalog knows (None when none: "something I might like")."""
        words = [w for w in text.split() if set(tokenize(w, bigrams=False)) - _GENERIC_WORDS - _CHAT_WORDS
                 and any(t in self.index.lexical._vocab for t in tokenize(w, bigrams=False))]
        return " ".join(words) or None

    def _similar(self, text: str, session: Session, c: cons.Constraints) -> Plan:
        """"Anything similar with better reviews?": the focus product's kind, better rated or cheaper."""
        p = self.index.store.products[session_focus(session)[0]]
        kind = p.attributes.get("type") if isinstance(p.attributes.get("type"), str) else ""
        query = kind or (p.category[-1] if p.category else p.title)
        filters = dict(c.filters())
        if re.search(r"better|higher|more stars|评分更高|更好|好评", text, re.I) and p.rating is not None:
            filters.setdefault("min_rating", round(min(p.rating + 0.1, 5.0), 1))
        if c.cheaper and p.price:
            filters.setdefault("max_price", round(p.price - 0.01, 2))
        if p.category:
            filters.setdefault("category", p.category[-1])
        return Plan("browse", [PlannedCall("search_products", {"query": query, **filters, "k": 5})], constraints=c)

    def _brand(self, text: str, brand: str | None) -> str | None:
        if brand is None:
            return None
        if brand in self.generic_brands and brand not in text:
            return None
        # "a case for my iPhone 14": the brand names what it fits, not who made it
        if re.search(rf"\b(?:for|fits?|compatible with)\s+(?:my |the |an? |your )?{re.escape(brand)}", text, re.I):
            return None
        return brand

    # ---- per-intent plans ------------------------------------------------------------------
    def _search(self, text: str, session: Session, c: cons.Constraints) -> Plan:
        query = self._query_text(text, c)
        filters = c.filters()
        last = session.last_search
        if last and self._is_refinement(text, query, c):
            extra = " ".join(w for w in query.split() if c.brand is None or w.lower() != c.brand.lower())
            query = f"{last.get('query', '')} {extra}".strip() if extra else last.get("query", "")
            filters = {**last.get("filters", {}), **filters}
            if c.cheaper and session.last_shown:
                prices = [self.index.store.products[p].price for p in session.last_shown[:3]
                          if p in self.index.store.products and self.index.store.products[p].price is not None]
                if prices and "max_price" not in c.filters():
                    filters["max_price"] = round(min(prices) - 0.01, 2)
        if not query:
            return Plan("chitchat", confident=False, constraints=c)
        args = {"query": query, **filters, "k": 5}
        return Plan("browse", [PlannedCall("search_products", args)], confident=bool(tokenize(query)), constraints=c)

    def _is_refinement(self, text: str, query: str, c: cons.Constraints) -> bool:
        """A follow-up that narrows the last search rather than starting a new one."""
        if c.cheaper or c.pricier or _REFINE.search(text):
            return True
        if len(tokenize(query)) > 1 or not c.filters():
            return False
        # "laptops under 40000" names a new kind of product; "under 40000" does not
        return not (query and self._lookup(query))

    def _cart(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        quantity = stated_quantity(text) or c.quantity or 1  # a huge count is passed on: the tool refuses it clearly
        unknown = [] if explicit else self._unknown_ids(text)
        if unknown:
            return Plan("purchase", [PlannedCall("add_to_cart", {"product_id": unknown[0], "quantity": quantity})],
                        constraints=c)
        target = self._refer(text, session, c, explicit)
        if not target:
            target = self._lookup(self._query_text(_CART_WORDS.sub(" ", text), c))
        if not target:  # "add one more", "add to cart": the product the conversation is about
            target = session_focus(session)[:1]
        if not target:
            return Plan("purchase", confident=False, constraints=c)
        return Plan("purchase", [PlannedCall("add_to_cart", {"product_id": target[0], "quantity": quantity})],
                    constraints=c, focus=target[:1])

    def _compare(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        ids = list(explicit)
        if len(ids) < 2 and c.references:
            ids += [session.last_shown[i] for i in c.references if -len(session.last_shown) <= i < len(session.last_shown)]
        if len(ids) < 2:
            parts = re.split(r"\bwith\b|\band\b|\bvs\.?\b|\bversus\b|\bor\b|,|和|与|跟|还是", _COMPARE.sub(" ", text), flags=re.I)
            named = [self._named(part, session) or self._lookup(self._query_text(part, c)) for part in parts
                     if len(tokenize(part)) >= 1 and not _PRONOUN_ONLY.fullmatch(part.strip())]
            for found in named:
                ids += [f for f in found[:1] if f not in ids]
        if len(dict.fromkeys(ids)) < 2:
            pool = session_focus(session) if len(session_focus(session)) >= 2 else session.last_shown
            n = 3 if re.search(r"three|\b3\b|三", text) else (2 if re.search(r"two|\b2\b|两|二", text) else 5)
            ids += pool[:n]
        ids = list(dict.fromkeys(ids))[:5]
        if len(ids) < 2:
            return Plan("compare", confident=False, constraints=c)
        return Plan("compare", [PlannedCall("compare_products", {"product_ids": ids})], constraints=c, focus=ids)

    def _reviews(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> Plan:
        target = (self._refer(text, session, c, explicit)
                  or self._lookup(self._query_text(_REVIEWS.sub(" ", text), c), strict=True)
                  or session_focus(session)[:1])
        if not target:
            return Plan("browse", confident=False, constraints=c)
        from assistant.insights.aspects import find_aspects

        aspects = [a for a in find_aspects(text) if a != "value" or re.search(r"value|worth|性价比|price", text, re.I)]
        args: dict[str, Any] = {"product_id": target[0]}
        if aspects:
            args["aspect"] = aspects[0]
        return Plan("browse", [PlannedCall("review_sentiment_summary", args)], constraints=c, focus=target[:1])

    @staticmethod
    def _aspect_question(text: str, session: Session) -> bool:
        from assistant.insights.aspects import find_aspects

        return bool(session_focus(session)) and bool(find_aspects(text)) and _short(text) \
            and bool(re.search(r"\?|？|\bhow\b|\bis it\b|\bgood\b|\bbad\b|吗|如何|怎样", text, re.I)) \
            and not _SEARCHY.search(text)

    # ---- references --------------------------------------------------------------------------
    def _refer(self, text: str, session: Session, c: cons.Constraints, explicit: list[str]) -> list[str]:
        if explicit:
            return explicit[:1]
        shown = session.last_shown
        picked = [shown[i] for i in c.references if shown and -len(shown) <= i < len(shown)]
        if picked:
            return picked[:1]
        pool = session_focus(session)
        if pool and re.search(r"cheap|便宜|lowest price", text, re.I):
            return [self._extreme(pool, lambda p: -(p.price or 1e18))]
        if pool and re.search(r"best[- ]rated|highest[- ]rated|top[- ]rated|评分最高|最好", text, re.I):
            return [self._extreme(pool, lambda p: (p.rating or 0, p.rating_count or 0))]
        if pool and re.search(r"more expensive|priciest|most expensive|最贵", text, re.I):
            return [self._extreme(pool, lambda p: p.price or 0)]
        named = self._named(text, session)
        if named:
            return named[:1]
        if c.pronoun or not self._query_text(text, c):
            return session_focus(session)[:1]
        return []

    def _unknown_ids(self, text: str) -> list[str]:
        """Tokens shaped like this store's product ids that name no product."""
        return [t for t in re.findall(r"\b[A-Z][A-Z0-9]{3,}\b", text)
                if any(ch.isdigit() for ch in t) and _shape(t) in self.id_shapes and t not in self.index.store.products]

    def _extreme(self, ids: list[str], key) -> str:
        products = [self.index.store.products[i] for i in ids if i in self.index.store.products]
        return max(products, key=key).product_id

    def _named(self, text: str, session: Session) -> list[str]:
        """A product shown in this session whose title or brand shares distinctive words with the text."""
        words = set(tokenize(_CART_WORDS.sub(" ", text), bigrams=False)) - _GENERIC_WORDS - _CHAT_WORDS
        if not words:
            return []
        scored = []
        for rank, pid in enumerate(session_seen(session)):
            p = self.index.store.products.get(pid)
            if p is None:
                continue
            title_words = set(tokenize(f"{p.title} {p.brand}", bigrams=False))
            overlap = words & title_words
            if overlap:
                brand_hit = bool(set(tokenize(p.brand)) & words)
                scored.append((len(overlap) + brand_hit, -rank, pid))
        scored.sort(reverse=True)  # most shared words first, then the most recently shown
        return [scored[0][2]] if scored else []

    def _lookup(self, text: str, strict: bool = False) -> list[str]:
        """The catalog product a phrase names, when search finds a clear match."""
        if not self._content(text):  # nothing the catalog knows ("要两个", "the one")
            return []
        hits = self.index.search(text, None, k=2)
        if not hits or not hits[0].relevant:
            return []
        if strict and len(hits) > 1 and hits[1].score > 0.98 * hits[0].score and hits[0].lexical == 0:
            return []
        return [hits[0].product_id]

    @staticmethod
    def _query_text(text: str, c: cons.Constraints) -> str:
        q = cons.strip_constraints(text)
        q = _FILLER.sub(" ", q)
        q = re.sub(r"[?？!！,，。.]+", " ", q)
        return " ".join(q.split())


def _shape(token: str) -> str:
    """'P0190' -> 'A9999': the letter/digit pattern of an id."""
    return re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", token))


_COUNT = re.compile(r"(?<![\w.,])(\d[\d,]*)\s*(?:x\b|pcs\b|pieces\b|units?\b|items?\b|of (?:them|those|it|these|the)\b|个|件|台|只|双|份)|"
                    r"\b(?:add|buy|order)\s+(\d[\d,]*)\s+(?=[A-Za-z])(?!(?:%|rs|rupees|inr|stars?|mah|w|gb|tb|l|ml|mm|cm|inch|"
                    r"hours?|months?|years?|percent)\b)", re.I)


def stated_quantity(text: str) -> int | None:
    """The count the shopper asked for, however large ("add 25 PK001", "1000000 units", "3个"); None if unstated."""
    m = _COUNT.search(text)
    if not m:
        return None
    value = int((m.group(1) or m.group(2)).replace(",", ""))
    return value if value > 0 else None


def _short(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return len(text.split()) <= 10 and cjk <= 14


def session_order(session: Session) -> str | None:
    """The order id the conversation is about: the last one looked up or named by the shopper."""
    for turn in reversed(session.turns):
        for call in reversed(turn.tool_calls):
            if call.get("name") == "order_status" and not call.get("error"):
                return call["arguments"].get("order_id")
        named = cons.extract(turn.user).order_ids
        if named:
            return named[-1]  # the guard still refuses it if it is not the shopper's own
    return None


def session_seen(session: Session) -> list[str]:
    """Every product shown or discussed in the session, most recent first."""
    seen: list[str] = []
    for turn in reversed(session.turns):
        for pid in turn.focus + turn.products:
            if pid not in seen:
                seen.append(pid)
    return seen


def session_focus(session: Session) -> list[str]:
    """Products the conversation is currently about: the last turn's focus, else the last shown."""
    for turn in reversed(session.turns):
        if turn.focus or turn.products:
            return list(turn.focus or turn.products)
    return list(session.last_shown)


READ_ONLY_TOOLS = ("search_products", "get_product", "compare_products", "review_sentiment_summary", "recommend")


def allowed_tools(plan: Plan) -> set[str]:
    """The tools a model may choose this turn. Reading the catalog is always allowed; changing the cart only
    when the shopper's own words ask to buy, reading an order only when they are about orders. Nothing a
    product description, a review or the model says can widen this set."""
    allowed = set(READ_ONLY_TOOLS)
    if plan.intent == "purchase":
        allowed.add("add_to_cart")
    if plan.intent == "support":
        allowed.add("order_status")
    return allowed
