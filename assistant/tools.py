"""The eight shopping tools of DESIGN.md, as typed functions over an injected `ToolContext`.

Facts, filters, ranking and arithmetic are computed here, never by the model. Private tools
(cart, orders, recommendations from history, purchase intent) read the user from the context,
which the session sets; no argument can name another user. Results are plain JSON-able dicts.

Knows nothing about prompts or which tools a turn may call (the policy decides that).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal

from assistant.guard import strip_instructions
from assistant.insights_registry import Insights
from assistant.session import Session
from assistant.tooling import NotYours, Tool, ToolError, tool
from retrieval.schema import Product
from retrieval.search import ProductIndex

MAX_QUANTITY = 20
MAX_COMPARE = 5


@dataclass
class ToolContext:
    index: ProductIndex
    session: Session
    insights: Insights = field(default_factory=Insights)
    # commits a cart line (product id, new quantity) durably; called before the cart tool returns
    persist_cart: Callable[[str, int], None] | None = None

    @property
    def store(self):
        return self.index.store

    @property
    def user_id(self) -> str | None:
        return self.session.user_id


def cart_lines(products: dict[str, Product], cart: dict[str, int]) -> list[tuple[Product, int]]:
    """The cart's lines (product, quantity), skipping ids the catalog no longer has."""
    return [(products[pid], q) for pid, q in cart.items() if pid in products]


def cart_total(products: dict[str, Product], cart: dict[str, int]) -> float:
    """The one cart total: every price and reply that states a total uses this."""
    return round(sum((p.price or 0) * q for p, q in cart_lines(products, cart)), 2)


def product_card(p: Product, reason: str = "") -> dict[str, Any]:
    """The facts about a product that a reply may state (and the UI shows)."""
    card = {"product_id": p.product_id, "title": p.title, "titles": dict(p.titles), "brand": p.brand, "price": p.price,
            "currency": p.currency, "list_price": p.list_price, "rating": p.rating,
            "rating_count": p.rating_count, "category": " > ".join(p.category), "image_url": p.image_url}
    if p.list_price and p.price and p.list_price > p.price:
        card["discount_pct"] = round(100 * (1 - p.price / p.list_price))
    if reason:
        card["reason"] = reason
    return card


def _product(ctx: ToolContext, product_id: str) -> Product:
    p = ctx.store.products.get(str(product_id).strip())
    if p is None:
        raise ToolError(f"unknown product_id {product_id!r}: use an id from search results")
    return p


def _reason(filters: dict[str, Any], p: Product, lang: str) -> str:
    """Why this product is shown, from the filters it satisfies (true by construction)."""
    zh = lang == "zh"
    bits = []
    if "max_price" in filters:
        bits.append(f"{filters['max_price']:g}以内" if zh else f"under {p.currency} {filters['max_price']:g}")
    if "min_price" in filters:
        bits.append(f"{filters['min_price']:g}以上" if zh else f"over {p.currency} {filters['min_price']:g}")
    if "min_rating" in filters and p.rating is not None:
        bits.append(f"评分{p.rating:g}" if zh else f"rated {p.rating:g}")
    if "brand" in filters:
        bits.append(f"{p.brand}品牌" if zh else f"by {p.brand}")
    if bits:
        return ("，" if zh else ", ").join(bits)
    return "符合您的搜索" if zh else "matches your search"


@tool()
def search_products(ctx: ToolContext, query: str, max_price: float | None = None, min_price: float | None = None,
                    min_rating: float | None = None, category: str | None = None, brand: str | None = None,
                    k: int = 5, sort: Literal["relevance", "price_low", "price_high", "rating"] = "relevance") -> dict:
    """Search the catalog for products matching a need, with optional price, rating, category and brand filters.

    Args:
        query: what the shopper is looking for, in their words (any language)
        max_price: highest acceptable price
        min_price: lowest acceptable price
        min_rating: lowest acceptable average star rating (0-5)
        category: category name to restrict to
        brand: brand name to restrict to
        k: how many products to return (1-10)
        sort: order of the results: relevance (default), price_low (cheapest first), price_high, or rating
            (best rated first); a sorted search sorts every matching product, not only the first k
    """
    k = max(1, min(int(k), 10))
    filters = {key: v for key, v in dict(max_price=max_price, min_price=min_price, min_rating=min_rating,
                                        category=category, brand=brand).items() if v not in (None, "")}
    hits = ctx.index.search(query, filters, k=k if sort == "relevance" else SORT_POOL)
    relevant = [h for h in hits if h.relevant]
    if sort != "relevance":
        relevant = sorted(relevant, key=lambda h: _SORT_KEYS[sort](h.product))[:k]
    ctx.session.last_search = {"query": query, "filters": filters}
    return {"query": query, "filters": filters, "sort": sort, "matched": bool(relevant),
            "products": [product_card(h.product, _reason(filters, h.product, ctx.session.lang)) for h in relevant],
            "closest_non_matches": [] if relevant else [h.product.title for h in hits[:2]]}


SORT_POOL = 50  # a sorted search orders this many matches (the catalog's products of one kind, in practice)
_SORT_KEYS = {"price_low": lambda p: (p.price is None, p.price or 0),
              "price_high": lambda p: (p.price is None, -(p.price or 0)),
              "rating": lambda p: (-(p.rating or 0), -(p.rating_count or 0))}


@tool()
def get_product(ctx: ToolContext, product_id: str) -> dict:
    """Full details of one product: description, attributes, price, rating.

    Args:
        product_id: the product's id, from search results
    """
    p = _product(ctx, product_id)
    return {**product_card(p), "description": p.description[:600], "attributes": p.attributes,
            "n_reviews": len(ctx.store.reviews_of(p.product_id))}


