"""A shopper's session: who is signed in, the conversation, the products last shown, the cart.

The user id is set once, by whoever authenticated the shopper (the UI persona, the API header);
nothing said in the chat can change it. Knows nothing about tools, models or persistence
(`assistant.persistence` saves and restores sessions).
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


_PRICE_WORDS = re.compile(r"price|cost|cheap|expensive|discount|how much|budget|under \d|价格|多少钱|便宜|贵|优惠|预算", re.I)


@dataclass
class Turn:
    user: str
    reply: str = ""
    intent: str = ""
    lang: str = "en"
    products: list[str] = field(default_factory=list)   # shown as results this turn
    focus: list[str] = field(default_factory=list)      # products the turn was about (named, acted on)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False
    no_match: bool = False
    feedback: int = 0  # +1 thumbs up, -1 thumbs down
    ts: float = field(default_factory=time.time)


@dataclass
class Session:
    user_id: str | None = None
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[Turn] = field(default_factory=list)
    last_shown: list[str] = field(default_factory=list)      # product ids, in the order shown
    last_search: dict[str, Any] = field(default_factory=dict)  # query + filters of the last search
    cart: dict[str, int] = field(default_factory=dict)         # product id -> quantity
    lang: str = "en"
    service: dict[str, Any] | None = None  # an after-sales conversation's state (assistant.service.hook)

    def history(self, max_turns: int = 4) -> list[tuple[str, str]]:
        return [(t.user, t.reply) for t in self.turns[-max_turns:]]

    def behaviour(self) -> dict[str, float]:
        """Counts the purchase-intent model reads: what the shopper did in this conversation."""
        intents = [t.intent for t in self.turns]
        names = [c.get("name") for t in self.turns for c in t.tool_calls]
        return {
            "turns": len(self.turns),
            "cart_adds": names.count("add_to_cart"),
            "cart_items": sum(self.cart.values()),
            "searches": names.count("search_products"),
            "product_views": names.count("get_product"),
            "comparisons": names.count("compare_products") + intents.count("compare"),
            "review_questions": names.count("review_sentiment_summary"),
            "purchase_turns": intents.count("purchase"),
            "support_turns": intents.count("support"),
            "products_seen": len({p for t in self.turns for p in t.products}),
            "viewed": list(dict.fromkeys(p for t in self.turns for p in t.products + t.focus)),
            "seconds": (self.turns[-1].ts - self.turns[0].ts) if len(self.turns) > 1 else 30.0 * len(self.turns),
            "price_questions": sum(bool(_PRICE_WORDS.search(t.user)) for t in self.turns),
        }
