"""People half of the built-in demo store: users, their tastes, the friend graph, orders and behaviour.

Users belong to hidden taste communities (a few preferred categories, favourite brands, a price level); friends
are drawn mostly within a community (homophily), and when a user orders, some items are copied from what friends
bought earlier, weighted by tie strength, so friends' purchases raise the chance of buying the same item. Every
purchase belongs to an order; views and carts lead up to orders, plus some browsing and abandoned carts.
Knows nothing about reviews or text beyond names; the community itself is never stored, only each user's
`segment` (JSON: categories, price_level, brands).
"""
from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from retrieval.demo_catalog import CATEGORIES, CATEGORY_BY_KEY, TIERS, DemoProduct
from retrieval.demo_words import FIRST_NAMES_EN, GIVEN_NAMES_ZH, LAST_NAMES_EN, SURNAMES_ZH
from retrieval.schema import Friendship, Interaction, Order, OrderItem, User

START = datetime(2025, 1, 1)
NOW = datetime(2026, 3, 31, 12, 0, 0)  # the demo store's "today": recent orders are still on their way
SOCIAL_COPY_P = 0.35  # chance that an ordered item is one a friend bought before
CARRIERS = (("SwiftShip", "SS"), ("RapidPost", "RP"), ("BlueLine Logistics", "BL"), ("Cargoo Express", "CG"))


def iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


@dataclass
class Taste:
    categories: list[str]  # category keys
    price_level: int  # index into TIERS
    brands: list[str]
    community: int

    def segment(self) -> str:
        leaf = [CATEGORY_BY_KEY[c].path[-1] for c in self.categories]
        return json.dumps({"categories": leaf, "price_level": TIERS[self.price_level], "brands": self.brands},
                          ensure_ascii=False)


def parse_segment(segment: str) -> dict:
    """A demo user's taste profile: {"categories": [...], "price_level": "budget|mid|premium", "brands": [...]}."""
    return json.loads(segment) if segment.startswith("{") else {}


def _communities(rng: random.Random, n: int) -> list[Taste]:
    out = []
    for c in range(n):
        cats = rng.sample(CATEGORIES, rng.choice((2, 3)))
        out.append(Taste([k.key for k in cats], rng.choice((0, 1, 1, 2)), [rng.choice(k.brands) for k in cats], c))
    return out


def _personal_taste(rng: random.Random, comm: Taste) -> Taste:
    cats = [c for c in comm.categories if rng.random() < 0.85] or [comm.categories[0]]
    if rng.random() < 0.5:
        extra = rng.choice(CATEGORIES).key
        cats += [extra] if extra not in cats else []
    brands = [b for b in comm.brands if rng.random() < 0.8]
    if rng.random() < 0.4:
        own = rng.choice(CATEGORY_BY_KEY[rng.choice(cats)].brands)
        brands += [own] if own not in brands else []
    level = comm.price_level if rng.random() < 0.7 else rng.randrange(3)
    return Taste(cats, level, brands, comm.community)


def generate_users(rng: random.Random, n: int, n_communities: int = 8) -> tuple[list[User], dict[str, Taste]]:
    communities = _communities(rng, n_communities)
    users, tastes = [], {}
    for i in range(n):
        taste = _personal_taste(rng, communities[i % n_communities])
        zh = rng.random() < (0.65 if taste.community < 2 else 0.12)
        name = (rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_NAMES_ZH) if zh
                else f"{rng.choice(FIRST_NAMES_EN)} {rng.choice(LAST_NAMES_EN)}")
        user = User(user_id=f"U{i + 1:03d}", name=name, lang="zh" if zh else "en", segment=taste.segment())
        users.append(user)
        tastes[user.user_id] = taste
    return users, tastes