@tool()
def compare_products(ctx: ToolContext, product_ids: list[str]) -> dict:
    """Compare 2-5 products side by side: price, rating, discount, key attributes, and which is cheapest or best rated.

    Args:
        product_ids: ids of the products to compare, from search results
    """
    ids = list(dict.fromkeys(str(i) for i in product_ids))
    if not 2 <= len(ids) <= MAX_COMPARE:
        raise ToolError(f"compare_products needs 2 to {MAX_COMPARE} distinct product ids, got {len(ids)}")
    products = [_product(ctx, i) for i in ids]
    rows = [{**product_card(p), "attributes": p.attributes} for p in products]
    priced = [p for p in products if p.price is not None]
    rated = [p for p in products if p.rating is not None]
    summary = {}
    if priced:
        cheapest = min(priced, key=lambda p: p.price)
        summary["cheapest"] = cheapest.product_id
        summary["price_difference"] = round(max(p.price for p in priced) - cheapest.price, 2)
    if rated:
        summary["best_rated"] = max(rated, key=lambda p: (p.rating, p.rating_count or 0)).product_id
    return {"products": rows, "summary": summary}


@tool()
def review_sentiment_summary(ctx: ToolContext, product_id: str, aspect: str | None = None) -> dict:
    """What reviewers say about a product: positive/negative counts per aspect with quoted evidence.

    Args:
        product_id: the product's id, from search results
        aspect: one aspect to focus on, e.g. battery, sound, size, quality, delivery, value, 电池, 物流
    """
    p = _product(ctx, product_id)
    # reviews are data: instruction-like clauses go before any fragment of them can become evidence
    reviews = [replace(r, title=strip_instructions(r.title), text=strip_instructions(r.text))
               for r in ctx.store.reviews_of(p.product_id)]
    summary = ctx.insights.summarize(reviews, aspect=aspect, lang=ctx.session.lang, product_id=p.product_id)
    # with only a few reviews, the reviews themselves are the best evidence
    few = [{"review_id": r.review_id, "quote": (r.title + ": " if r.title else "") + r.text[:240]}
           for r in reviews[:3]] if 0 < len(reviews) <= 3 else []
    return {"product": product_card(p), **summary, "review_quotes": few}


@tool(private=True)
def recommend(ctx: ToolContext, context: str | None = None, k: int = 5) -> dict:
    """Personalised recommendations for the signed-in shopper, from their history, their friends and what they ask for now.

    Args:
        context: what the shopper is currently looking for, if anything
        k: how many products to recommend (1-10)
    """
    k = max(1, min(int(k), 10))
    recs = ctx.insights.recommend(ctx.index, ctx.user_id, context, k)
    products = [product_card(ctx.store.products[r["product_id"]], "; ".join(r["reasons"]))
                for r in recs if r["product_id"] in ctx.store.products]
    return {"for_signed_in_user": ctx.user_id is not None, "products": products,
            "evidence": [r.get("evidence", {}) for r in recs]}


@tool(private=True)
def predict_order_intent(ctx: ToolContext) -> dict:
    """How likely the signed-in shopper is to buy in this session, with the main contributing factors."""
    return ctx.insights.purchase_propensity(ctx.session, ctx.store)


@tool(private=True)
def add_to_cart(ctx: ToolContext, product_id: str, quantity: int = 1) -> dict:
    """Add a product to the signed-in shopper's cart.

    Args:
        product_id: the product's id, from search results
        quantity: how many to add (1-20)
    """
    p = _product(ctx, product_id)
    quantity = int(quantity)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ToolError(f"quantity must be between 1 and {MAX_QUANTITY}, got {quantity}")
    if ctx.session.cart.get(p.product_id, 0) + quantity > MAX_QUANTITY:
        raise ToolError(f"at most {MAX_QUANTITY} of one product per order")
    new_quantity = ctx.session.cart.get(p.product_id, 0) + quantity
    if ctx.persist_cart is not None:  # on disk first: a failure leaves the cart as it was
        ctx.persist_cart(p.product_id, new_quantity)
    ctx.session.cart[p.product_id] = new_quantity
    return {"added": product_card(p), "quantity": quantity,
            "cart": [{"product_id": x.product_id, "title": x.title, "quantity": q, "price": x.price}
                     for x, q in cart_lines(ctx.store.products, ctx.session.cart)],
            "cart_total": cart_total(ctx.store.products, ctx.session.cart)}


@tool(private=True)
def order_status(ctx: ToolContext, order_id: str) -> dict:
    """Status of one of the signed-in shopper's own orders.

    Args:
        order_id: the order's id, e.g. O10001
    """
    if ctx.user_id is None:
        raise ToolError("nobody is signed in: order status needs a signed-in shopper")
    order = ctx.store.orders.get(str(order_id).strip().upper())
    if order is None or order.user_id != ctx.user_id:
        # same answer whether the order exists or belongs to someone else: nothing leaks
        raise NotYours(f"no order {order_id!r} among the signed-in shopper's orders")
    items = [{"product_id": i.product_id, "title": ctx.store.products[i.product_id].title
              if i.product_id in ctx.store.products else i.product_id, "quantity": i.quantity,
              "unit_price": i.unit_price} for i in order.items]
    return {"order_id": order.order_id, "status": order.status, "created_at": order.created_at,
            "updated_at": order.updated_at, "carrier": order.carrier, "tracking_number": order.tracking_number,
            "estimated_delivery": order.estimated_delivery, "items": items}


TOOLS: dict[str, Tool] = {t.name: t for t in (search_products, get_product, compare_products,
                                              review_sentiment_summary, recommend, predict_order_intent,
                                              add_to_cart, order_status)}
