"""Turn understanding: every reader of a shopper's message merged into one validated `Understanding`.

Readers, from exact to learned: the slots (assistant.slots: prices with direction, ratings, quantities, ids), the
named rules (assistant.rules), the learned action classifier (assistant.turn_classifier) and a chat model's parse
(assistant.parse). Merge policy: what the slots read exactly wins (a direction word is never overridden); a rule's
marker decides the action; otherwise the model's parse decides, else the classifier. The model fills what rules do
not read: the action of unusual wording, the need inside a long message, references by name. Its values are
validated: a brand must be one of the store's, a number must be written in the message, a refusal must be backed
by the message's own words. References are resolved against the session (assistant.references).

With router "auto" the model is asked only when the exact readers leave the turn open (no rule fired, the
classifier is unsure, a reference did not resolve, or the message is long); "llm" asks it every turn; "plan"
never does. Knows nothing about tools or replies: assistant.turn_policy turns an Understanding into calls.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from assistant import rules, slots as slot_reader
from assistant.parse import LLMReader, TurnParse
from assistant.references import GENERIC, Resolver, focus, seen as _seen, split_names
from assistant.session import Session
from retrieval.glossary import expand_zh
from retrieval.lexical import tokenize

LONG_MESSAGE_WORDS = 28
CLASSIFIER_CONFIDENT = 0.75
MODEL_ACTION_FLOOR = 0.10  # a model's action the classifier gives less than this is taken for a misreading
_FILLER = re.compile(
    r"\b(?:please|pls|plz|kindly|show me|can you|could you|would you|i want|i need|i'?m looking for|looking for|"
    r"i am looking for|do you (?:have|sell|carry)|find me|search for|get me|i would like|i'?d like|something|some|any|"
    r"options?|ones?|only|just|instead|also|what about|how about|ok(?:ay)?|then|so|well|fine|now|hi|hello|hey|"
    r"thanks?|thank you|a|an|the|for me|for my|my|me|that|which|is|are|good|nice|decent|best|great|buy|purchase|"
    r"recommend|suggest|koi|achha|acha|accha|dikhao|batao|chahiye|wala|waala|wale|wali|hi|bhi|sirf|yaar|bhai|hai|"
    r"mujhe|ek|ka|ki|ke|tbh|pls|plz|lol|nothing fancy|mostly|"
    r"for (?:my|her|his|our|the) (?:mom|mum|mother|dad|father|sister|brother|wife|husband|friend|kids?|son|"
    r"daughter|family|parents?|grandma|grandpa|boss|colleague|girlfriend|boyfriend|room|home|office)"
    r"(?:'?s(?: \w+){0,2})?)\b|"
    r"请|帮我|给我|我想要?|有没有|推荐一下|推荐|找一下|找个?|想买|一款|一个|的|只要|只看|你们(?:卖|有)?|还有|看看|多少钱|什么价(?:格|钱)?|怎么卖|(?<=没有)卖|(?<=买)个|放宽到|提高到|降到|调到|改到|[吗呢](?=\s*[？?。!！]?\s*$)|^那", re.I)
_REFINE = re.compile(r"\b(?:only|just|instead|what about|how about|any (?:in|with|from)|same but|but (?:in|with|from)|"
                     r"other (?:brands?|colou?rs?|options)|cheaper|less expensive|more expensive|pricier|premium|"
                     r"higher[- ]end|ones?)\b|^\s*(?:in|with|without|from|and|but|under|below|over|above)\b|"
                     r"只要|只看|换成|那.{0,12}呢|的呢|有没有更|便宜点|贵一点|sirf|bas\b", re.I)
_PERSON = re.compile(r"\b(?:he|she|they|him|her|their|his|someone|somebody|person|people|customer|user|reviewer|buyer|"
                     r"friend|neighbou?r|wife|husband|colleague|brother|sister|mom|dad|boss|who|whom|whose)\b|"
                     r"[A-Z][a-z]+'s\b|别人|他|她|谁|用户|买家|评论者|朋友|uska|unka|kisi", re.I)
_PRICE_WORDS = re.compile(r"price|cost|discount|coupon|free|cheap|rupee|₹|rs\b|\$|refund|offer|deal|价|钱|折|免费|优惠|"
                          r"muft|sasta", re.I)
_RULE_WORDS = re.compile(r"rule|instruction|prompt|pretend|you are|you're|act as|role|system|mode|restrict|filter|"
                         r"指令|规则|提示|扮演|假装|你是|niyam", re.I)
_CART_WORDS = re.compile(r"cart|basket|bag|add|buy|order|quantity|qty|购物车|加|买|件|个|daal|le lo", re.I)
_REFERENCE_WORDS = re.compile(r"\b(?:no|nope|not|that|this|the|one|ones|next|other|previous|first|second|third|fourth|"
                              r"fifth|last|cheaper|cheapest|wala|waala|what about|how about|instead|please)\b|"
                              r"第.|个|款|呢|那|这|不是", re.I)
_QUESTION = re.compile(r"\?|？|^\W*(?:how|what|which|does|do|is|are|can|will|would|should|has|have)\b|"
                       r"[吗呢]\s*$|怎么|多少|几|哪|kya|kitna|kitne|kaisa|kaise|kab", re.I)
_NEED = re.compile(r"\b(?:want|need|looking|get|buy|gift|find|show|searching)\b|想|要|找|chahiye", re.I)
_SAME_ORDER = re.compile(r"\bsame order\b|\bthat order\b|\bin (?:it|that one)\b|同一个订单|那个订单|这个订单里|同一单", re.I)
_STATUS_ASKED = re.compile(r"\bstatus\b|\btrack|\bwhere is\b|\bwhen will\b|状态|到哪|单号", re.I)
_DAMAGE = re.compile(r"\b(?:broke|broken|damaged|defective|not working|stopped working|wrong item|faulty)\b|坏|破损|故障|发错",
                     re.I)
_ABOUT_IT = re.compile(r"\bits\b|\b(?:on|of|in|for|does|is|will|can|has) it\b|它的|这款的|这个的|\b(?:iska|iski|uska|uski)\b",
                       re.I)
_THESE = re.compile(r"\b(?:these|those|them|of the (?:two|three)|shown|above|listed)\b|这些|那些|这几|inme|inmein|unme", re.I)
_FOLLOWUP = re.compile(r"^\W*(?:and|what about|how about|also|for|aur|还有|那|那么)\b|^\W*\w+\W*\?\s*$|(?:呢|吗)\s*[？?]?\s*$",
                       re.I)
_ORDER_STATUS_WORDS = re.compile(r"\b(?:status|courier|carrier|tracking|track|where|arriv\w*|deliver\w*|ship\w*|"
                                 r"when|eta|late|update|kab|kahan)\b|到哪|物流|快递|单号|状态|发货|送达|什么时候", re.I)
_ORDER_CHANGE_WORDS = re.compile(r"\b(?:cancel\w*|return\w*|exchange|refund\w*|replace\w*|change (?:the )?address)\b|"
                                 r"取消|退货|退款|换货|改地址", re.I)
_SIMILAR = re.compile(r"\bsimilar\b|\balternatives?\b|\blike (?:this|that|it)\b|\bsomething else like\b|\bsame kind\b|"
                      r"同类|类似|相似|差不多的|isi tarah|aisa hi", re.I)
_BETTER = re.compile(r"\bbetter (?:reviews?|rated|rating|ratings)\b|\bhigher[- ]rated\b|\bmore stars\b|评分更高|评价更好|"
                     r"好评更多|better wala", re.I)
_ACTION_WORDS = re.compile(r"\b(?:add|put|buy|order|take|cart|basket|bag|more|another|one|two|three|four|five|pair|"
                           r"reviews?|reviewers?|complaints?|feedback|say|think|details?|specs?|tell|about|compare|"
                           r"price|cost|much|how|what|is|are|does|do|it|its|this|that|them|for|my|me|sister|brother|"
                           r"mom|dad|friend|wife|husband)\b|加入购物车|加购|购物车|要|个|两|三|件|评价|怎么样|多少钱|详情|买",
                           re.I)
_CART_NOUNS = re.compile(r"\b(?:cart|basket|bag|trolley)\b|购物车|加购|cart mein", re.I)
_CHEAPER = re.compile(r"\bcheaper\b|\bless expensive\b|\blower price\b|\bmore affordable\b|便宜|sasta|saste", re.I)
_PRICIER = re.compile(r"\bmore expensive\b|\bpricier\b|\bpremium\b|\bhigher[- ]end\b|贵一点|更好的|mehenga", re.I)

INTENT_OF = {"search": "browse", "details": "browse", "reviews": "browse", "recommend": "browse", "compare": "compare",
             "add_to_cart": "purchase", "show_cart": "purchase", "purchase_intent": "purchase",
             "order_status": "support", "order_change": "support", "policy": "support", "chitchat": "chitchat"}
REFUSAL_INTENT = {"privacy": "support", "price_change": "support", "order_not_yours": "support",
                  "override": "chitchat", "prompt": "chitchat", "bad_quantity": "purchase"}


@dataclass
class Understanding:
    action: str
    lang: str
    refusal: str | None = None
    query: str = ""
    products: list[str] = field(default_factory=list)
    reference: str = ""               # how `products` were found (explicit, position, name, ...)
    unresolved: bool = False          # the message points at a product we could not find
    filters: dict[str, Any] = field(default_factory=dict)
    refine: bool = False              # narrows the last search
    cheaper: bool = False
    pricier: bool = False
    quantity: int | None = None
    set_quantity: bool = False
    quantity_problem: str | None = None
    order_ids: list[str] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)
    aspect: str | None = None
    foreign_currency: str | None = None
    currency_word_only: bool = False  # the amount's currency was only 元/块 (money of any kind, in Chinese)
    mentioned: list[str] = field(default_factory=list)  # product ids written in the message
    similar_to: str | None = None     # "anything similar (with better reviews)?": the product to find others like
    better_rated: bool = False
    sort: str = "relevance"           # the search tool's order: relevance | price_low | price_high | rating
    sources: dict[str, str] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> str:
        return REFUSAL_INTENT.get(self.refusal or "", "support") if self.action == "refuse" \
            else INTENT_OF.get(self.action, "browse")


from retrieval.text import detect_lang  # noqa: E402  (re-exported: the engine and UIs read it from here)


class Understander:
    """Reads turns for one store. `classifier` and `reader` are optional (no model: rules and slots alone)."""

    def __init__(self, index, reader: LLMReader | None = None, classifier=None, router: str = "auto",
                 sampling: tuple[float, int] = (0.0, 0)):
        self.index, self.reader, self.classifier, self.router = index, reader, classifier, router
        self.sampling = sampling  # (temperature, seed) of the model's reading: 0 is greedy
        store = index.store
        counts: dict[str, int] = {}
        for p in store.products.values():
            if p.brand and sum(ch.isalpha() for ch in p.brand) >= 2:
                counts[p.brand] = counts.get(p.brand, 0) + 1
        # one spelling per brand ("boAt" and "Boat" filter the same products): the most common one
        canonical: dict[str, str] = {}
        for b in sorted(counts, key=lambda b: -counts[b]):
            canonical.setdefault(b.lower(), b)
        self.brands = sorted(canonical.values())
        counts = {b: sum(n for x, n in counts.items() if x.lower() == b.lower()) for b in self.brands}
        self.word_brands, self.brand_followers = _word_brands(store, self.brands, counts)
        self.categories = sorted({c for p in store.products.values() for c in p.category[1:] if len(c) >= 3})
        self.order_shapes = {slot_reader.shape(o) for o in store.orders}
        self.product_shapes = {slot_reader.shape(p) for p in store.products}
        self.resolver = Resolver(index)
        self.kinds = _kind_words(store)
        self.title_vocab = {t for p in store.products.values()
                            for t in tokenize(f"{p.title} {p.brand} {' '.join(p.category)}", bigrams=False)}

    # ---- reading -----------------------------------------------------------------------------------
    def read(self, text: str, session: Session) -> Understanding:
        t0 = time.perf_counter()
        lang = detect_lang(text)
        s = slot_reader.read(text, self.brands, self.categories, self.order_shapes, set(self.index.store.products),
                             self.product_shapes, getattr(self.index.store, "currency", "INR"))
        u = Understanding(action="search", lang=lang, order_ids=s.order_ids, unknown_ids=s.unknown_ids,
                          quantity=s.quantity, set_quantity=s.set_quantity, quantity_problem=s.quantity_problem,
                          foreign_currency=s.foreign_currency, currency_word_only=s.currency_word_only,
                          mentioned=s.product_ids)
        u.filters = self._filters(text, s)
        u.trace["limits"] = [lim.span for lim in s.limits] + ([s.rating_span] if s.rating_span else [])
        u.cheaper, u.pricier = bool(_CHEAPER.search(text)), bool(_PRICIER.search(text))
        rule = rules.first_rule(text)
        if s.order_ids and (rule is None or rule.action == "search"):  # an order id with no other reading
            rule = rules.rule_named("order_lookup")
        if s.order_ids and rule is not None and rule.action in ("policy", "order_status") and \
                (_ORDER_CHANGE_WORDS.search(text) or _DAMAGE.search(text)):
            rule = rules.rule_named("order_change")  # "can I return the shoes from O10522?": that order, that rule
        if rule is not None and rule.action in ("compare", "details") and (s.limits or s.min_rating is not None) \
                and session.last_search:  # "which of these are 4 stars or more?": the list, narrowed
            rule = rules.rule_named("asks_for_products")
        pointed = bool(s.positions or s.relative or s.ref_words or s.superlative)
        if pointed and s.quantity is not None and s.quantity_problem is None and \
                (rule is None or rule.name == "asks_for_products") and session.last_shown:
            rule = rules.Rule("pointed_count", "add_to_cart", _REFERENCE_WORDS, ())  # "Ultra Alkaline AA wala do chahiye"
        if s.superlative and (rule is None or rule.action in ("details", "search")) and self._superlative_search(text):
            rule = rules.rule_named("asks_for_products")  # "the cheapest 32 inch TV you have?": all of them, sorted
        context = self._order_followup(text, session, rule) or (self._bare_reference(text, s, session)
                                                                 if rule is None else None)
        if context is not None:
            rule = context
        u.trace["rule"] = rule.name if rule else None
        if rule is not None:
            u.action, u.refusal = rule.action, rule.refusal
            u.sources["action"] = f"rule:{rule.name}"
        guess = self._classify(text, session) if rule is None else None
        parse = None
        if self._ask_model(text, rule, guess, s, session):
            parse = self._model_parse(text, session, u)
        if parse is not None:
            self._merge_parse(u, parse, text, s, rule, guess)
        elif rule is None:
            u.action = guess[0] if guess and guess[1] >= CLASSIFIER_CONFIDENT else self._default_action(text, s, u)
            u.sources["action"] = "classifier" if guess and guess[1] >= CLASSIFIER_CONFIDENT else "default"
        self._quantity_refusal(u, text)
        if u.action == "refuse":  # the products it names stay in focus for the next turn ("then just add it")
            r = self.resolver.resolve(text, s, session, None)
            named = r.products if r.how in ("explicit", "name", "position", "lookup") else \
                self.resolver.lookup(self._name_text(text)) if self._name_text(text) else []
            u.mentioned = list(dict.fromkeys(u.mentioned + named))
            u.trace["ms"] = (time.perf_counter() - t0) * 1e3
            return u
        self._resolve(u, text, s, session, parse)
        if u.action in ("search", "recommend", "reviews", "details") and _SIMILAR.search(text) and focus(session):
            u.action, u.similar_to = "search", (u.products or focus(session))[0]
            u.better_rated = bool(_BETTER.search(text))
            if u.better_rated:  # the better rated first
                u.sort = "rating"
        u.query = self._query(text, parse, u)
        u.refine = u.action == "search" and self._is_refinement(text, u, session)
        if u.action == "search" and s.superlative and not u.products:  # "the best rated earbuds": best first
            u.sort = {"best_rated": "rating", "cheapest": "price_low", "priciest": "price_high"}[s.superlative]
            u.cheaper = u.pricier = False  # "最便宜的笔记本电脑": the cheapest of all, not cheaper than the list shown
        if u.action == "compare":  # "which of these is cheapest?": the answer is the product in focus next
            u.trace["winner"] = s.superlative or ("best_rated" if re.search(r"best|better|higher|top|最好|更好", text, re.I)
                                                  else None)
        u.aspect = u.aspect or self._aspect(text)
        u.trace["ms"] = (time.perf_counter() - t0) * 1e3
        return u

    def _superlative_search(self, text: str) -> bool:
        """"the cheapest 32 inch TV you have?" names a kind of product and points at no list: a sorted search."""
        return not _THESE.search(text) and self._names_a_kind(_strip_constraints(_FILLER.sub(" ", text)))

    def _order_followup(self, text: str, session: Session, rule):
        """While the conversation is about one of the shopper's orders, "which courier?", "can I still cancel it?",
        "its status" are about that order (a rule of context, not of words alone)."""
        from assistant.turn_policy import session_order

        if rule is not None and rule.action not in ("policy", "details", "order_status", "order_change"):
            return None
        recent = session.turns[-2:]
        owned = {o.order_id for o in self.index.store.orders_of(session.user_id)} if session.user_id else set()
        recent_session = type(session)(user_id=session.user_id, turns=recent)
        if not recent or not session_order(recent_session, owned):
            return None  # no order of the shopper's was looked up or named in the last two turns
        if _SAME_ORDER.search(text):  # "what about the backpack in the same order?": the same question again
            last = recent[-1].intent == "support" and next((c.get("name") for c in recent[-1].tool_calls), None)
            return rules.Rule("same_order", "order_change" if last else "order_status", _SAME_ORDER, ())
        if rule is not None and rule.action == "policy" and not _STATUS_ASKED.search(text):
            return None  # "do I get my money back if I refuse it?": the store's rule answers
        if _ORDER_CHANGE_WORDS.search(text):
            return rules.Rule("order_followup_change", "order_change", _ORDER_CHANGE_WORDS, ())
        if _ORDER_STATUS_WORDS.search(text) and not (rule is not None and rule.action == "policy"):
            return rules.Rule("order_followup_status", "order_status", _ORDER_STATUS_WORDS, ())
        return None

    def _bare_reference(self, text: str, s, session: Session):
        """A turn about a product already shown, with no action word of its own: "no, the next one", "第三个呢" go on
        with what the last turn did (its details, its reviews); a question that points at one ("the Boult one -
        how many days does the battery last?", "is it waterproof?") asks for its details; a count alone after a
        product ("a pair please", "来两个") adds it to the cart."""
        if not session.turns:
            return None
        last_calls = [c.get("name") for c in session.turns[-1].tool_calls]
        short_followup = len(text.split()) <= 6 and _FOLLOWUP.search(text)
        if short_followup and "review_sentiment_summary" in last_calls and self._aspect(text):
            return rules.Rule("aspect_followup", "reviews", _FOLLOWUP, ())  # "and comfort?"
        if short_followup and session.turns[-1].intent == "support" and not last_calls:
            return rules.Rule("policy_followup", "policy", _FOLLOWUP, ())   # "and for skincare stuff?"
        pointed = bool(s.positions or s.relative or s.ref_words or s.superlative)
        rest = [w for w in tokenize(_REFERENCE_WORDS.sub(" ", _FILLER.sub(" ", text)), bigrams=False) if w not in GENERIC]
        counted = s.quantity is not None or (len(s.numbers) == 1 and not s.limits and not s.rating_span)
        cart_talk = "add_to_cart" in last_calls or session.turns[-1].refused
        if counted and not pointed and len(rest) <= (4 if cart_talk else 2) and focus(session) and \
                not self._names_a_kind(" ".join(rest)):
            if s.quantity is None:  # "a pair please": the only number is the count
                s.quantity = int(s.numbers[0].value) if float(s.numbers[0].value).is_integer() else None
            return rules.Rule("count_only", "add_to_cart", _REFERENCE_WORDS, ())
        if pointed and s.quantity is not None and not s.limits:  # "the cheaper of the two, one unit"
            return rules.Rule("pointed_count", "add_to_cart", _REFERENCE_WORDS, ())
        if s.limits or s.min_rating is not None:
            return None  # "anything rated 4 or more in that?": a narrowed search, not a product question
        if not session.last_shown or not (pointed or (s.pronoun and _QUESTION.search(text))):
            return None
        if pointed and len(rest) <= 2:
            last = next((c.get("name") for t in reversed(session.turns[-1:]) for c in t.tool_calls), None)
            action = {"review_sentiment_summary": "reviews", "compare_products": "details"}.get(last, "details")
            return rules.Rule("bare_reference", action, _REFERENCE_WORDS, ())
        if _QUESTION.search(text) and (pointed or _ABOUT_IT.search(text) or not self._names_a_kind(" ".join(rest))):
            return rules.Rule("question_about_shown", "details", _QUESTION, ())
        return None

    def _filters(self, text: str, s) -> dict[str, Any]:
        f: dict[str, Any] = {}
        for key in ("max_price", "min_price", "min_rating"):
            if getattr(s, key) is not None:
                f[key] = getattr(s, key)
        brand = self._brand(text, s.brand)
        if brand:
            f["brand"] = brand
        return f

    def _brand(self, text: str, brand: str | None) -> str | None:
        if brand is None or (brand in self.word_brands and brand not in text):
            return None
        followers = self.brand_followers.get(brand)
        if followers:  # "noise cancelling" is the ordinary word, "Noise earbuds" the brand
            uses = re.finditer(rf"(?<![A-Za-z]){re.escape(brand)}(?![A-Za-z])\W*(\w*)", text, re.I)
            if all(m.group(1).lower() in followers for m in uses):
                return None
        # "a case for my iPhone 14": the brand names what it fits, not who made it
        if re.search(rf"\b(?:for|fits?|compatible with)\s+(?:my |the |an? |your )?{re.escape(brand)}", text, re.I):
            return None
        return brand

    def _classify(self, text: str, session: Session) -> tuple[str, float, dict[str, float]] | None:
        if self.classifier is None:
            return None
        try:
            probs = self.classifier.proba(text)
        except Exception:  # a broken artefact costs the guess, never the turn
            return None
        best = max(probs, key=probs.get)
        return best, probs[best], probs

    def _ask_model(self, text: str, rule, guess, s, session: Session) -> bool:
        if self.reader is None or self.router == "plan":
            return False
        if self.router in ("llm", "agent"):
            return True
        if rule is not None and rule.action == "refuse":
            return False
        long = len(text.split()) > LONG_MESSAGE_WORDS or len(text) > 160
        return long or (rule is None and (guess is None or guess[1] < CLASSIFIER_CONFIDENT))

    def _model_parse(self, text: str, session: Session, u: Understanding) -> TurnParse | None:
        shown = " | ".join(f"{i}. {self._label(pid)}" for i, pid in enumerate(session.last_shown[:5], 1)
                           if pid in self.index.store.products)
        cart = ", ".join(f"{q} x {self._label(pid, price=False)}" for pid, q in session.cart.items()
                         if pid in self.index.store.products)
        parse, info = self.reader.read(shown, cart, text, *self.sampling)
        u.trace["model"] = info
        return parse

    def _label(self, pid: str, price: bool = True) -> str:
        from assistant.render import money, short

        p = self.index.store.products[pid]
        return short(p.title, 48) + (f" {money(p.price, p.currency)}" if price and p.price is not None else "")

    # ---- merging the model's parse -------------------------------------------------------------------
    def _merge_parse(self, u: Understanding, p: TurnParse, text: str, s, rule, guess=None) -> None:
        """The model's reading fills what the exact readers left open, each value validated against the words."""
        u.trace["parse"] = p.to_dict()
        if rule is None:
            self._model_action(u, p, text, s, guess)
        if not s.limits:  # a price the slots did not read: only a plain number the shopper wrote, with no unit
            plain = [n.value for n in s.numbers if not slot_reader._NOT_MONEY_AFTER.match(text[n.end:n.end + 12])]
            for key in ("max_price", "min_price"):
                value = getattr(p, key)
                if value is not None and key not in u.filters and any(abs(value - n) < 1e-6 for n in plain):
                    u.filters[key] = value
                    u.sources[key] = "model"
        if p.brand and "brand" not in u.filters:
            brand = next((b for b in self.brands if b.lower() == p.brand.lower()), None)
            if brand and self._brand(text, brand):
                u.filters["brand"] = brand
                u.sources["brand"] = "model"
        numbers = {n.value for n in s.numbers}
        if u.quantity is None and p.quantity is not None and any(abs(abs(p.quantity) - n) < 1e-6 for n in numbers):
            u.quantity = p.quantity
            if p.quantity <= 0:
                u.quantity_problem = "negative" if p.quantity < 0 else "zero"
            elif p.quantity > slot_reader.MAX_QUANTITY:
                u.quantity_problem = "huge"
            u.sources["quantity"] = "model"
        if not u.order_ids and p.order_id and p.order_id.lower() in text.lower() and any(c.isdigit() for c in p.order_id):
            u.order_ids = [p.order_id.upper()]
        if p.aspect and self._aspect(p.aspect):  # only an aspect the review summaries know
            u.aspect = self._aspect(p.aspect)

    def _model_action(self, u: Understanding, p: TurnParse, text: str, s, guess) -> None:
        """No rule read the action: the model's, when the message's own words back a refusal and the classifier
        does not rule the action out; else the classifier's confident guess; else a search."""
        if p.action == "refuse" and not self._refusal_backed(p.refuse, text, s):
            u.trace["refusal_dropped"] = p.refuse
            p.action = "search"
        if p.action == "refuse":
            u.action, u.refusal = "refuse", p.refuse or "privacy"
        elif guess is None or guess[2].get(p.action, 0.0) >= MODEL_ACTION_FLOOR:
            u.action = p.action
        else:
            u.trace["model_action_dropped"] = p.action
            u.action = guess[0] if guess[1] >= CLASSIFIER_CONFIDENT else self._default_action(text, s, u)
        u.sources["action"] = "model" if u.action == p.action else "classifier"

    def _refusal_backed(self, refusal: str | None, text: str, s) -> bool:
        """A small model over-refuses; its refusal stands only when the message's own words are of that kind."""
        if refusal == "privacy":
            return bool(_PERSON.search(text) or re.search(r"(?<![A-Za-z0-9])U\d+", text))
        if refusal == "price_change":
            return bool(_PRICE_WORDS.search(text))
        if refusal in ("override", "prompt"):
            return bool(_RULE_WORDS.search(text))
        if refusal == "bad_quantity":
            return s.quantity_problem is not None
        return False

    def _quantity_refusal(self, u: Understanding, text: str) -> None:
        """Negative, zero, fractional or absurd amounts in a cart request are refused before any tool runs."""
        if u.action == "refuse":
            return
        if u.quantity_problem is None and (u.action == "add_to_cart" or _CART_NOUNS.search(text)) and \
                any(n.negative for n in slot_reader.find_numbers(text)):
            u.quantity_problem = "negative"  # "minus 3 cart mein daal do": a signed amount in a cart request
        if u.quantity_problem is None:
            return
        if u.action == "add_to_cart" or _CART_WORDS.search(text):
            u.action, u.refusal = "refuse", "bad_quantity"
            u.sources["action"] = "slots:quantity"

    def _default_action(self, text: str, s, u: Understanding) -> str:
        words = set(tokenize(_FILLER.sub(" ", text), bigrams=False)) - GENERIC
        if s.order_ids:
            return "order_status"
        if not words and not u.filters and not s.product_ids:
            return "chitchat"
        return "search"

    # ---- references, query, refinement ------------------------------------------------------------------
    def _resolve(self, u: Understanding, text: str, s, session: Session, parse: TurnParse | None) -> None:
        if u.action not in ("details", "compare", "reviews", "add_to_cart", "search", "recommend"):
            return
        plural = u.action == "compare" or bool(re.search(r"\b(?:both|them|these|those|all|dono)\b|两个|这两|都", text, re.I))
        r = self.resolver.resolve(text, s, session, parse.refs if parse else None, plural=plural)
        if u.action in ("search", "recommend") and r.how in ("pronoun", "name", "lookup", ""):
            return  # "show me ones like it" searches; a search names no product by pronoun
        if u.action == "search" and r.how == "superlative" and self._superlative_search(text):
            return  # "best rated headphones" after a list of laptops: all headphones, best first
        u.products, u.reference, u.unresolved = r.products, r.how, r.unresolved
        if u.action == "compare" and len(u.products) < 2:
            self._compare_set(u, text, session)
        if not u.products and not u.unresolved and not u.unknown_ids and u.action in ("details", "reviews", "add_to_cart"):
            if s.pronoun and not focus(session):
                u.unresolved = True  # "its battery?" with nothing in focus: ask, never guess from the words
                return
            looked = self.resolver.lookup(self._name_text(text), strict=False) if self._name_text(text) else []
            if looked:
                u.products, u.reference = looked, "lookup"
            elif focus(session):  # "add one more", "加入购物车，要两个": the product the conversation is about
                u.products, u.reference = focus(session)[:1], "focus"
        if u.action == "add_to_cart" and u.reference == "lookup" and not _CART_NOUNS.search(text):
            u.action, u.products = "search", []  # "I want to buy an X" that was never shown: show it first
            u.sources["action"] += "+unshown"

    def _compare_set(self, u: Understanding, text: str, session: Session) -> None:
        """The products a comparison is about: each name written, looked up among what was shown first; "the two",
        "those three": that many from the top of the shown list."""
        picked = list(u.products)
        for part in split_names(text):
            pid = self.resolver._named(part, [p for p in _seen(session) if p not in picked]) or \
                self.resolver.lookup(part)
            picked += [p for p in pid if p not in picked]
        if len(picked) >= 2:
            u.products, u.reference = picked[:5], "name"
            return
        n = next((v for w, v in (("two", 2), ("both", 2), ("three", 3), ("dono", 2), ("两", 2), ("三", 3))
                  if re.search(rf"\b{w}\b" if w.isascii() else w, text, re.I)), 3)
        if len(session.last_shown) >= 2:
            u.products, u.reference = (picked + [p for p in session.last_shown if p not in picked])[:n], "shown"

    def _name_text(self, text: str) -> str:
        """The words of the message that could name a product (filler, action, quantity and reference words
        removed)."""
        t = _ACTION_WORDS.sub(" ", _strip_constraints(text))
        words = [w for w in tokenize(_FILLER.sub(" ", t), bigrams=False) if w not in GENERIC and len(w) > 1]
        return " ".join(words)

    def _query(self, text: str, parse: TurnParse | None, u: Understanding) -> str:
        if u.action == "recommend":  # "something else I might like" steers nothing; "a jacket for trekking" does
            query = parse.query if parse is not None and parse.query else self._residual(text, u)
            return query if self._names_a_kind(query) else ""
        residual = self._residual(text, u)
        long = len(text.split()) > LONG_MESSAGE_WORDS or len(text) > 160
        if parse is not None and parse.query and u.action == "search" and (long or not self._names_a_kind(residual)):
            # the model's words for the need, where the rules' residue names no kind of product or is a long story;
            # they must come from the message (a small model copies its examples' products otherwise)
            said = set(tokenize(text, bigrams=False)) | set(tokenize(expand_zh(text), bigrams=False))
            if self._names_a_kind(parse.query) and set(tokenize(parse.query, bigrams=False)) & said:
                u.sources["query"] = "model"
                return parse.query
        return residual

    def _residual(self, text: str, u: Understanding) -> str:
        """The need: the message without its constraints, references and filler; in a long message, the clauses
        that name something the catalog knows."""
        t = text
        for lim in sorted(set(map(tuple, u.trace.get("limits", []))), reverse=True):  # a range is two limits, one span
            before = re.sub(rf"{slot_reader.MONEY_MARK}\s*$", "", t[:lim[0]], flags=re.I)  # its currency goes too
            after = re.sub(rf"^\s*{slot_reader.MONEY_MARK}", "", t[lim[1]:], flags=re.I)
            t = before + " " + after
        t = _strip_constraints(slot_reader.strip_superlatives(t))
        stops = r"[,;!?，。；！？\n]|(?<!\d)\.|\.(?!\d)|\b(?:but|because|since|though|and then|so)\b"  # not "1.5"
        clauses = [c for c in re.split(stops, t) if c.strip()]
        if len(clauses) > 1:  # a story around the need: the clauses that name a kind of product, the need first
            kinds = [c for c in clauses if self._names_a_kind(c)]
            kinds.sort(key=lambda c: not _NEED.search(c))
            clauses = kinds[:2] or clauses
        q = _FILLER.sub(" ", " ".join(clauses))
        if u.filters.get("brand"):
            q = re.sub(rf"(?<![A-Za-z]){re.escape(u.filters['brand'])}(?![A-Za-z])", " ", q, flags=re.I)
        q = re.sub(r"(?<=[A-Za-z])['’](?:s|re|ll|m|d|t|ve)\b", " ", q, flags=re.I)  # "what's": no stray "s"
        q = re.sub(r"[?？!！,，。:;\"'’()]+|\.(?!\d)", " ", q)  # "1.5 litre" keeps its number
        words = [w for w in q.split() if w.lower() not in GENERIC or w.lower() in ("with",)]  # "usb c" keeps its c
        if len(words) > 3:  # a long residue keeps the words product titles use ("mom", "tbh", "keep" go)
            known = [w for w in words if self._title_word(w)]
            words = known if len(known) >= 1 else words
        return " ".join(words[:10])

    def _title_word(self, word: str) -> bool:
        toks = tokenize(word, bigrams=False)
        return bool(toks) and (any(not t.isascii() or t in self.title_vocab or self.index.lexical.correct(t) in
                                   self.title_vocab for t in toks) or any(ch.isdigit() for ch in word))

    def _is_refinement(self, text: str, u: Understanding, session: Session) -> bool:
        """A follow-up that narrows the last search ("only boAt", "cheaper ones", "one with 12GB RAM", "那1500以内的
        呢"): it names no kind of product of its own. Naming a kind starts a new search."""
        if not session.last_search:
            return False
        raw = _strip_constraints(_FILLER.sub(" ", text))
        return not self._names_a_kind(u.query) or not self._names_a_kind(raw)

    def _names_a_kind(self, query: str) -> bool:
        """The words name a kind of product ("laptops" yes; "in black", "one with a 6000mAh battery" no): a word of
        the store's category names or of common product nouns, outside a "with ..." / "in ..." attribute phrase."""
        head = re.split(r"\b(?:with|without|in|from|having|that has|which has|like)\b|带|有", query, maxsplit=1, flags=re.I)[0]
        return bool(set(tokenize(head, bigrams=False)) & self.kinds)

    @staticmethod
    def _aspect(text: str) -> str | None:
        from assistant.insights.aspects import ASPECTS, _EN_PATTERNS, _ZH_PATTERNS

        for key in ASPECTS:
            if _EN_PATTERNS[key].search(text) or _ZH_PATTERNS[key].search(text):
                return key
        return None


KIND_NOUNS = ("phone phones smartphone mobile laptop tablet tv television earbuds earphones headphones headset "
              "speaker soundbar charger cable adapter watch smartwatch band kettle mixer grinder iron heater fan cooler "
              "purifier bottle bag backpack shoes shoe sneakers trimmer shaver dryer camera mouse keyboard monitor router "
              "printer bank powerbank drive pendrive card case cover protector stand mount remote toaster oven fryer "
              "cooker blender juicer vacuum lamp bulb light torch book pen notebook cream serum wash shampoo 耳机 手机 "
              "电视 充电器 数据线 手表 水壶 背包 鞋 键盘 鼠标 音箱 充电宝 电脑 平板")


def _kind_words(store) -> set[str]:
    from retrieval.glossary import ZH_EN

    nouns = set(tokenize(KIND_NOUNS, bigrams=False))
    # Chinese words whose English names a product kind ("耳机" -> earphones), not adjectives ("便宜")
    words = nouns | {k for k, v in ZH_EN.items() if len(k) >= 2 and set(tokenize(v, bigrams=False)) & nouns}
    for p in store.products.values():
        for c in p.category:
            words |= set(tokenize(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", c).replace("&", " "), bigrams=False))
    return {w for w in words if (len(w) > 2 or not w.isascii()) and not w.isdigit()} - GENERIC - {"accessories", "home", "kitchen",
                                                                            "electronics", "computers", "office"}


def _word_brands(store, brands: list[str], counts: dict[str, int]) -> tuple[set[str], dict[str, set[str]]]:
    """Brands that are also ordinary words of other products' titles: the rare ones count only as written
    (capitalised); for the others, the words that follow the ordinary word ("noise" -> cancellation, isolation)."""
    titles = [(p.brand, p.title.lower()) for p in store.products.values()]
    word_brands, followers = set(), {}
    for b in brands:
        rx = re.compile(rf"(?<![a-z]){re.escape(b.lower())}(?![a-z])\W*(\w*)")
        after = [m.group(1) for owner, t in titles if owner != b for m in rx.finditer(t)]
        if len(after) >= 3 and b != b.lower():
            if counts[b] < 3:
                word_brands.add(b)
            followers[b] = {w for w in after if w}
    return word_brands, followers


def _strip_constraints(text: str) -> str:
    """Price, rating, quantity phrases out (what is left names the need)."""
    out = re.sub(r"(?:₹|rs\.?|inr|\$|¥|￥)\s*\d[\d,]*(?:\.\d+)?\s*(?:k|lakh|/-)?|\d[\d,]*(?:\.\d+)?\s*(?:k\b|lakh|rupees?|"
                 r"rs\b|inr|bucks|元|块钱?|/-)", " ", text, flags=re.I)
    out = re.sub(rf"{slot_reader.MONEY_MARK}\s*(?=\d)|(?<=\d)\s*{slot_reader.MONEY_MARK}", " ", out, flags=re.I)
    out = re.sub(r"\b(?:rupees?|rs|inr|bucks|dollars?|usd|euros?)\b|元|块钱?|₹|\$", " ", out, flags=re.I)
    out = re.sub(r"\b(?:under|below|less than|within|up to|upto|at most|max(?:imum)?|no more than|not more than|over|"
                 r"above|more than|at least|min(?:imum)?|between|around|about|budget(?: of| is)?|limit|"
                 r"can'?t go (?:past|over|above)|nothing (?:over|above|under|below)|or (?:less|more|better|above|"
                 r"higher)|and (?:above|up|under)|rated|rating|ratings|stars?|se kam|ke andar|se upar|se zyada|tak|"
                 r"price|priced|costing|cost|range)\b|\b[1-5](?:\.\d)?\s*(?:\+|★|stars?\b|/5)|以内|以下|以上|左右|"
                 r"不超过|不低于|不少于|不高于|至少|最多|预算|(?:评分|评价|星级)\s*(?:在|要|至少|不低于)?\s*\d(?:\.\d)?\s*(?:分|星)?",
                 " ", out, flags=re.I)
    return " ".join(out.split())
