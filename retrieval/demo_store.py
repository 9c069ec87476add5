"""The built-in bilingual demo store that `shopassist demo` runs on: build_demo_store(seed) -> Store.

Everything is generated from this package's own word lists with seeded random.Random streams (never the global
one), so the same seed gives the same store, byte for byte when saved. Parts:
  demo_catalog  products in ten categories, a quarter in Chinese, each with hidden per-aspect qualities
  demo_people   users with taste profiles, a homophilous friend graph, orders and view/cart/purchase events
  demo_reviews  reviews whose stars and aspect remarks follow the hidden qualities
  demo_support  store policy (English + Chinese) and customer-service conversations
This module ties them together: store users review what they received, anonymous shoppers (user_id "") top
each product up to 3-12 reviews, and a product's rating / rating_count are exactly its reviews' mean / count.
It knows nothing about indexing, models or the UI.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from retrieval.demo_catalog import DemoProduct, generate_products
from retrieval.demo_people import (
    NOW, START, generate_friendships, generate_interactions, generate_orders, generate_users, iso,
)
from retrieval.demo_reviews import write_review
from retrieval.demo_support import generate_conversations, store_policy
from retrieval.schema import Interaction, Order, Review, User
from retrieval.store import Store

MAX_REVIEWS = 12
_EVENT_ORDER = {"view": 0, "cart": 1, "purchase": 2, "rate": 3}


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def _review(rng: random.Random, dp: DemoProduct, user_id: str, lang: str, when: datetime, mood: float) -> Review:
    w = write_review(rng, dp.qualities, dp.category.key, lang, mood)
    return Review(review_id="", product_id=dp.product.product_id, user_id=user_id, rating=float(w.stars),
                  title=w.title, text=w.text, lang=lang, created_at=iso(when))


def _customer_reviews(rng: random.Random, by_id: dict[str, DemoProduct], users: dict[str, User],
                      orders: list[Order]) -> list[Review]:
    """Store users review some of what they received, mostly in their own language; returners are grumpy."""
    out, counts = [], Counter()
    for order in orders:
        if order.status not in ("delivered", "returned"):
            continue
        returned = order.status == "returned"
        for item in order.items:
            when = datetime.fromisoformat(order.updated_at) + timedelta(hours=rng.uniform(6, 20 * 24))
            if rng.random() > (0.8 if returned else 0.45) or when > NOW or counts[item.product_id] >= MAX_REVIEWS:
                continue
            lang = users[order.user_id].lang
            lang = lang if rng.random() < 0.9 else _other(lang)
            counts[item.product_id] += 1
            out.append(_review(rng, by_id[item.product_id], order.user_id, lang, when, -0.6 if returned else 0.0))
    return out


def _anonymous_reviews(rng: random.Random, products: list[DemoProduct], have: Counter) -> list[Review]:
    """Reviews by shoppers outside the demo's user list (user_id ""), topping each product up to 3-12."""
    out = []
    span = (NOW - START).total_seconds()
    for dp in products:
        target = rng.randint(3, MAX_REVIEWS)
        for _ in range(max(0, target - have[dp.product.product_id])):
            lang = dp.product.lang if rng.random() < 0.8 else _other(dp.product.lang)
            when = START + timedelta(seconds=rng.uniform(0, span))
            out.append(_review(rng, dp, "", lang, when, rng.gauss(0, 0.15)))
    return out


def build_reviews(rng: random.Random, products: list[DemoProduct], users: dict[str, User],
                  orders: list[Order]) -> list[Review]:
    by_id = {dp.product.product_id: dp for dp in products}
    reviews = _customer_reviews(rng, by_id, users, orders)
    reviews += _anonymous_reviews(rng, products, Counter(r.product_id for r in reviews))
    reviews.sort(key=lambda r: (r.product_id, r.created_at, r.user_id))
    for i, r in enumerate(reviews):
        r.review_id = f"R{i + 1:05d}"
    return reviews


def _apply_ratings(products: list[DemoProduct], reviews: list[Review]) -> None:
    stars: dict[str, list[float]] = {dp.product.product_id: [] for dp in products}
    for r in reviews:
        stars[r.product_id].append(r.rating)
    for dp in products:
        s = stars[dp.product.product_id]
        dp.product.rating = round(sum(s) / len(s), 1) if s else None
        dp.product.rating_count = len(s)


def _viewed(interactions: list[Interaction]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in interactions:
        seen = out.setdefault(i.user_id, [])
        if i.event in ("view", "cart") and i.product_id not in seen:
            seen.append(i.product_id)
    return out


def build_demo_store(seed: int = 0, n_products: int = 500, n_users: int = 200) -> Store:
    """The demo store for this seed: products, reviews, users, friends, behaviour, orders, policy, conversations."""
    def rng(part: str) -> random.Random:  # one stream per part: changing one part leaves the others as they were
        return random.Random(f"shopassist-demo:{seed}:{part}")

    products = generate_products(rng("products"), n_products)
    users, tastes = generate_users(rng("users"), n_users)
    user_by_id = {u.user_id: u for u in users}
    friendships = generate_friendships(rng("friends"), tastes)
    orders = generate_orders(rng("orders"), users, tastes, friendships, products)
    interactions = generate_interactions(rng("behaviour"), users, tastes, products, orders)
    reviews = build_reviews(rng("reviews"), products, user_by_id, orders)
    interactions += [Interaction(r.user_id, r.product_id, "rate", r.rating, r.created_at) for r in reviews if r.user_id]
    interactions.sort(key=lambda i: (i.ts, i.user_id, i.product_id, _EVENT_ORDER[i.event]))
    _apply_ratings(products, reviews)
    catalog = {dp.product.product_id: dp.product for dp in products}
    conversations = generate_conversations(rng("support"), users, orders, catalog, _viewed(interactions))
    return Store(products=catalog, reviews=reviews, users=user_by_id, friendships=friendships,
                 interactions=interactions, orders={o.order_id: o for o in orders}, policy=store_policy(),
                 conversations=conversations, name="demo", currency="INR",
                 # the demo shop's configured conversion rates (₹ per unit), fixed so the demo is repeatable
                 exchange_rates={"USD": 83.0, "EUR": 90.0, "CNY": 11.5, "GBP": 105.0})
