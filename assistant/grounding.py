"""The grounding check: every price, rating, count, product id, brand and quote in a reply must be
found in this turn's tool results (or the store policy, or the shopper's own words).

Prices and percentages must equal a number the tools computed (a field such as `price` or
`discount_pct`, given as `trusted_numbers`), not one written in a description or review, and the
shopper's own numbers count only as limits ("under ₹1,500"); offers (coupons, codes, free, sale)
must be named by the store (its policy or a discount field), not by a seller's prose or the shopper's
question; claims of actions the assistant cannot take (refunded, cancelled, price changed) must be
in the facts; and no sentence may repeat the assistant's own instructions (`private`).

Works sentence by sentence so that the engine can stream verified sentences and drop or repair
the rest. Knows nothing about models or tools beyond the plain facts text it is given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

_PRICE = re.compile(r"(?:₹|rs\.?\s*|inr\s*|\$|¥|￥|€)\s*(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s*(?:rupees?|inr|元|块)",
                    re.I)
_RATING = re.compile(r"(\d(?:\.\d{1,2})?)\s*(?:/\s*5|★|stars?|-star|颗星|星|分)|(?:rated|rating of|评分)\s*(?:is\s*)?(\d(?:\.\d{1,2})?)",
                     re.I)
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?![\w])")
_QUOTE = re.compile(r"[\"“「]([^\"”」]{8,})[\"”」]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？\n])")
_LIMIT = re.compile(r"(?:\b(?:under|below|less than|cheaper than|within|at most|up to|upto|max(?:imum)?|budget(?: of)?|over|above|"
                    r"more than|at least|min(?:imum)?|between)|不超过|不到|低于|以内|预算|高于|至少|超过|"
                    r"\d\s*(?:to|and|-|–|到|至))\W{0,3}$", re.I)
_ACTION = re.compile(r"(?:\b(?:i|we)(?:'ve| have)?|\bhas been|\bhave been|\bwas|\bwere|\bis now|\bare now)\s+(?:\w+\s+)?"
                     r"(?P<done>refunded|cancell?ed|changed|updated|lowered|reduced|applied|activated|waived|credited|"
                     r"upgraded|marked|approved|reversed|discounted)\b|"
                     r"已(?:经)?(?:为您|帮您|给您)?(?P<done_zh>退款|取消|修改|改价|更新|激活|免除|打折|降价|批准)", re.I)
_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,}(?![A-Za-z0-9])")
_LIMIT_AFTER = re.compile(r"^\s*(?:以下|以内|之内|以上|左右|or (?:less|more|under|below|above))", re.I)
# offers: each group must be named in the facts (policy included) before a reply may claim it
_OFFERS = (
    (re.compile(r"\b(?:coupons?|vouchers?|promo(?:tion(?:al)?)? codes?|discount codes?|codes?|cash ?back|gift cards?)\b|"
                r"优惠券|优惠码|折扣码|返现|红包|兑换码", re.I),
     re.compile(r"coupon|voucher|promo|code|cash ?back|gift card|优惠券|优惠码|折扣码|返现|红包|兑换码", re.I)),
    (re.compile(r"\bfree\b|免费|包邮|白送", re.I), re.compile(r"\bfree\b|免费|包邮", re.I)),
    (re.compile(r"\b(?:on sale|discount(?:ed)?|deal|price (?:drop|cut)|clearance|special (?:price|offer)|half (?:off|price))\b|"
                r"打折|特价|促销|优惠|折扣|降价|半价|免单",
                re.I), re.compile(r"% off|discount|\bsale\b|折|优惠|降价", re.I)),
)


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def numbers_in(text: str) -> set[float]:
    out = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(float(m.group(1).replace(",", "")))
        except ValueError:
            pass
    return out


_MONEY_KEY = re.compile(r"price|total|amount|cost|pct|percent|discount", re.I)


def field_numbers(value, key: str = "", keys: re.Pattern | None = _MONEY_KEY) -> set[float]:
    """Numbers held in fields of a (tool result) value whose key matches `keys` (money and discount
    fields by default), recursively; numbers written inside text are ignored."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, (int, float)):
        return {float(value)} if keys is None or keys.search(key) else set()
    if isinstance(value, dict):
        return set().union(set(), *(field_numbers(v, k, keys) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return set().union(set(), *(field_numbers(v, key, keys) for v in value))
    return set()


def _shingles(text: str) -> set[str]:
    """Runs of 8 words (or 10 Chinese characters) of a text: what a leak of it would repeat."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    out = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
    for run in re.findall(r"[\u4e00-\u9fff]{10,}", text):
        out |= {run[i:i + 10] for i in range(len(run) - 9)}
    return out


# "X has / supports / comes with Y" and "X doesn't have Y": product facts that a tool result must state
_HAS = re.compile(r"\b(?:has|have|comes? with|features?|supports?|includes?|offers?|boasts?)\s+(?:a |an |the |built-in )?"
                  r"([a-z0-9][a-z0-9 -]{2,40}?)(?=[,.;!?]|\s+(?:and|but|for|which|that|so|while)\b|$)|"
                  r"(?:支持|带有|具有|自带|配有)([\u4e00-\u9fff]{2,8})", re.I)
# a negated verb states a lack only with a feature verb after it ("doesn't support X"; "I can't find that order"
# is about the assistant, not a product); "no X", "without X", "lacks X" always do; 无法 (cannot), 无线
# (wireless) and 无论 (whatever) are no lack
_LACKS = re.compile(r"(?:\b(?:does not|doesn't|do not|don't|cannot|can't)\s+(?:have|support|include|come with|offer|"
                    r"work with)\s+|\b(?:lacks?|without|has no|have no|no)\s+)(?:a |an |the |any )?"
                    r"([a-z0-9][a-z0-9 -]{2,40}?)(?=[,.;!?]|\s+(?:and|but|for|which|so)\b|$)|"
                    r"(?:没有|不支持|不带|无(?![法线论]))([\u4e00-\u9fff]{2,8})", re.I)  # 无法, 无线, 无论: no lack
# "found 3 products", "here are five options", "找到3件商品": how many were found is the turn's own count
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10}
_COUNT = re.compile(r"(?<!first )(?<!top )(?<!last )(?<!other )\b(\d+|one|two|three|four|five|six|seven|eight|nine|"
                    r"ten)\s+(?:\w+\s+)?(?:products|items found|matches|results|options|recommendations)\b|"
                    r"(?:找到|推荐)(\d+)(?:件|款|个)", re.I)
_FILLER_WORDS = {"a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "it", "its", "this", "that",
                 "very", "good", "great", "nice", "excellent", "solid", "decent", "strong", "option", "options",
                 "choice", "one", "ones", "you", "your", "more", "less", "better", "best", "also", "lot", "lots", "many",
                 "much", "price", "value", "rating", "ratings", "review", "reviews", "quality", "products", "product",
                 "items", "item", "results", "budget", "budgets", "needs", "need", "features", "feature"}
_BEST_RATED = re.compile(r"best[- ]rated|highest[- ]rated|top[- ]rated|best reviewed|评分最高|好评最多", re.I)
_CHEAPEST = re.compile(r"cheapest|lowest[- ]priced|least expensive|most affordable|最便宜|价格最低", re.I)
_PRICIEST = re.compile(r"most expensive|priciest|highest[- ]priced|最贵|价格最高", re.I)


def _names_product(sentence: str, card: dict) -> bool:
    """The sentence names this product: its id, or the first three words of its title."""
    low = sentence.lower()
    if card.get("product_id", "").lower() in low:
        return True
    head = " ".join(str(card.get("title", "")).split()[:3]).lower()
    return len(head) >= 6 and head in low


@dataclass
class Violation:
    kind: str      # price | rating | percent | number | product_id | brand | quote | offer | prompt_leak
    claim: str
    sentence: str


@dataclass
class Grounding:
    """The facts one reply may use."""

    facts: str
    user_text: str = ""
    product_ids: set[str] = field(default_factory=set)   # every product id the store knows
    brands: set[str] = field(default_factory=set)        # every brand the store knows
    trusted_numbers: set[float] | None = None            # money fields and policy numbers; None: any in facts
    trusted_text: str | None = None                      # what may ground an offer (policy); None: the facts
    private: str = ""                                    # instructions a reply must never repeat
    products: list[dict] = field(default_factory=list)   # product cards of this turn (for "cheapest", "best rated")

    def __post_init__(self) -> None:
        self._numbers = numbers_in(self.facts) | numbers_in(self.user_text)
        self._user_numbers = numbers_in(self.user_text)
        self._trusted = self._numbers if self.trusted_numbers is None else set(self.trusted_numbers)
        self._facts_low = self.facts.lower()
        self._user_low = self.user_text.lower()
        self._private = _shingles(self.private)

    def _known(self, value: float, tolerance: float = 0.01, numbers: set[float] | None = None) -> bool:
        return any(abs(value - n) <= max(tolerance * max(abs(n), 1.0), 0.051)
                   for n in (self._numbers if numbers is None else numbers))

    def _money_known(self, value: float, sentence: str, m: re.Match, tolerance: float = 0.01) -> bool:
        """A price or percentage: a computed field, or the shopper's own number used as a limit."""
        if self._known(value, tolerance, self._trusted):
            return True
        as_limit = _LIMIT.search(sentence[max(0, m.start() - 16):m.start()]) or _LIMIT_AFTER.match(sentence[m.end():])
        return bool(as_limit) and self._known(value, tolerance, self._user_numbers)

    def _superlatives(self, sentence: str) -> list[Violation]:
        """"The best-rated is X" / "X is the cheapest": X must be the one the tool results say."""
        out = []
        for rx, key, best in ((_BEST_RATED, "rating", max), (_CHEAPEST, "price", min), (_PRICIEST, "price", max)):
            if not rx.search(sentence):
                continue
            known = [p for p in self.products if p.get(key) is not None]
            named = [p for p in known if _names_product(sentence, p)]
            if len(known) < 2 or not named:
                continue
            target = best(p[key] for p in known)
            if all(p[key] != target for p in named):
                out.append(Violation("superlative", rx.search(sentence).group(0), sentence))
        return out

    def _features(self, sentence: str) -> list[Violation]:
        """A sentence that states a product has (or lacks) something: the words must be in the facts, and a lack
        only where the facts say so too."""
        out = []
        for rx, negative in ((_LACKS, True), (_HAS, False)):
            for m in rx.finditer(sentence):
                phrase = next((g for g in m.groups() if g), "")
                words = [w for w in re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]+", phrase.lower())
                         if w not in _FILLER_WORDS and len(w) > 2]
                if not words:
                    continue
                found = all(w in self._facts_low for w in words)
                if negative:
                    i = self._facts_low.find(words[0])
                    found = found and bool(re.search(r"\b(?:no|not|without|non)\b|不|无|没有",
                                                     self._facts_low[max(0, i - 40):i]))
                if not found:
                    out.append(Violation("feature_absent" if negative else "feature", phrase, sentence))
            if out:
                break  # a negated claim is not also checked as a positive one
        return out

    def _counts(self, sentence: str) -> list[Violation]:
        """A count of what was found must be the number of products this turn shows (or the shopper's own number)."""
        if not self.products:
            return []
        out = []
        for m in _COUNT.finditer(sentence):
            word = (m.group(1) or m.group(2)).lower()
            n = int(word) if word.isdigit() else _NUMBER_WORDS[word]
            if n != len(self.products) and not self._known(float(n), 0.0, self._user_numbers):
                out.append(Violation("count", m.group(0), sentence))
        return out

    def check(self, sentence: str) -> list[Violation]:
        v: list[Violation] = self._superlatives(sentence) + self._features(sentence) + self._counts(sentence)
        for m in _PRICE.finditer(sentence):
            value = float((m.group(1) or m.group(2)).replace(",", ""))
            if not self._money_known(value, sentence, m):
                v.append(Violation("price", m.group(0), sentence))
        for m in _RATING.finditer(sentence):
            value = float(m.group(1) or m.group(2))
            if value <= 5 and not self._known(value, 0.0):
                v.append(Violation("rating", m.group(0), sentence))
        half = re.search(r"half[- ](?:off|price)|50-50|半价", sentence, re.I)
        if half and not self._known(50.0, 0.0, self._trusted):  # "half price" is a 50% claim
            v.append(Violation("percent", half.group(0), sentence))
        for m in _PERCENT.finditer(sentence):
            if not self._money_known(float(m.group(1)), sentence, m, 0.0):
                v.append(Violation("percent", m.group(0), sentence))
        claimed = {x.claim for x in v}
        for m in _NUMBER.finditer(sentence):
            value = float(m.group(1).replace(",", ""))
            if value > 10 and not self._known(value) and not any(m.group(1) in c for c in claimed):
                v.append(Violation("number", m.group(0), sentence))
        for pid in self._ids_in(sentence):
            if pid.lower() not in self._facts_low and pid.lower() not in self._user_low:
                v.append(Violation("product_id", pid, sentence))
        low = sentence.lower()
        for brand in self.brands:
            b = brand.lower()
            if len(b) >= 3 and re.search(rf"(?<![a-z0-9]){re.escape(b)}(?![a-z0-9])", low) \
                    and b not in self._facts_low and b not in self._user_low:
                v.append(Violation("brand", brand, sentence))
        for m in _QUOTE.finditer(sentence):
            if m.group(1).strip().lower() not in self._facts_low:
                v.append(Violation("quote", m.group(1), sentence))
        for m in _CODE.finditer(sentence):  # codes and model numbers nobody gave: invented, or planted
            if m.group(0).lower() not in self._facts_low and m.group(0).lower() not in self._user_low \
                    and not any(m.group(0) == x.claim for x in v):
                v.append(Violation("code", m.group(0), sentence))
        offer_ground = self.facts if self.trusted_text is None else self.trusted_text
        for claim, named in _OFFERS:
            m = claim.search(sentence)
            if m and not named.search(offer_ground):  # asking about an offer does not make it exist
                v.append(Violation("offer", m.group(0), sentence))
        for m in _ACTION.finditer(sentence):  # the assistant has no tool that refunds, cancels or reprices
            if (m.group("done") or m.group("done_zh")).lower() not in self._facts_low:
                v.append(Violation("action", m.group(0), sentence))
        if self._private and _shingles(sentence) & self._private:
            v.append(Violation("prompt_leak", sentence[:80], sentence))
        return v

    def _ids_in(self, sentence: str) -> Iterable[str]:
        for tok in re.findall(r"\b[A-Z][A-Z0-9]{4,}\b", sentence):
            if tok in self.product_ids or re.fullmatch(r"B0[A-Z0-9]{8}|P\d{4,}", tok):
                yield tok
