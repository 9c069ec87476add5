"""Reading OCR lines the way a shopper's words are read: the brand, model numbers, product kind and
capacity, as a short search query.

Text on a box or a screenshot is mostly noise for search: prices, slogans, addresses, barcodes and
misread fragments. This keeps the words the store itself knows (its brand names and the vocabulary of
its product texts, typo-tolerant like search), model numbers (letters with digits: "WH-1000XM4") and
capacities ("10000mAh", "1.5 L"); prefers the biggest text (the product name is printed large, small
print is dropped); splits words OCR ran together ("BraidedUSBType-CCable", "anybrand") into the store's
words; and drops what is never a product word (prices, URLs, long digit runs). The query it returns
goes to the same search as typed words. Knows nothing about OCR engines, sessions or replies.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from retrieval.lexical import tokenize

MAX_WORDS = 14
MIN_SCORE = 0.6
SMALL_PRINT = 0.75  # lines under this share of the reference text height are small print
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+(?:\.\d+)?[A-Za-z]?(?![a-z])|[^A-Za-z\d]+")
_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9][A-Za-z0-9.+\-/']*[A-Za-z0-9+]|[A-Za-z0-9]")
_CAPACITY = re.compile(r"^\d+(?:\.\d+)?(?:mah|gb|tb|mb|w|kw|l|ml|v|hz|mm|cm|m|ft|inch|in|kg|g|mp|k|pcs|pack)$", re.I)
_UNIT = re.compile(r"^(?:mah|gb|tb|w|l|ml|v|hz|mm|cm|inch|kg|g|mp)$", re.I)
# lines that never name the product: prices, ratings, links, barcodes, and a shop page's own buttons
_NOISE_LINE = re.compile(r"(?:₹|\$|¥|￥|€|\brs\.?\s*\d|\bmrp|\binr\b|https?:|www\.|\.com\b|@|\d{8,}|"
                         r"价格|售价|原价|促销|客服|电话|★|☆|\bratings?\b|\breviews?\b|评分|评价|"
                         r"\badd to (?:cart|bag|basket)\b|\bbuy now\b|加入购物车|立即购买|"
                         r"^\W*(?:[^\w\s]\s*\d[\d,.]*|[^\x00-\x7f\d\s]\d[\d,.]*|"
                         r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d\d)\W*$)", re.I)
# OCR confuses these in words that are otherwise letters ("b0At" -> "boAt")
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "|": "l"})


@dataclass
class Reading:
    """What the picture says, as search words. `query` is empty when nothing on it names a product."""
    query: str
    brand: str | None = None
    models: list[str] = field(default_factory=list)
    capacities: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the OCR lines used, in reading order
    dropped: list[str] = field(default_factory=list)  # OCR lines that named nothing the store knows


class PhotoReader:
    """Built once per index: `knows(token)` is the store's vocabulary test (typo-tolerant), `brands` its brands."""

    def __init__(self, brands: Iterable[str], knows, ordinary: Iterable[str] = ()):
        self.brands = {b.lower(): b for b in brands if b and sum(ch.isalpha() for ch in b) >= 2}
        self._brand_keys = sorted(self.brands)
        self.knows = knows  # knows(token, exact=False) -> bool
        self.ordinary = {b.lower() for b in ordinary}  # brand names that are also ordinary words ("Kitchen")

    @classmethod
    def for_index(cls, index, brands: Iterable[str] | None = None, ordinary: Iterable[str] = ()) -> "PhotoReader":
        names = brands if brands is not None else {p.brand for p in index.store.products.values() if p.brand}
        return cls(names, index.lexical.knows, ordinary)

    def read(self, lines: Sequence) -> Reading:
        """`lines`: objects with `text`, `score` and `height` (assistant.ocr.OcrLine), in reading order."""
        useful, dropped = [], []
        for order, line in enumerate(lines):
            if line.score < MIN_SCORE or _NOISE_LINE.search(line.text):
                dropped.append(line.text)
                continue
            words = self._words(line.text)
            if words:
                useful.append((order, line, words))
            else:
                dropped.append(line.text)
        chosen = self._most_prominent(useful)
        words = _dedupe([w for _, _, ws in chosen for w in ws])
        # the brand: a store brand that is not also an ordinary word, named most often, then printed largest
        counts: dict[str, int] = {}
        for _, _, ws in useful:
            for w in ws:
                if w.lower() in self.brands:
                    counts[w.lower()] = counts.get(w.lower(), 0) + 1
        named = [(w.lower() in self.ordinary, -counts[w.lower()], -line.height, order, w)
                 for order, line, ws in chosen for w in ws if w.lower() in self.brands]
        brand = self.brands[min(named)[4].lower()] if named else None
        if brand and words and words[0] != brand:
            words = [brand] + [w for w in words if w != brand]
        words = words[:MAX_WORDS]
        return Reading(" ".join(words), brand, [w for w in words if _is_model(w)],
                       [w for w in words if _CAPACITY.match(w)], [line.text for _, line, _ in chosen], dropped)

    def _most_prominent(self, useful: list) -> list:
        """The lines with the tallest text until MAX_WORDS words, back in reading order. Lines of about the
        same height (one font size, seen at an angle) count as equally tall and go in reading order. The
        reference height is the second tallest line's (the brand alone is often the tallest); smaller
        print is left out once a few words are in."""
        by_height = _tiers(useful)
        reference = by_height[1][1].height if len(by_height) > 1 else 0.0
        chosen, count = [], 0
        for order, line, words in by_height:
            if count >= MAX_WORDS:
                break
            if count >= 3 and line.height < SMALL_PRINT * reference:  # small print: brands and model numbers
                words = [w for w in words if _is_model(w) or _CAPACITY.match(w) or w.lower() in self.brands]
            if words:
                chosen.append((order, line, words))
                count += len(words)
        return sorted(chosen, key=lambda x: x[0])

    def _words(self, text: str) -> list[str]:
        tokens = _TOKEN.findall(text)
        out = []
        for i, tok in enumerate(tokens):
            word = self._word(tok, tokens[i + 1] if i + 1 < len(tokens) else "")
            pieces = self._unglue(tok) if word is None and tok.isascii() and len(tok) >= 5 else []
            glued = [w for k, p in enumerate(pieces) if (w := self._word(p, pieces[k + 1] if k + 1 < len(pieces)
                                                                       else ""))] if len(pieces) > 1 else []
            if glued:  # OCR often drops the spaces between Latin words
                out += glued
            elif word is not None or (word := self._fuzzy(tok)) is not None:
                out.append(word)
        return out

    def _unglue(self, tok: str) -> list[str]:
        """Words run together: split at case and digit changes ("USBType-CCable"), then any lower-case run
        the store does not know into the fewest store words ("anybrand" -> "any brand")."""
        out = []
        for piece in _CAMEL.findall(tok):
            if not piece.strip("-/.'+&"):
                continue
            known = all(self.knows(t, exact=True) for t in tokenize(piece, bigrams=False))
            out += [piece] if known or not piece.isalpha() else (_word_break(piece.lower(), self.knows) or [piece])
        return out

    def _word(self, tok: str, following: str) -> str | None:
        """The token as a search word when the store knows it exactly, else None."""
        if tok.lower() in self.brands:
            return self.brands[tok.lower()]
        if "\u4e00" <= tok[0] <= "\u9fff":
            return self._chinese(tok)
        if _CAPACITY.match(tok) or (tok.replace(".", "").isdigit() and _UNIT.match(following)):
            return tok
        parts = tokenize(tok, bigrams=False)
        if parts and all(self.knows(p, exact=True) for p in parts) and (len(tok) >= 3 or tok.isdigit() or
                                                                         _is_model(tok) or tok.isupper()):
            return tok  # two characters only when they look like a model name ("Q3", "SE", "X1")
        if _is_model(tok) and len(tok) >= 4 and sum(ch.isdigit() for ch in tok) >= 2:
            return tok  # a model number this store may not carry: search (and its "no match") decides
        return None

    def _fuzzy(self, tok: str) -> str | None:
        """A misread word: a brand with OCR's look-alike letters or one letter off, else a store word
        within search's own typo tolerance."""
        key = tok.lower()
        if len(key) < 4 or not key.isascii() or not any(ch.isalpha() for ch in key):
            return None
        fixed = key.translate(_LOOKALIKE)
        if fixed in self.brands:
            return self.brands[fixed]
        close = difflib.get_close_matches(fixed, self._brand_keys, n=1, cutoff=0.86)
        if close:
            return self.brands[close[0]]
        parts = tokenize(tok, bigrams=False)
        return tok if parts and all(self.knows(p) for p in parts) else None

    def _chinese(self, run: str) -> str | None:
        """A Chinese run when most of its words are the store's words; else only the known words in it."""
        words = tokenize(run, bigrams=False)
        known = [w for w in words if self.knows(w)]
        if not known:
            return None
        return run if len(known) * 2 >= len(words) else "".join(known)


