"""The store: every record of one shop in memory, saved as a folder of JSONL files.

Knows how records relate (reviews of a product, friends of a user, orders of a user) and how to
persist them. Knows nothing about search, models or who is signed in: callers that serve users
must pass the session's own user id (see assistant.tools).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.schema import (
    Friendship, Interaction, Order, Product, Review, User, read_jsonl, write_jsonl,
)

FILES = {
    "products": "products.jsonl",
    "reviews": "reviews.jsonl",
    "users": "users.jsonl",
    "friendships": "friendships.jsonl",
    "interactions": "interactions.jsonl",
    "orders": "orders.jsonl",
    "conversations": "conversations.jsonl",
}


@dataclass
class Store:
    products: dict[str, Product] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    friendships: list[Friendship] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    policy: str = ""
    # Customer-service conversations for the agent console: {"conversation_id", "user_id", "messages": [...]}
    conversations: list[dict[str, Any]] = field(default_factory=list)
    name: str = "store"
    currency: str = "INR"  # the currency every price is in
    # store currency per unit of another currency ({"USD": 83.0}); a foreign amount with no rate is asked about
    exchange_rates: dict[str, float] = field(default_factory=dict)

    # ---- relations -------------------------------------------------------------------------
    def reviews_of(self, product_id: str) -> list[Review]:
        return self._reviews_by_product().get(product_id, [])

    def _reviews_by_product(self) -> dict[str, list[Review]]:
        cache = getattr(self, "_rbp", None)
        if cache is None or getattr(self, "_rbp_n", -1) != len(self.reviews):
            cache = defaultdict(list)
            for r in self.reviews:
                cache[r.product_id].append(r)
            self._rbp, self._rbp_n = cache, len(self.reviews)
        return cache

    def friends_of(self, user_id: str) -> list[Friendship]:
        return [f for f in self.friendships if f.user_id == user_id]

    def interactions_of(self, user_id: str) -> list[Interaction]:
        return [i for i in self.interactions if i.user_id == user_id]

    def orders_of(self, user_id: str) -> list[Order]:
        return [o for o in self.orders.values() if o.user_id == user_id]

    # ---- persistence -----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_jsonl(directory / FILES["products"], self.products.values())
        write_jsonl(directory / FILES["reviews"], self.reviews)
        write_jsonl(directory / FILES["users"], self.users.values())
        write_jsonl(directory / FILES["friendships"], self.friendships)
        write_jsonl(directory / FILES["interactions"], self.interactions)
        write_jsonl(directory / FILES["orders"], self.orders.values())
        write_jsonl(directory / FILES["conversations"], self.conversations)
        (directory / "policy.md").write_text(self.policy, encoding="utf-8")
        (directory / "store.json").write_text(json.dumps({"name": self.name, "currency": self.currency,
                                                          "exchange_rates": self.exchange_rates}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Store":
        directory = Path(directory)
        if not (directory / FILES["products"]).exists():
            raise FileNotFoundError(f"no store in {directory}: {FILES['products']} is missing")

        def rows(key: str):
            p = directory / FILES[key]
            return read_jsonl(p) if p.exists() else iter(())

        meta_path = directory / "store.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        policy_path = directory / "policy.md"
        return cls(
            products={d["product_id"]: Product(**d) for d in rows("products")},
            reviews=[Review(**d) for d in rows("reviews")],
            users={d["user_id"]: User(**d) for d in rows("users")},
            friendships=[Friendship(**d) for d in rows("friendships")],
            interactions=[Interaction(**d) for d in rows("interactions")],
            orders={d["order_id"]: Order.from_dict(d) for d in rows("orders")},
            conversations=list(rows("conversations")),
            policy=policy_path.read_text(encoding="utf-8") if policy_path.exists() else "",
            name=meta.get("name", directory.name),
            currency=meta.get("currency", "INR"),
            exchange_rates={k: float(v) for k, v in (meta.get("exchange_rates") or {}).items()},
        )