def generate_friendships(rng: random.Random, tastes: dict[str, Taste]) -> list[Friendship]:
    """Undirected ties stored both ways: mostly inside a community and strong there, rare and weak across."""
    ids = list(tastes)
    edges = []
    for a, b in itertools.combinations(ids, 2):
        same = tastes[a].community == tastes[b].community
        if rng.random() < (0.14 if same else 0.006):
            w = round(rng.uniform(0.4, 1.0) if same else rng.uniform(0.05, 0.5), 2)
            edges += [Friendship(a, b, w), Friendship(b, a, w)]
    return sorted(edges, key=lambda f: (f.user_id, f.friend_id))


def _affinity(taste: Taste, lang: str, dp: DemoProduct) -> float:
    w = 1.0 if dp.category.key in taste.categories else 0.02
    w *= 3.0 if dp.product.brand in taste.brands else 1.0
    w *= (1.0, 0.3, 0.06)[abs(dp.tier - taste.price_level)]
    w *= 1.6 if lang == dp.product.lang == "zh" else 1.0
    return w * math.exp(1.2 * dp.overall)


class _Shopper:
    """Picks products for one user: by taste, or copied from friends' earlier purchases."""

    def __init__(self, user: User, taste: Taste, products: list[DemoProduct]):
        self.user, self.pids = user, [d.product.product_id for d in products]
        self.cum = list(itertools.accumulate(_affinity(taste, user.lang, d) for d in products))
        self.bought: list[tuple[datetime, str]] = []

    def by_taste(self, rng: random.Random) -> str:
        return rng.choices(self.pids, cum_weights=self.cum)[0]

    def pick(self, rng: random.Random, friend_items: list[tuple[str, float]], avoid: set[str]) -> str | None:
        for _ in range(8):
            if friend_items and rng.random() < SOCIAL_COPY_P:
                pid = rng.choices([p for p, _ in friend_items], [w for _, w in friend_items])[0]
            else:
                pid = self.by_taste(rng)
            if pid not in avoid:
                return pid
        return None


def _order_times(rng: random.Random) -> list[datetime]:
    k = rng.choices(range(6), (0.08, 0.14, 0.2, 0.22, 0.2, 0.16))[0]
    span = (NOW - START).total_seconds() - 7200
    times = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(k))
    if times and rng.random() < 0.3:  # a recent order, still on its way
        times[-1] = NOW - timedelta(hours=rng.uniform(1, 30) if rng.random() < 0.3 else rng.uniform(30, 200))
        times.sort()
    return times


def _fulfil(rng: random.Random, order: Order, created: datetime, mean_quality: float) -> None:
    """Sets status, timestamps, carrier and tracking from the order's age at NOW."""
    ship_at = created + timedelta(hours=rng.uniform(6, 36))
    eta = (created + timedelta(days=rng.randint(3, 5))).replace(hour=rng.randint(10, 19))
    delivered_at = max(ship_at + timedelta(hours=20), eta + timedelta(days=rng.choice((-1, 0, 0, 0, 0, 1, 2, 4))))
    order.created_at, order.estimated_delivery = iso(created), eta.date().isoformat()
    if rng.random() < 0.06:
        order.status, order.estimated_delivery = "cancelled", ""
        order.updated_at = iso(min(NOW, created + timedelta(hours=rng.uniform(0.5, 5))))
        return
    carrier, prefix = rng.choice(CARRIERS)
    order.carrier, order.tracking_number = carrier, prefix + "".join(rng.choice("0123456789") for _ in range(10))
    returned_at = delivered_at + timedelta(days=rng.randint(2, 20), hours=rng.uniform(0, 8))
    if returned_at <= NOW and rng.random() < 0.04 + 0.2 * max(0.0, -mean_quality):
        order.status, order.updated_at = "returned", iso(returned_at)
    elif delivered_at <= NOW:
        order.status, order.updated_at = "delivered", iso(delivered_at)
    elif ship_at <= NOW:
        order.status, order.updated_at = "shipped", iso(ship_at)
    else:
        order.status, order.updated_at, order.carrier, order.tracking_number = "processing", iso(created), "", ""


