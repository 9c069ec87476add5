"""Store records: products, reviews, users, social ties, interactions, orders.

Plain dataclasses with JSON round-tripping. This module knows the shape of the
data and nothing about where it comes from (files, the demo generator) or how it
is searched.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")


@dataclass
class Product:
    product_id: str
    title: str
    description: str = ""
    category: list[str] = field(default_factory=list)
    brand: str = ""
    price: float | None = None
    currency: str = "INR"
    list_price: float | None = None
    rating: float | None = None
    rating_count: int | None = None
    image_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"
    titles: dict[str, str] = field(default_factory=dict)  # the title in other languages ({"en": ...}), shown only

    def search_text(self, max_description_chars: int | None = None) -> str:
        """Text used for lexical and dense indexing: title, brand, category, description."""
        desc = self.description if max_description_chars is None else self.description[:max_description_chars]
        attrs = " ".join(f"{k} {v}" for k, v in self.attributes.items() if isinstance(v, (str, int, float)))
        parts = [self.title, self.brand, " ".join(self.category), attrs, desc]
        return " \n".join(p for p in parts if p)


@dataclass
class Review:
    review_id: str
    product_id: str
    user_id: str = ""
    rating: float | None = None
    title: str = ""
    text: str = ""
    lang: str = "en"
    created_at: str = ""


@dataclass
class User:
    user_id: str
    name: str = ""
    lang: str = "en"
    segment: str = ""


@dataclass
class Friendship:
    user_id: str
    friend_id: str
    weight: float = 1.0


@dataclass
class Interaction:
    user_id: str
    product_id: str
    event: str  # view | cart | purchase | rate
    value: float = 1.0
    ts: str = ""


@dataclass
class OrderItem:
    product_id: str
    quantity: int = 1
    unit_price: float = 0.0


@dataclass
class Order:
    order_id: str
    user_id: str
    items: list[OrderItem] = field(default_factory=list)
    status: str = "processing"  # processing | shipped | delivered | cancelled | returned
    created_at: str = ""
    updated_at: str = ""
    carrier: str = ""
    tracking_number: str = ""
    estimated_delivery: str = ""

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "Order":
        d = dict(d)
        d["items"] = [OrderItem(**i) for i in d.get("items", [])]
        return Order(**d)


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def write_jsonl(path: Path, records: Iterable[Any]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(to_dict(r) if dataclasses.is_dataclass(r) else r, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)