def _tiers(useful: list, step: float = 0.8) -> list:
    """(order, line, words) items, tallest size tier first and in reading order within a tier; a new tier
    starts below `step` times the height of the tier's tallest line."""
    items, tier, top = [], 0, None
    for item in sorted(useful, key=lambda x: -x[1].height):
        if top is None or item[1].height < step * top:
            tier, top = tier + 1, item[1].height
        items.append((tier, item))
    return [item for _, item in sorted(items, key=lambda x: (x[0], x[1][0]))]


def _word_break(text: str, knows, longest: int = 18) -> list[str] | None:
    """The fewest store words (>= 2 letters each) that spell `text` exactly; None when there are none."""
    if len(text) > 40:
        return None
    best: list[list[str] | None] = [[]] + [None] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - longest), end - 1):
            head, piece = best[start], text[start:end]
            if head is not None and (best[end] is None or len(head) + 1 < len(best[end])) \
                    and all(knows(t, exact=True) for t in tokenize(piece, bigrams=False)):  # stop words too
                best[end] = head + [piece]
    return best[-1]


def _is_model(tok: str) -> bool:
    """Letters and digits together ("A141", "WH-1000XM4", "S23"), but not a capacity ("65W", "128GB") nor a
    word run into a number ("ReffairAX30": split instead)."""
    core = tok.replace("-", "").replace("/", "")
    longest_word = max((len(run) for run in re.findall(r"[A-Za-z]+", core)), default=0)
    return (any(ch.isdigit() for ch in core) and any(ch.isalpha() for ch in core) and core.isalnum()
            and longest_word <= 4 and not _CAPACITY.match(tok)) and not ("\u4e00" <= tok[0] <= "\u9fff")


def _dedupe(words: list[str]) -> list[str]:
    seen, out = set(), []
    for w in words:
        if w.lower() not in seen:
            seen.add(w.lower())
            out.append(w)
    return out
