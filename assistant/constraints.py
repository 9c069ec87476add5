"""Deterministic reading of a shopper's words: price limits, ratings, brand, category, references, ids.

A small model often forgets an argument ("under 1500" never reaches the search); this module
extracts explicit constraints from the text itself, in English and Chinese, so the policy can
fill what the model missed. It only reports what the words say, and knows nothing about tools,
sessions or models. Brand and category names come from the store's own vocabulary.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

_NUM = r"(\d+(?:[.,]\d+)*(?:\.\d+)?)\s*(k|千|万|w)?(?![a-z])"
_CUR_BEFORE = r"(?:₹|rs\.?|inr|\$|usd|¥|￥|rmb|€)?\s*"
_CUR_AFTER = r"\s*(?:₹|rs\.?|rupees?|inr|bucks|dollars?|usd|元|块钱?|rmb|yuan|€|euros?)?"

_MAX_EN = re.compile(r"(?:under|below|less than|cheaper than|within|at most|up to|upto|max(?:imum)?|no more than|"
                     r"not more than|<=?|budget(?: of| is)?|around|about)\s*" + _CUR_BEFORE + _NUM + _CUR_AFTER, re.I)
_MIN_EN = re.compile(r"(?:over|above|more than|at least|min(?:imum)?|>=?|starting at|from)\s*" + _CUR_BEFORE + _NUM
                     + _CUR_AFTER + r"(?!\s*(?:stars?|star rating|rating|★|%))", re.I)
_BETWEEN = re.compile(r"(?:between|from)\s*" + _CUR_BEFORE + _NUM + _CUR_AFTER + r"\s*(?:and|to|-|–)\s*"
                      + _CUR_BEFORE + _NUM + _CUR_AFTER, re.I)
_RANGE_ZH = re.compile(_NUM + r"\s*(?:元|块)?\s*(?:到|至|-|~)\s*" + _NUM + r"\s*(?:元|块)")
_MAX_ZH = re.compile(r"(?:(?:不超过|不高于|不到|低于|少于|小于|预算|以内|最多)\s*" + _NUM + r"\s*(?:元|块|块钱|rmb|卢比)?)|"
                     r"(?:" + _NUM + r"\s*(?:元|块|块钱|卢比)?\s*(?:以下|以内|之内|内|左右))")
_MIN_ZH = re.compile(r"(?:(?:(?<!不)超过|(?<!不)高于|至少|不低于)\s*" + _NUM + r"\s*(?:元|块|卢比))|(?:" + _NUM
                     + r"\s*(?:元|块|卢比)\s*以上)")
_CURRENCY_ONLY = re.compile(r"(?:₹|rs\.?\s*)" + _NUM + r"|" + _NUM + r"\s*(?:rupees?|inr|元|块)", re.I)
_RATING = re.compile(r"(?:(?:rated|rating|ratings|at least|above|over|minimum|min|>=?)\s*(?:of\s*)?(\d(?:\.\d)?)\s*"
                     r"(?:\+|stars?|★|/5|or (?:more|higher|above)|and (?:up|above))?)|(?:(\d(?:\.\d)?)\s*(?:\+\s*)?"
                     r"(?:stars?|★)\s*(?:\+|or (?:more|higher|above)|and (?:up|above)|rating|rated))|"
                     r"(?:(\d(?:\.\d)?)\s*\+\s*(?:stars?|★|rating|rated))|"
                     r"(?:(\d(?:\.\d)?)\s*(?:stars?\s*)?(?:rating|rated)\s*(?:or (?:more|higher|above)|and (?:up|above)|\+))", re.I)
_RATING_ZH = re.compile(r"(?:评分|评价|星级)\s*(?:在|要|至少|不低于)?\s*(\d(?:\.\d)?)\s*(?:分|星)?\s*(?:以上|及以上)?|"
                        r"(\d(?:\.\d)?)\s*(?:分|星)\s*(?:以上|及以上)")
_ORDER_ID = re.compile(r"(?<![A-Za-z0-9])(O\d{4,})(?![0-9])", re.I)
_USER_ID = re.compile(r"(?<![A-Za-z0-9])(U\d+)(?![0-9])")
_QUANTITY = re.compile(r"(?:\b(\d{1,4})\s*(?:x\b|pcs|pieces|units|of (?:them|those|it|these)|of the)|"
                       r"(?:quantity|qty)\s*:?\s*(\d{1,4})|(?<!第)(\d{1,4})\s*(?:个|件|台|只|双|份))", re.I)
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "a couple of": 2, "a pair of": 2,
             "两": 2, "三": 3, "四": 4, "五": 5}

_ORDINALS_EN = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
                "fifth": 4, "5th": 4, "last": -1, "top": 0}
_ORDINALS_ZH = {"第一": 0, "第二": 1, "第三": 2, "第四": 3, "第五": 4, "最后": -1, "第1": 0, "第2": 1, "第3": 2,
                "第4": 3, "第5": 4}
_REF_EN = re.compile(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|top)\b"
                     r"(?:\s+(?:one|option|item|product|result|choice|pick))?", re.I)
_REF_NUM = re.compile(r"\b(?:number|no\.?|#|option|item)\s*(\d)\b", re.I)
_PRONOUN = re.compile(r"\b(it|its|this one|that one|this|that|them|those|these|both|all of them)\b|它|这个|那个|这款|那款|这两个|两个都",
                      re.I)


def _number(value: str, mult: str | None) -> float:
    v = float(value.replace(",", "")) if value.count(",") and "." not in value else float(value.replace(",", ""))
    return v * {"k": 1e3, "K": 1e3, "千": 1e3, "万": 1e4, "w": 1e4}.get(mult or "", 1.0)


@dataclass
class Constraints:
    max_price: float | None = None
    min_price: float | None = None
    min_rating: float | None = None
    brand: str | None = None
    category: str | None = None
    references: list[int] = field(default_factory=list)  # 0-based positions into the last shown list
    pronoun: bool = False                                # "it", "that one": the current product(s)
    order_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    quantity: int | None = None
    cheaper: bool = False
    pricier: bool = False

    def filters(self) -> dict[str, Any]:
        return {k: v for k, v in dict(max_price=self.max_price, min_price=self.min_price,
                                      min_rating=self.min_rating, brand=self.brand,
                                      category=self.category).items() if v is not None}


def extract_prices(text: str) -> tuple[float | None, float | None]:
    """(min_price, max_price) stated in the text, or None for each."""
    t = text.replace("，", ",")
    for rx in (_BETWEEN, _RANGE_ZH):
        m = rx.search(t)
        if m:
            a, b = _number(m.group(1), m.group(2)), _number(m.group(3), m.group(4))
            return min(a, b), max(a, b)
    lo = hi = None
    m = _MAX_EN.search(t) or _MAX_ZH.search(t)
    if m:
        groups = [g for g in m.groups()]
        value, mult = next(((groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i]), (None, None))
        if value and not _looks_like_rating(t, m.end()):
            hi = _number(value, mult)
    m = _MIN_EN.search(t) or _MIN_ZH.search(t)
    if m:
        groups = list(m.groups())
        value, mult = next(((groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i]), (None, None))
        if value and not _looks_like_rating(t, m.end()) and float(value.replace(",", "")) > 5:
            lo = _number(value, mult)
    return lo, hi


def _looks_like_rating(text: str, end: int) -> bool:
    return bool(re.match(r"\s*(?:stars?|★|/5|rating|分|星)", text[end:end + 8], re.I))


def extract_rating(text: str) -> float | None:
    for rx in (_RATING_ZH, _RATING):
        for m in rx.finditer(text):
            value = next((g for g in m.groups() if g), None)
            if value is None:
                continue
            v = float(value)
            matched = m.group(0).lower()
            ratingish = any(w in matched for w in ("star", "★", "rat", "/5", "分", "星", "+"))
            if 0 < v <= 5 and ratingish:
                return v
    return None


def _vocab_match(text: str, names: Iterable[str], min_len: int = 2) -> str | None:
    low = f" {text.lower()} "
    best = None
    for name in names:
        n = name.lower().strip()
        if len(n) < min_len:
            continue
        ascii_name = n.isascii()
        hit = re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", low) if ascii_name else (n in low)
        if hit and (best is None or len(n) > len(best)):
            best = name
    return best


def extract(text: str, brands: Iterable[str] = (), categories: Iterable[str] = ()) -> Constraints:
    c = Constraints()
    c.min_price, c.max_price = extract_prices(text)
    c.min_rating = extract_rating(text)
    c.brand = _vocab_match(text, brands, min_len=2)
    c.category = _vocab_match(text, categories, min_len=3)
    c.order_ids = [o.upper() for o in _ORDER_ID.findall(text)]
    c.user_ids = _USER_ID.findall(text)
    c.references = _references(text)
    c.pronoun = bool(_PRONOUN.search(text))
    c.quantity = _quantity(text)
    low = text.lower()
    c.cheaper = bool(re.search(r"\bcheaper\b|\bless expensive\b|\blower price\b|便宜", low))
    c.pricier = bool(re.search(r"\bmore expensive\b|\bpremium\b|\bhigher end\b|贵一点|更好的", low))
    return c


def _references(text: str) -> list[int]:
    refs = [_ORDINALS_EN[m.group(1).lower()] for m in _REF_EN.finditer(text)]
    refs += [int(m.group(1)) - 1 for m in _REF_NUM.finditer(text)]
    for word, pos in _ORDINALS_ZH.items():
        i = text.find(word)
        if i >= 0:
            refs.append((i, pos))  # type: ignore[arg-type]
    zh = sorted(r for r in refs if isinstance(r, tuple))
    en = [r for r in refs if not isinstance(r, tuple)]
    return list(dict.fromkeys(en + [p for _, p in zh]))


def _quantity(text: str) -> int | None:
    m = _QUANTITY.search(text)
    if m:
        return int(next(g for g in m.groups() if g))
    low = text.lower()
    for word, n in _WORD_NUM.items():
        if re.search(rf"(?<![a-z第]){re.escape(word)}(?![a-z])\s*(?:of (?:them|those|these|it)|units?|pieces|pcs|个|件|台)", low):
            return n
    return None


def extract_search_request(text: str, brands: Iterable[str] = (), categories: Iterable[str] = ()) -> tuple[str, dict]:
    """(query text, filters) for a plain search request: what `eval retrieval --no-filters` uses."""
    c = extract(text, brands, categories)
    f = {k: v for k, v in c.filters().items() if k in ("max_price", "min_price", "min_rating")}
    return text, f


def strip_constraints(text: str) -> str:
    """The text without its price, rating, quantity and order-id phrases (what is left names the need)."""
    out = text
    for rx in (_BETWEEN, _RANGE_ZH, _MAX_EN, _MIN_EN, _MAX_ZH, _MIN_ZH, _RATING_ZH, _RATING, _ORDER_ID, _CURRENCY_ONLY):
        out = rx.sub(" ", out)
    out = re.sub(r"\b(?:or more|or higher|and above|and up|rated|rating|stars?|rupees?|rs|inr|price|priced|costing|cost)\b|的|元|块|以上", " ", out, flags=re.I)
    return " ".join(out.split())
