"""Which products a turn is about: references resolved against what the session has shown.

Positions ("the second one", "第三个", "doosra") index the last shown list; "next" / "other" move from the product
in focus; superlatives ("the cheaper one", "the best rated") are computed over the shown list from the product
records; a price said back ("the ₹1,299 one") names the shown product at that price; words of a name or brand
("the Sony one", "the 65W one") pick the shown product sharing the most distinctive words; pronouns ("it", "这款")
mean the product in focus. A named product that was never shown is looked up in the catalog by its words.

Knows the session and the index; knows nothing about models, rules or replies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.session import Session
from assistant.slots import Slots
from retrieval.lexical import tokenize

# words that never identify a product on their own
GENERIC = {"one", "ones", "product", "item", "the", "two", "three", "about", "say", "what", "do", "it", "its", "this",
           "that", "these", "those", "them", "please", "pls", "add", "cart", "buy", "take", "want", "need", "show",
           "me", "my", "to", "a", "an", "of", "for", "and", "or", "is", "are", "how", "much", "which", "one's",
           "price", "cost", "review", "reviews", "compare", "get", "tell", "more", "details", "good", "best", "better",
           "cheaper", "cheapest", "expensive", "rated", "rating", "wala", "waala", "vala", "ka", "ki", "ke", "hai",
           "do", "de", "dikhao", "batao", "kya", "ye", "wo", "with", "in", "on", "has", "have", "does", "will", "you",
           "your", "we", "i",
           "那款", "这款", "那个", "这个", "评价", "怎么样", "加入", "购物车", "要", "两个", "一个", "三个", "个", "买", "我",
           "想", "吗", "呢", "还", "那", "这", "一下", "帮", "再", "的", "了", "加购"}


@dataclass
class Resolution:
    products: list[str]
    how: str                 # explicit | position | relative | superlative | price | name | pronoun | lookup | ""
    unresolved: bool = False  # the words point at a product that could not be found


def shown_list(session: Session) -> list[str]:
    return list(session.last_shown)


def focus(session: Session) -> list[str]:
    """Products the conversation is currently about: the last turn's focus, else what it showed, else the last
    shown list."""
    for turn in reversed(session.turns):
        if turn.focus or turn.products:
            return list(turn.focus or turn.products)
    return list(session.last_shown)


def seen(session: Session) -> list[str]:
    """Every product shown or discussed in the session, most recent first."""
    out: list[str] = []
    for turn in reversed(session.turns):
        for pid in turn.focus + turn.products:
            if pid not in out:
                out.append(pid)
    return out


class Resolver:
    def __init__(self, index):
        self.index = index
        self.products = index.store.products

    def resolve(self, text: str, slots: Slots, session: Session, refs: list[str] | None = None,
                plural: bool = False) -> Resolution:
        """The products the turn refers to. `refs` are a model's readings ("2", "sony", "it", "cheapest")."""
        if slots.product_ids:
            return Resolution(slots.product_ids, "explicit")
        shown = [p for p in shown_list(session) if p in self.products]
        now = [p for p in focus(session) if p in self.products]
        refs = [r.strip().lower() for r in refs or [] if r and r.strip()]
        if slots.positions or slots.relative or slots.superlative or slots.ref_words:
            refs = []  # the words point exactly: the model's reading of the reference is not needed
        positions = list(slots.positions) + [int(r) - 1 for r in refs if r.isdigit() and 0 < int(r) <= 10]
        positions += [-1 for r in refs if r == "last"]
        picked = [shown[p] for p in dict.fromkeys(positions) if shown and -len(shown) <= p < len(shown)]
        if picked:
            return Resolution(picked, "position")
        relative = slots.relative or next((r for r in refs if r in ("next", "previous", "other")), None)
        if relative and shown:
            moved = self._relative(relative, shown, now)
            if moved:
                return Resolution(moved, "relative")
        superlative = slots.superlative or next((r for r in refs if r in ("cheapest", "priciest", "best_rated")), None)
        if superlative and shown:
            return Resolution([self._extreme(shown, superlative)], "superlative")
        by_price = self._by_price(slots, shown)
        if by_price:
            return Resolution(by_price, "price")
        name_words = [r for r in refs if not r.isdigit() and r not in ("it", "last", "next", "previous", "other",
                                                                      "cheapest", "priciest", "best_rated")]
        name_words = name_words or list(slots.ref_words)
        # words picked as a reference may name a product by one word ("the Sony one"); the whole message must
        # share at least two words, or the brand, with the product it names
        if not name_words and (slots.pronoun or "it" in refs) and now and re.search(r"\b(?:it|its|it's)\b|它", text, re.I):
            return Resolution(now if plural else now[:1], "pronoun")  # "is the noise cancelling on it good?"
        named = self._named(" ".join(name_words), seen(session)) if name_words else \
            self._named(text, seen(session), min_score=2)
        if named:
            return Resolution(named, "name")
        if name_words:  # "the Sony one" when no Sony was shown: that product in the catalog, else nothing
            kind = (session.last_search or {}).get("query", "")
            names = " ".join(name_words)
            looked = [p for p in self.lookup(f"{names} {kind}") + self.lookup(names) if self._shares(names, p)][:1]
            return Resolution(looked, "lookup") if looked else Resolution([], "", unresolved=True)
        if (slots.pronoun or "it" in refs) and now:
            return Resolution(now if plural else now[:1], "pronoun")
        return Resolution([], "", unresolved=bool(name_words))

    def _relative(self, relative: str, shown: list[str], now: list[str]) -> list[str]:
        current = next((shown.index(p) for p in now if p in shown), None)
        if relative == "other" and len(shown) >= 2:
            if current is None:
                return []
            others = [p for p in shown[:2] if p != shown[current]] if current < 2 else []
            return others[:1]
        if current is None:
            return []
        step = 1 if relative == "next" else -1
        j = current + step
        return [shown[j]] if 0 <= j < len(shown) else []

    def _extreme(self, ids: list[str], which: str) -> str:
        ps = [self.products[i] for i in ids]
        if which == "best_rated":
            return max(ps, key=lambda p: (p.rating or 0, p.rating_count or 0)).product_id
        priced = [p for p in ps if p.price is not None] or ps
        pick = min if which == "cheapest" else max
        return pick(priced, key=lambda p: p.price or 0).product_id

    def _by_price(self, slots: Slots, shown: list[str]) -> list[str]:
        """"the ₹1,299 one": a number said without a direction that equals a shown product's price."""
        plain = [lim.value for lim in slots.limits if not lim.cue]
        return [p for p in shown if any(self.products[p].price == v for v in plain)][:1]

    def _named(self, text: str, candidates: list[str], min_score: int = 1) -> list[str]:
        """The candidate sharing the most distinctive words with the text (brand hits count double)."""
        words = set(tokenize(text, bigrams=False)) - GENERIC
        if not words:
            return []
        scored = []
        for rank, pid in enumerate(candidates):
            p = self.products.get(pid)
            if p is None:
                continue
            overlap = words & set(tokenize(f"{p.title} {p.brand}", bigrams=False))
            if overlap:
                brand = bool(set(tokenize(p.brand, bigrams=False)) & words)
                scored.append((len(overlap) + brand, -rank, pid))
        if not scored:
            return []
        scored.sort(reverse=True)
        best = scored[0]
        if best[0] < min_score:
            return []
        # a tie between two products on generic-looking words is no reference ("the black one" with two black)
        if len(scored) > 1 and scored[1][0] == best[0] and best[0] < 2:
            return []
        return [best[2]]

    def _shares(self, words: str, pid: str) -> bool:
        p = self.products[pid]
        return bool((set(tokenize(words, bigrams=False)) - GENERIC) & set(tokenize(f"{p.title} {p.brand}", bigrams=False)))

    def lookup(self, text: str, strict: bool = True) -> list[str]:
        """The catalog product a phrase names, when search finds a clear match."""
        words = [w for w in tokenize(text, bigrams=False) if w not in GENERIC]
        if not words or not any(w in self.index.lexical._vocab for w in words):
            return []
        hits = self.index.search(" ".join(words), None, k=2)
        if not hits or not hits[0].relevant:
            return []
        if strict and len(hits) > 1 and hits[1].score > 0.98 * hits[0].score and hits[0].lexical == 0:
            return []
        return [hits[0].product_id]


def split_names(text: str) -> list[str]:
    """"the JBL Go 2 vs the boAt Stone 650" -> ["the JBL Go 2", "the boAt Stone 650"]."""
    parts = re.split(r"\s+(?:vs\.?|versus|or|and|with|against|aur|ya)\s+|\s*(?:和|与|跟|还是|对比|比较)\s*|,\s*", text,
                     flags=re.I)
    return [p for p in (x.strip(" ?.!") for x in parts) if p]
