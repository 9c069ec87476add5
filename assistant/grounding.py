"""The grounding check: every price, rating, count, product id, brand and quote in a reply must be
found in this turn's tool results (or the store policy, or the shopper's own words).

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


@dataclass
class Violation:
    kind: str      # price | rating | percent | number | product_id | brand | quote
    claim: str
    sentence: str


@dataclass
class Grounding:
    """The facts one reply may use."""

    facts: str
    user_text: str = ""
    product_ids: set[str] = field(default_factory=set)   # every product id the store knows
    brands: set[str] = field(default_factory=set)        # every brand the store knows

    def __post_init__(self) -> None:
        self._numbers = numbers_in(self.facts) | numbers_in(self.user_text)
        self._facts_low = self.facts.lower()
        self._user_low = self.user_text.lower()

    def _known(self, value: float, tolerance: float = 0.01) -> bool:
        return any(abs(value - n) <= max(tolerance * max(abs(n), 1.0), 0.051) for n in self._numbers)

    def check(self, sentence: str) -> list[Violation]:
        v: list[Violation] = []
        for m in _PRICE.finditer(sentence):
            value = float((m.group(1) or m.group(2)).replace(",", ""))
            if not self._known(value):
                v.append(Violation("price", m.group(0), sentence))
        for m in _RATING.finditer(sentence):
            value = float(m.group(1) or m.group(2))
            if value <= 5 and not self._known(value, 0.0):
                v.append(Violation("rating", m.group(0), sentence))
        for m in _PERCENT.finditer(sentence):
            if not self._known(float(m.group(1)), 0.0):
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
        return v

    def _ids_in(self, sentence: str) -> Iterable[str]:
        for tok in re.findall(r"\b[A-Z][A-Z0-9]{4,}\b", sentence):
            if tok in self.product_ids or re.fullmatch(r"B0[A-Z0-9]{8}|P\d{4,}", tok):
                yield tok