def _quantity(rng: random.Random, dp: DemoProduct) -> int:
    small = dp.category.key in ("cables", "skincare", "home")
    return rng.choices((1, 2, 3), (0.7, 0.22, 0.08) if small else (0.96, 0.04, 0.0))[0]


def generate_orders(rng: random.Random, users: list[User], tastes: dict[str, Taste], friendships: list[Friendship],
                    products: list[DemoProduct]) -> list[Order]:
    """Orders in global time order, so a user can copy only what friends bought before; ids O10001.."""
    by_id = {d.product.product_id: d for d in products}
    shoppers = {u.user_id: _Shopper(u, tastes[u.user_id], products) for u in users}
    friends: dict[str, list[Friendship]] = {u.user_id: [] for u in users}
    for f in friendships:
        friends[f.user_id].append(f)
    events = sorted((t, u.user_id) for u in users for t in _order_times(rng))
    orders = []
    for n, (t, uid) in enumerate(events):
        shopper = shoppers[uid]
        friend_items = [(p, f.weight) for f in friends[uid] for _, p in shoppers[f.friend_id].bought]
        avoid = {p for _, p in shopper.bought}
        items: list[OrderItem] = []
        for _ in range(rng.choices((1, 2, 3), (0.65, 0.25, 0.1))[0]):
            pid = shopper.pick(rng, friend_items, avoid)
            if pid:
                avoid.add(pid)
                items.append(OrderItem(pid, _quantity(rng, by_id[pid]), by_id[pid].product.price))
        if not items:  # everything it liked was bought already: a repeat purchase
            pid = shopper.by_taste(rng)
            items.append(OrderItem(pid, _quantity(rng, by_id[pid]), by_id[pid].product.price))
        order = Order(order_id=f"O{10001 + n}", user_id=uid, items=items)
        _fulfil(rng, order, t, sum(by_id[i.product_id].overall for i in items) / len(items))
        if order.status != "cancelled":
            shopper.bought += [(t, i.product_id) for i in items]
        orders.append(order)
    return orders


def _order_interactions(rng: random.Random, order: Order) -> list[Interaction]:
    created = datetime.fromisoformat(order.created_at)
    out = []
    for item in order.items:
        for _ in range(rng.randint(1, 3)):
            out.append(Interaction(order.user_id, item.product_id, "view", 1.0,
                                   iso(max(START, created - timedelta(minutes=rng.uniform(5, 4 * 24 * 60))))))
        out.append(Interaction(order.user_id, item.product_id, "cart", float(item.quantity),
                               iso(max(START, created - timedelta(minutes=rng.uniform(1, 90))))))
        if order.status != "cancelled":
            out.append(Interaction(order.user_id, item.product_id, "purchase", float(item.quantity), order.created_at))
    return out


def _browsing(rng: random.Random, shopper: _Shopper) -> list[Interaction]:
    """Views by taste that did not (yet) lead to an order; some end in an abandoned cart."""
    out = []
    span = (NOW - START).total_seconds()
    for _ in range(rng.randint(4, 20)):
        pid, t = shopper.by_taste(rng), START + timedelta(seconds=rng.uniform(0, span))
        out.append(Interaction(shopper.user.user_id, pid, "view", 1.0, iso(t)))
        if rng.random() < 0.12:
            carted = min(NOW, t + timedelta(minutes=rng.uniform(1, 30)))
            out.append(Interaction(shopper.user.user_id, pid, "cart", 1.0, iso(carted)))
    return out


def generate_interactions(rng: random.Random, users: list[User], tastes: dict[str, Taste],
                          products: list[DemoProduct], orders: list[Order]) -> list[Interaction]:
    """view / cart / purchase events (rate events are added with the reviews), sorted by time."""
    out = [i for o in orders for i in _order_interactions(rng, o)]
    for u in users:
        out += _browsing(rng, _Shopper(u, tastes[u.user_id], products))
    return out
