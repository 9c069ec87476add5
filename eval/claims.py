"""Claims a shown reply makes, checked against the store's own records: an independent check of groundedness.

The assistant gates its own sentences with `assistant.grounding` against its tool results; re-running that gate in
the evaluation would agree with it by construction. This module shares no code with it. It reads the reply the way
a shopper does, finds the checkable claims — money amounts, ratings, rating and review counts, discount
percentages, product and order ids, order statuses, carriers, tracking numbers and dates, quotes, superlatives
("the cheapest"), product features ("X has Y", "X doesn't have Y"), cart additions, instruction text — and verifies
each against the store's records: product fields and texts, review texts, the order table (the signed-in shopper's
orders only), the cart after the turn, the store policy, and the shopper's own words (a limit they stated).

Knows nothing about tools, prompts' contents beyond the text it is given, or how the reply was produced.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from assistant.numbers import find_numbers  # reads the shopper's own numbers ("三千"), not the reply

_MONEY = re.compile(r"(?:₹|rs\.?\s?|inr\s?|\$|¥|￥|€)\s*(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s*(?:rupees?|inr|元|块)",
                    re.I)
_RATING = re.compile(r"(\d(?:\.\d{1,2})?)\s*(?:/\s*5|★|stars?\b|-star|颗星|星|分(?!钟))|"
                     r"(?:rated|rating(?: of)?|评分(?:为|是)?)\s*(?:is\s*|of\s*)?(\d(?:\.\d{1,2})?)(?![\d.])", re.I)
_COUNT = re.compile(r"(\d[\d,]*)\s*(?:ratings?|reviews?|reviewers|条评价|条评论|个评价|个评分|人评价)", re.I)
_DISCOUNT = re.compile(r"(\d{1,3})\s*%\s*(?:off|discount|cheaper|below list|折扣|优惠)|(?:折扣|优惠|省)\s*(\d{1,3})\s*%", re.I)
_QUOTE = re.compile(r"[\"“「『]([^\"”」』]{8,})[\"”」』]")
_ORDER_ID = re.compile(r"(?<![A-Za-z0-9])(O\d{4,}|#W\d{6,}|\d{3}-\d{7}-\d{7})(?![0-9])")
_PRODUCT_ID = re.compile(r"(?<![A-Za-z0-9])(B0[A-Z0-9]{8}|P\d{4})(?![A-Za-z0-9])")
_ISO_DATE = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
_TRACKING = re.compile(r"(?<![A-Za-z0-9])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,}(?![A-Za-z0-9])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？；\n])")
_LIMIT_WORDS = re.compile(r"(?:under|below|less than|within|up to|at most|max(?:imum)?|budget|limit|over|above|more than|"
                          r"at least|min(?:imum)?|between|and|to|from|as|不超过|以内|以下|以上|预算|低于|高于|至少|按)\W*$",
                          re.I)

# canonical status -> words that state it
_STATUS = {
    "processing": r"\bprocessing\b|\bpending\b|not (?:yet )?shipped|being prepared|处理中|待发货|未发货|备货",
    "shipped": r"\bshipped\b|in transit|on (?:its|the) way|dispatched|out for delivery|已发货|运输中|配送中|派送中",
    "delivered": r"\bdelivered\b|已送达|已签收|已妥投",
    "cancelled": r"\bcancell?ed\b|已取消",
    "returned": r"\breturned\b|\brefunded\b|已退货|已退款",
}
_STATUS_RX = {k: re.compile(v, re.I) for k, v in _STATUS.items()}
_SUPERLATIVES = (
    (re.compile(r"cheapest|lowest[- ]priced|least expensive|most affordable|最便宜|价格最低", re.I), "price", min),
    (re.compile(r"most expensive|priciest|highest[- ]priced|最贵|价格最高", re.I), "price", max),
    (re.compile(r"best[- ]rated|highest[- ]rated|top[- ]rated|评分最高", re.I), "rating", max),
)
_FEATURE_POS = re.compile(r"\b(?:has|have|comes with|come with|features|supports|support|includes|offers)\s+"
                          r"(?:a |an |the |built-in |inbuilt )?([a-z0-9][a-z0-9 -]{2,40}?)(?=[,.;!?]|\s+(?:and|but|for|at|"
                          r"which|that|so|while|with)\b|$)|(?:支持|带有|具有|自带)([\u4e00-\u9fffA-Za-z0-9]{2,8})", re.I)
_FEATURE_NEG = re.compile(r"\b(?:does not|doesn't|do not|don't|did not|didn't|cannot|can't)\s+(?:have|support|include|"
                          r"come with|offer|feature)\s+(?:a |an |the |any )?([a-z0-9][a-z0-9 -]{2,40}?)(?=[,.;!?]|\s+(?:and|"
                          r"but|for|at|which|so)\b|$)|\b(?:lacks|without|has no|have no|no)\s+([a-z0-9][a-z0-9 -]{2,30}?)"
                          r"(?=[,.;!?]|\s+(?:and|but|for|at|which|so)\b|$)|(?:没有|不支持|不带)([\u4e00-\u9fff]{2,8})", re.I)
_NEGATION_NEAR = re.compile(r"\b(?:no|not|without|non|lacks?)\b|不|无|没有", re.I)
_STOP = {"a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "it", "its", "this", "that", "very",
         "good", "great", "nice", "excellent", "option", "options", "one", "ones", "you", "your", "more", "less",
         "better", "best", "same", "other", "any", "some", "time", "times", "product", "products", "item", "items",
         "price", "value", "quality", "rating", "ratings", "review", "reviews", "feature", "features", "also",
         "lot", "lots", "many", "much", "great", "decent", "solid", "strong", "long", "short", "high", "low"}
_ADDED = re.compile(r"\b(?:added|i've added|i have added|put)\b.*\b(?:cart|basket)\b|已(?:将|把)?.{0,40}加入(?:了)?购物车|"
                    r"已加入购物车", re.I)


@dataclass
class Claim:
    kind: str
    text: str
    supported: bool
    sentence: str


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _close(value: float, candidates: Iterable[float], rel: float = 0.01, absolute: float = 0.51) -> bool:
    return any(abs(value - c) <= max(rel * abs(c), absolute) for c in candidates if c is not None)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\u4e00-\u9fff]+", " ", text.lower()).split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if s and s.strip()]


class StoreClaimChecker:
    """Verifies reply claims against one store's records. `instructions` are texts a reply must never repeat
    (the assistant's prompts): any run of 8 of their words in a reply is an unsupported claim."""

    def __init__(self, store, instructions: Iterable[str] = ()):
        self.store = store
        self._heads: list[tuple[str, str]] = []  # (normalised title head, product id), longest first
        for p in store.products.values():
            for title in [p.title, *getattr(p, "titles", {}).values()]:  # a reply may name it in either language
                words = _norm(title).split()
                for n in (5, 4, 3):
                    if len(words) >= n and len(" ".join(words[:n])) >= 8:
                        self._heads.append((" ".join(words[:n]), p.product_id))
        self._heads.sort(key=lambda h: -len(h[0]))
        self._carriers = {o.carrier.lower() for o in store.orders.values() if o.carrier}
        self._policy_numbers = {_num(m) for m in re.findall(r"\d[\d,]*(?:\.\d+)?", store.policy or "")}
        self._instructions = {g for text in instructions for g in _grams(text, 8)}
        self._texts: dict[str, str] = {}
        self._policy = _norm(store.policy or "")

    # ---- sources ---------------------------------------------------------------------------------
    def product_text(self, pid: str) -> str:
        if pid not in self._texts:
            p = self.store.products[pid]
            reviews = " ".join(f"{r.title} {r.text}" for r in self.store.reviews_of(pid))
            attrs = " ".join(f"{k} {v}" for k, v in p.attributes.items())
            self._texts[pid] = _norm(f"{p.title} {p.description} {' '.join(p.category)} {attrs} {reviews}")
        return self._texts[pid]

    def subjects(self, sentence: str) -> list[str]:
        """Products the sentence names: by id, or by the first words of the title (every product sharing the
        longest head that is written: several listings can have one title)."""
        ids = [m for m in _PRODUCT_ID.findall(sentence) if m in self.store.products]
        low = _norm(sentence)
        matched: list[str] = []
        for head, pid in self._heads:
            if head in low and not any(head in m for m in matched if m != head):
                if pid not in ids:
                    ids.append(pid)
                matched.append(head)
        return ids

    def _in_title(self, claim: str, subj: list[str]) -> bool:
        """A number written inside the name of a product the sentence names ("4 Star Rated" water heater,
        "Airdopes 141") is part of the name, not a claim."""
        c = _norm(claim)
        return bool(c) and any(c in _norm(t) for p in subj for t in [self.store.products[p].title,
                                                                      *self.store.products[p].titles.values()])

    # ---- the check -------------------------------------------------------------------------------
    def check(self, reply: str, user_text: str = "", shown: Iterable[str] = (), cart: dict[str, int] | None = None,
              user_id: str | None = None) -> list[Claim]:
        shown = [p for p in shown if p in self.store.products]
        cart = {p: q for p, q in (cart or {}).items() if p in self.store.products}
        own = {o.order_id: o for o in self.store.orders.values() if user_id and o.user_id == user_id}
        mentioned_orders = [own[o] for o in _ORDER_ID.findall(user_text) if o in own]
        claims: list[Claim] = []
        for s in sentences(reply):
            if len(_norm(s)) > 12 and _norm(s) in self._policy:
                continue  # the store's own policy, quoted: claims about policy, not about this order or product
            subj = self.subjects(s) or shown or list(cart)
            orders = [own[o] for o in _ORDER_ID.findall(s) if o in own] or mentioned_orders
            claims += self._ids(s, own)
            claims += self._money(s, subj, cart, orders, user_text)
            claims += self._ratings(s, subj, user_text)
            claims += self._counts(s, subj)
            claims += self._discounts(s, subj)
            claims += self._orders(s, orders, user_text)
            claims += self._quotes(s, subj)
            claims += self._superlatives(s, shown)
            claims += self._features(s, self.subjects(s))
            claims += self._cart_added(s, cart)
        return claims + self._instruction_leak(reply)

    def _ids(self, s: str, own: dict) -> list[Claim]:
        out = [Claim("product_id", m, m in self.store.products, s) for m in _PRODUCT_ID.findall(s)]
        out += [Claim("order_id", m, m in own, s) for m in _ORDER_ID.findall(s)]
        return out

    def _money(self, s: str, subj: list[str], cart: dict, orders: list, user_text: str) -> list[Claim]:
        P = self.store.products
        values = [v for pid in subj for v in (P[pid].price, P[pid].list_price)]
        prices = [P[pid].price for pid in subj if P[pid].price is not None]
        values += [abs(a - b) for a in prices for b in prices if a != b]
        values += [(P[p].price or 0) * q for p, q in cart.items()] + [sum((P[p].price or 0) * q for p, q in cart.items())]
        for o in orders:
            values += [i.unit_price for i in o.items] + [i.unit_price * i.quantity for i in o.items]
            values.append(sum(i.unit_price * i.quantity for i in o.items))
        user_numbers = [_num(m) for m in re.findall(r"\d[\d,]*(?:\.\d+)?", user_text)]
        user_numbers += [v * 1000 for v in user_numbers]  # "9k"
        user_numbers += [n.value for n in find_numbers(user_text)]  # "nine hundred", "三千"
        out = []
        for m in _MONEY.finditer(s):
            value = _num(m.group(1) or m.group(2))
            ok = _close(value, values) or _close(value, self._policy_numbers, 0.0, 0.001)
            if not ok and _LIMIT_WORDS.search(s[max(0, m.start() - 14):m.start()]):
                ok = _close(value, user_numbers, 0.0, 0.001)  # the shopper's own limit, said back
            if not ok and self._in_title(m.group(0), subj):
                continue
            out.append(Claim("price", m.group(0).strip(), ok, s))
        return out

    def _ratings(self, s: str, subj: list[str], user_text: str) -> list[Claim]:
        ratings = [self.store.products[p].rating for p in subj]
        user_numbers = [_num(m) for m in re.findall(r"\d(?:\.\d+)?", user_text)]
        out = []
        for m in _RATING.finditer(s):
            value = float(m.group(1) or m.group(2))
            if value > 5:
                continue
            ok = _close(value, ratings, 0.0, 0.051) or _close(value, user_numbers, 0.0, 0.001)
            if not ok and self._in_title(m.group(0), subj):
                continue
            out.append(Claim("rating", m.group(0).strip(), ok, s))
        return out

    def _counts(self, s: str, subj: list[str]) -> list[Claim]:
        out = []
        for m in _COUNT.finditer(s):
            n = _num(m.group(1))
            limits = [max(self.store.products[p].rating_count or 0, len(self.store.reviews_of(p))) for p in subj]
            out.append(Claim("count", m.group(0), any(n <= lim for lim in limits) or n == len(subj), s))
        return out

    def _discounts(self, s: str, subj: list[str]) -> list[Claim]:
        P = self.store.products
        pcts = [100 * (1 - P[p].price / P[p].list_price) for p in subj
                if P[p].price and P[p].list_price and P[p].list_price > P[p].price]
        return [Claim("discount", m.group(0), _close(float(m.group(1) or m.group(2)), pcts, 0.0, 1.0)
                      or _close(float(m.group(1) or m.group(2)), self._policy_numbers, 0.0, 0.001), s)
                for m in _DISCOUNT.finditer(s)]

    def _orders(self, s: str, orders: list, user_text: str) -> list[Claim]:
        out = []
        if orders:
            said = [k for k, rx in _STATUS_RX.items() if rx.search(s)]
            actual = {o.status.lower() for o in orders}
            # "not yet delivered" states no delivery; a status word under a negation is skipped
            for k in said:
                m = _STATUS_RX[k].search(s)
                if re.search(r"\b(?:not|n't|never|yet to be)\W+(?:\w+\W+)?$|未|没有|尚未", s[max(0, m.start() - 16):m.start()]):
                    continue
                out.append(Claim("order_status", m.group(0), k in actual or k == "processing" and "pending" in actual, s))
            for m in _ISO_DATE.finditer(s):
                dates = {d[:10] for o in orders for d in (o.created_at, o.updated_at, o.estimated_delivery) if d}
                out.append(Claim("date", m.group(1), m.group(1) in dates or m.group(1) in user_text, s))
            for m in _TRACKING.finditer(s):
                if m.group(0) in self.store.products or _ORDER_ID.fullmatch(m.group(0)):
                    continue
                out.append(Claim("tracking", m.group(0), any(m.group(0) == o.tracking_number for o in orders), s))
        low = s.lower()
        for carrier in self._carriers:
            if carrier and carrier in low:
                out.append(Claim("carrier", carrier, any(carrier == (o.carrier or "").lower() for o in orders), s))
        return out

    def _quotes(self, s: str, subj: list[str]) -> list[Claim]:
        out = []
        for m in _QUOTE.finditer(s):
            q = _norm(m.group(1))
            if not q or any(q in _norm(self.store.products[p].title) for p in subj):
                continue
            pool = subj or list(self.store.products)
            ok = any(q in self.product_text(p) for p in pool) or q in self._policy
            out.append(Claim("quote", m.group(1)[:80], ok, s))
        return out

    def _superlatives(self, s: str, shown: list[str]) -> list[Claim]:
        out = []
        named = self.subjects(s)
        for rx, key, best in _SUPERLATIVES:
            m = rx.search(s)
            known = [self.store.products[p] for p in shown if getattr(self.store.products[p], key) is not None]
            if not m or len(known) < 2 or not named:
                continue
            target = best(getattr(p, key) for p in known)
            ok = any(getattr(self.store.products[p], key) == target for p in named if p in shown)
            out.append(Claim("superlative", m.group(0), ok, s))
        return out

    def _features(self, s: str, subj: list[str]) -> list[Claim]:
        if len(subj) != 1:  # a feature claim is checkable only when the sentence names one product
            return []
        text = self.product_text(subj[0])
        out = []
        for m in _FEATURE_NEG.finditer(s):
            phrase = next(g for g in m.groups() if g)
            words = _content_words(phrase)
            if not words:
                continue
            ok = all(w in text for w in words) and bool(_NEGATION_NEAR.search(_window(text, words[0])))
            out.append(Claim("feature_absent", phrase, ok, s))
        negated = {m.start() for m in _FEATURE_NEG.finditer(s)}
        for m in _FEATURE_POS.finditer(s):
            if any(abs(m.start() - n) < 12 for n in negated):
                continue
            phrase = next(g for g in m.groups() if g)
            words = _content_words(phrase)
            if words:
                out.append(Claim("feature", phrase, all(w in text for w in words), s))
        return out

    def _cart_added(self, s: str, cart: dict) -> list[Claim]:
        if not _ADDED.search(s):
            return []
        named = self.subjects(s)
        if not named:
            return [Claim("cart", s[:60], bool(cart), s)]
        # a short title can name several listings: the claim holds when one of them is in the cart
        return [Claim("cart", ",".join(named[:3]), any(pid in cart for pid in named), s)]

    def _instruction_leak(self, reply: str) -> list[Claim]:
        leaked = _grams(reply, 8) & self._instructions
        return [Claim("instruction_text", sorted(leaked)[0], False, reply[:200])] if leaked else []


def _content_words(phrase: str) -> list[str]:
    if re.search(r"[\u4e00-\u9fff]", phrase):
        return [phrase]
    return [w for w in _norm(phrase).split() if w not in _STOP and len(w) > 2]


def _window(text: str, word: str, width: int = 40) -> str:
    i = text.find(word)
    return text[max(0, i - width):i + len(word)] if i >= 0 else ""


def _grams(text: str, n: int) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    out = {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
    for run in re.findall(r"[\u4e00-\u9fff]{12,}", text):
        out |= {run[i:i + 12] for i in range(len(run) - 11)}
    return out
