"""From an Understanding to the tool calls a turn runs, and which tools a model may choose in agent mode.

The policy decides in code: reading the catalog is always allowed; the cart changes only when the shopper's own
words ask to buy; an order is read only when the shopper gives or means one of their own orders (another
shopper's order is refused here, before any tool, with the same words whether it exists or not). Refinements
carry the last search's need and filters; "cheaper" means below the cheapest shown.

Knows nothing about models, prompts or replies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.session import Session
from assistant.tools import TOOLS
from assistant.understand import Understanding

# what any turn may read: the tools that touch no shopper's own data (each Tool says so itself)
READ_ONLY_TOOLS = tuple(name for name, t in TOOLS.items() if not t.private) + ("recommend",)


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    source: str = "plan"
    result: Any = None
    error: str | None = None
    ms: float = 0.0
    not_yours: bool = False  # the tool found no such record among the shopper's own

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "arguments": dict(self.arguments), "source": self.source, "ms": self.ms}
        if self.result is not None:
            d["result"] = self.result
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class TurnPlan:
    calls: list[ToolCall] = field(default_factory=list)
    reply: str | None = None      # a reply decided without tools (refusal, ask for an id, policy, cart, chitchat)
    refusal: str | None = None
    ask: str | None = None        # order_id | product | currency: what the assistant must ask for
    focus: list[str] = field(default_factory=list)


def allowed_tools(u: Understanding) -> set[str]:
    """The tools a model may call this turn; nothing a product text, a review or the model says widens it."""
    allowed = set(READ_ONLY_TOOLS)
    if u.action == "add_to_cart":
        allowed.add("add_to_cart")
    if u.action in ("order_status", "order_change"):
        allowed.add("order_status")
    if u.action == "recommend":
        allowed.add("predict_order_intent")
    return allowed


class TurnPolicy:
    def __init__(self, index):
        self.index = index

    def plan(self, u: Understanding, session: Session) -> TurnPlan:
        if u.action == "refuse":
            return TurnPlan(refusal=u.refusal)
        foreign = self._foreign_orders(u, session)
        if foreign:
            return TurnPlan(refusal="order_not_yours")
        handler = getattr(self, f"_{u.action}", None)
        return handler(u, session) if handler else TurnPlan()

    # ---- per action --------------------------------------------------------------------------------
    def _similar(self, u: Understanding) -> TurnPlan:
        """Others like the product in focus: its kind, in its category, better rated or cheaper when asked."""
        p = self.index.store.products[u.similar_to]
        kind = p.attributes.get("type") if isinstance(p.attributes.get("type"), str) else ""
        filters = dict(u.filters)
        if p.category:
            filters.setdefault("category", p.category[-1])
        if u.better_rated and p.rating is not None:
            filters.setdefault("min_rating", round(min(p.rating + 0.1, 5.0), 1))
        if u.cheaper and p.price:
            filters.setdefault("max_price", round(p.price - 0.01, 2))
        query = kind or (p.category[-1] if p.category else p.title)
        return TurnPlan([ToolCall("search_products", _search_args(u, query, filters, 5))])

    def _search(self, u: Understanding, session: Session) -> TurnPlan:
        if u.similar_to:
            return self._similar(u)
        query, filters = u.query, dict(u.filters)
        if u.refine and session.last_search:
            last = session.last_search
            extra = " ".join(w for w in query.split() if w.lower() != str(filters.get("brand", "")).lower())
            query = f"{last.get('query', '')} {extra}".strip() if extra else last.get("query", "")
            filters = {**last.get("filters", {}), **filters}
        shown_prices = [self.index.store.products[p].price for p in session.last_shown[:5]
                        if p in self.index.store.products and self.index.store.products[p].price is not None]
        if u.cheaper and shown_prices and "max_price" not in u.filters:
            filters["max_price"] = round(min(shown_prices) - 0.01, 2)
        if u.pricier and shown_prices and "min_price" not in u.filters:
            filters["min_price"] = round(max(shown_prices) + 0.01, 2)
        if u.products and u.reference in ("position", "superlative", "relative", "explicit"):
            p = self.index.store.products[u.products[0]]  # "more like the second one"
            query = query or (p.category[-1] if p.category else p.title)
        if not query:
            return TurnPlan(ask="need")
        return TurnPlan([ToolCall("search_products", _search_args(u, query, filters, 5))])

    def _details(self, u: Understanding, session: Session) -> TurnPlan:
        if u.products:
            return TurnPlan([ToolCall("get_product", {"product_id": p}) for p in u.products[:2]], focus=u.products[:2])
        if u.unknown_ids:
            return TurnPlan([ToolCall("get_product", {"product_id": u.unknown_ids[0]})])
        if u.query:
            return TurnPlan([ToolCall("search_products", _search_args(u, u.query, u.filters, 3))])
        return TurnPlan(ask="product")

    def _reviews(self, u: Understanding, session: Session) -> TurnPlan:
        if u.products:
            args = {"product_id": u.products[0]}
            if u.aspect:
                args["aspect"] = u.aspect
            return TurnPlan([ToolCall("review_sentiment_summary", args)], focus=u.products[:1])
        if u.unknown_ids:
            return TurnPlan([ToolCall("review_sentiment_summary", {"product_id": u.unknown_ids[0]})])
        return TurnPlan(ask="product")

    def _compare(self, u: Understanding, session: Session) -> TurnPlan:
        ids = list(dict.fromkeys(u.products))[:5]
        if len(ids) >= 2:
            return TurnPlan([ToolCall("compare_products", {"product_ids": ids})], focus=ids)
        if ids:  # one product named: it and the shown list's best alternatives
            others = [p for p in session.last_shown if p not in ids][:2]
            if others:
                return TurnPlan([ToolCall("compare_products", {"product_ids": ids + others})], focus=ids + others)
        return TurnPlan(ask="products")

    def _recommend(self, u: Understanding, session: Session) -> TurnPlan:
        if u.filters.get("max_price") or u.filters.get("min_price") or u.filters.get("min_rating"):
            # the recommender takes no price or rating: a stated limit is a search over the need
            if u.query:
                return TurnPlan([ToolCall("search_products", _search_args(u, u.query, u.filters, 5))])
        return TurnPlan([ToolCall("recommend", {"context": u.query or None, "k": 5})])

    def _add_to_cart(self, u: Understanding, session: Session) -> TurnPlan:
        target = u.products[:1]
        if not target and u.unknown_ids:
            return TurnPlan([ToolCall("add_to_cart", {"product_id": u.unknown_ids[0], "quantity": 1})])
        if not target:
            return TurnPlan(ask="product")
        quantity = int(u.quantity) if u.quantity else 1
        if u.set_quantity:  # "make it three": the cart should hold three
            quantity -= session.cart.get(target[0], 0)
            if quantity <= 0:
                return TurnPlan(reply="cart_already", focus=target)
        return TurnPlan([ToolCall("add_to_cart", {"product_id": target[0], "quantity": quantity})], focus=target)

    def _show_cart(self, u: Understanding, session: Session) -> TurnPlan:
        return TurnPlan(reply="cart")

    def _owned(self, session: Session) -> set[str]:
        return {o.order_id for o in self.index.store.orders_of(session.user_id)} if session.user_id else set()

    def _order_status(self, u: Understanding, session: Session) -> TurnPlan:
        ids = u.order_ids or [o for o in [session_order(session, self._owned(session))] if o]
        if not ids:
            return TurnPlan(ask="order_id")
        return TurnPlan([ToolCall("order_status", {"order_id": o}) for o in ids[:3]])

    def _order_change(self, u: Understanding, session: Session) -> TurnPlan:
        plan = self._order_status(u, session) if (u.order_ids or session_order(session, self._owned(session))) \
            else TurnPlan()
        plan.reply = "order_change"
        return plan

    def _policy(self, u: Understanding, session: Session) -> TurnPlan:
        return TurnPlan(reply="policy")

    def _chitchat(self, u: Understanding, session: Session) -> TurnPlan:
        return TurnPlan(reply="chitchat")

    def _foreign_orders(self, u: Understanding, session: Session) -> list[str]:
        """Order ids the words name that exist in the store and belong to someone else."""
        orders = self.index.store.orders
        return [o for o in u.order_ids if o in orders and orders[o].user_id != session.user_id]


def session_order(session: Session, owned: set[str] | None = None) -> str | None:
    """The order the conversation is about: the last one looked up, or named by the shopper (one of their own
    when `owned` is given)."""
    from assistant.slots import read_order_ids

    for turn in reversed(session.turns):
        for call in reversed(turn.tool_calls):
            if call.get("name") == "order_status" and not call.get("error"):
                return call["arguments"].get("order_id")
        named = [o for o in read_order_ids(turn.user) if owned is None or o in owned]
        if named:
            return named[-1]
    return None


def _search_args(u: Understanding, query: str, filters: dict, k: int) -> dict:
    """The search call's arguments: the need, its filters, and an order only where the shopper asked for one."""
    return {"query": query, **filters, "k": k, **({"sort": u.sort} if u.sort != "relevance" else {})}
