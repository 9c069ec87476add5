"""Structured product filters (price range, minimum rating, category, brand).

One definition of "this product satisfies these filters", used both inside search (so that no
returned item violates them) and by the evaluation (to count violations). Knows nothing about
queries, embeddings or how filters were obtained from the user's words.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from retrieval.schema import Product


def normalise_label(text: str) -> str:
    """Lower-case and drop spaces and punctuation: 'Home & Kitchen' -> 'homekitchen'."""
    return re.sub(r"[\W_]+", "", text.lower())


@dataclass(frozen=True)
class Filters:
    max_price: float | None = None
    min_price: float | None = None
    min_rating: float | None = None
    category: str | None = None
    brand: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Filters":
        if not d:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown filter keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: (float(v) if k in ("max_price", "min_price", "min_rating") and v is not None else v)
                      for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def is_empty(self) -> bool:
        return not self.to_dict()

    def matches(self, p: Product) -> bool:
        if self.max_price is not None and (p.price is None or p.price > self.max_price):
            return False
        if self.min_price is not None and (p.price is None or p.price < self.min_price):
            return False
        if self.min_rating is not None and (p.rating is None or p.rating < self.min_rating):
            return False
        if self.category and not category_matches(p.category, self.category):
            return False
        if self.brand and normalise_label(p.brand) != normalise_label(self.brand):
            return False
        return True

    def violations(self, p: Product) -> list[str]:
        """Names of the filters `p` violates (empty when it matches)."""
        return [name for name, value in self.to_dict().items()
                if not Filters(**{name: value}).matches(p)]


def category_matches(path: list[str], wanted: str) -> bool:
    """True when `wanted` names any level of the category path (normalised substring)."""
    w = normalise_label(wanted)
    return bool(w) and any(w in normalise_label(level) for level in path)


class FilterColumns:
    """Column arrays over an ordered product list, for vectorised filtering of many products."""

    def __init__(self, products: list[Product]):
        self.price = np.array([np.nan if p.price is None else p.price for p in products], dtype=np.float64)
        self.rating = np.array([np.nan if p.rating is None else p.rating for p in products], dtype=np.float64)
        self.brand = np.array([normalise_label(p.brand) for p in products], dtype=object)
        self.category = [[normalise_label(c) for c in p.category] for p in products]

    def mask(self, f: Filters) -> np.ndarray:
        n = len(self.price)
        m = np.ones(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            if f.max_price is not None:
                m &= self.price <= f.max_price
            if f.min_price is not None:
                m &= self.price >= f.min_price
            if f.min_rating is not None:
                m &= self.rating >= f.min_rating
        if f.brand:
            m &= self.brand == normalise_label(f.brand)
        if f.category:
            w = normalise_label(f.category)
            m &= np.array([bool(w) and any(w in c for c in path) for path in self.category], dtype=bool)
        return m
