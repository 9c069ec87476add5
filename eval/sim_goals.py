"""Goals for simulated shoppers: a kind of product (words a fitting product's title, category or type
contains), optional price and rating limits, and milestones to reach (`shown`, `reviews`, `cart`,
`order_status`). Goals come from MG-ShopDial's scenario texts (budgets converted to the store's currency) or
are generated from a store's own catalogue and orders; `fits` / `limit_violations` judge a product against one.

Knows goals, products and scenario texts; knows nothing about the assistant, shoppers or scores.
"""
from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USD_TO_INR = 83.0  # MG-ShopDial budgets are in US dollars; the stores here price in rupees


@dataclass
class Goal:
    gid: str
    desc: str                       # what the simulated shopper is told (second person)
    kinds: list[str]                # a fitting product's title / category / type contains one of these
    needs: list[str] = field(default_factory=lambda: ["shown"])  # shown | reviews | cart | order_status
    max_price: float | None = None
    min_rating: float | None = None
    aspect: str | None = None       # for `reviews`
    order_id: str | None = None     # for `order_status`
    user_id: str | None = None
    category: str = ""
    source: str = ""
    opening: str = ""               # the rule shopper's first message
    n_fitting: int = 0              # store products that fit kind and limits (0: not achievable here)


def _kind_re(kind: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9]){re.escape(kind.lower())}(?:e?s)?(?![a-z0-9])")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9\u4e00-\u9fff]+", "", text.lower())


def _field(p: Any, key: str, default: Any = None) -> Any:
    return p.get(key, default) if isinstance(p, dict) else getattr(p, key, default)


def product_text(p: Any) -> str:
    """What a product *is*: its category path and type attribute (the title only when it has neither:
    titles name other kinds too, e.g. "cable for smartphones")."""
    kind = " | ".join([*(_field(p, "category") or []), str((_field(p, "attributes") or {}).get("type", ""))])
    return (kind if kind.strip(" |") else _field(p, "title", "") or "").lower()


def fits_kind(p: Any, goal: Goal) -> bool:
    text = product_text(p)
    levels = {_squash(x) for x in text.split(" | ") if x.strip()}
    return any(_kind_re(k).search(text) or any(lv in (_squash(k), _squash(k) + "s", _squash(k) + "es")
                                               for lv in levels) for k in goal.kinds)


def limit_violations(p: Any, goal: Goal) -> list[str]:
    """Which of the goal's limits a product breaks (an unknown rating breaks a rating limit)."""
    price = p.get("price") if isinstance(p, dict) else p.price
    rating = p.get("rating") if isinstance(p, dict) else p.rating
    out = []
    if goal.max_price is not None and (price is None or price > goal.max_price * 1.01):
        out.append("max_price")
    if goal.min_rating is not None and (rating is None or rating < goal.min_rating):
        out.append("min_rating")
    return out


def fits(p: Any, goal: Goal) -> bool:
    return fits_kind(p, goal) and not limit_violations(p, goal)


def money(v: float) -> str:
    return f"₹{v:,.0f}"


def second_to_first_person(text: str) -> str:
    swaps = [(r"\bYou are\b", "I am"), (r"\byou are\b", "I am"), (r"\bYou have\b", "I have"),
             (r"\bYou need\b", "I need"), (r"\bYou want\b", "I want"), (r"\bYou start\b", "I am starting"),
             (r"\byour\b", "my"), (r"\bYour\b", "My"), (r"\byou\b", "I"), (r"\bYou\b", "I"),
             (r"\band are looking\b", "and am looking"), (r"\bI am starting video\b", "I am starting video")]
    for a, b in swaps:
        text = re.sub(a, b, text)
    return text


# kinds of product named in MG-ShopDial's scenario texts: (pattern in the scenario, kinds, category)
MG_KINDS = [
    (r"\bbook", ["book", "novel"], "Books"),
    (r"smartphone", ["smartphone", "mobile phone"], "Cellphones"),
    (r"video content", ["microphone", "ring light", "tripod", "smartphone"], "Cellphones"),
    (r"calendar", ["calendar", "planner", "diary"], "Office"),
    (r"cartridge|printer", ["cartridge", "ink", "printer paper", "copier paper"], "Office"),
    (r"backpack for school|pencil case", ["pencil case", "pen", "pencil", "notebook", "crayon"], "Office"),
    (r"running shoes", ["running shoe"], "Sports"),
    (r"badminton", ["badminton", "racquet", "racket", "shuttlecock"], "Sports"),
    (r"ice hockey", ["hockey", "ice skate", "helmet"], "Sports"),
]


def mgshopdial_goals(path: str | Path, store) -> list[Goal]:
    """One goal per distinct MG-ShopDial scenario (`metadata.desc`), budgets in the store's currency."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    by_desc: dict[str, list[str]] = {}
    for d in data:
        by_desc.setdefault(d["metadata"]["desc"].strip(), []).append(str(d["metadata"].get("id", d.get("id"))))
    goals = []
    for i, (desc, ids) in enumerate(by_desc.items(), 1):
        match = next(((kinds, cat) for pat, kinds, cat in MG_KINDS if re.search(pat, desc, re.I)), None)
        if match is None:
            continue
        kinds, category = match
        budget = re.search(r"\$\s?(\d+(?:\.\d+)?)", desc)
        max_price = round(float(budget.group(1)) * USD_TO_INR) if budget else None
        text = re.sub(r"\$\s?(\d+(?:\.\d+)?)", lambda m: money(float(m.group(1)) * USD_TO_INR), desc)
        goal = Goal(gid=f"mg-{i:02d}", desc=text + " Find a fitting product in this store.", kinds=kinds,
                    max_price=max_price, category=category, source="mgshopdial:" + ",".join(ids[:8]),
                    opening="Hi! " + second_to_first_person(text))
        goal.n_fitting = sum(fits(p, goal) for p in store.products.values())
        goals.append(goal)
    return goals


def _nice_ceiling(v: float) -> float:
    """Round up to two significant digits: 1,234 -> 1,300; 24,399 -> 25,000."""
    if v <= 0:
        return v
    step = 10 ** max(len(str(int(v))) - 2, 0)
    return float(-(-v // step) * step)


def _words(name: str) -> str:
    """A category leaf as words: "SmartWatches" -> "Smart Watches", "USBCables" -> "USB Cables"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).replace("&", " & ")


def store_goals(store, n: int = 12, seed: int = 0, n_orders: int = 2) -> list[Goal]:
    """Goals generated from a store: per product type, a budget that a few products meet, a rating floor,
    and milestones cycling through shown / reviews+cart / cart; plus order-status goals of real users."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Any]] = {}
    for p in store.products.values():
        kind = str((p.attributes or {}).get("type") or (_words(p.category[-1]) if p.category else "")).strip()
        if kind and p.price:
            by_kind.setdefault(kind, []).append(p)
    kinds = sorted(k for k, ps in by_kind.items() if len(ps) >= 5)
    rng.shuffle(kinds)
    plans = [["shown"], ["shown", "reviews", "cart"], ["shown", "cart"]]
    owners = sorted({o.user_id for o in store.orders.values()})
    rng.shuffle(owners)
    owners = owners[: min(n_orders, n)]
    goals = []
    for kind in kinds[: max(n - len(owners), 0)]:
        ps = sorted(by_kind[kind], key=lambda p: p.price)
        cap = _nice_ceiling(ps[len(ps) // 2].price)
        rated = [p for p in ps if p.price <= cap and (p.rating or 0) >= 4.0]
        needs = plans[len(goals) % len(plans)]
        aspect = "battery" if any("battery" in json.dumps(p.attributes).lower() + p.title.lower() for p in ps) \
            else "quality"
        goal = Goal(gid=f"store-{len(goals) + 1:02d}", desc="", kinds=[kind.lower()], needs=needs, max_price=cap,
                    min_rating=4.0 if len(rated) >= 2 else None, aspect=aspect if "reviews" in needs else None,
                    category=ps[0].category[0] if ps[0].category else kind, source="store")
        limits = f"for at most {money(cap)}" + (", rated at least 4 stars" if goal.min_rating else "")
        steps = {("shown",): "You want to see a few fitting options.",
                 ("shown", "cart"): "Pick a fitting one and have the assistant add it to your cart.",
                 ("shown", "reviews", "cart"): f"Ask what reviewers say about the {aspect} of a fitting one, "
                                               "then have the assistant add it to your cart."}[tuple(needs)]
        goal.desc = f"You want to buy {kind.lower()} {limits}. {steps}"
        goal.opening = f"I'm looking for {kind.lower()} under {money(cap)}" + \
            (" with at least 4 stars." if goal.min_rating else ".")
        goal.n_fitting = sum(fits(p, goal) for p in store.products.values())
        goals.append(goal)
    for user in owners:
        order = sorted(store.orders_of(user), key=lambda o: o.order_id)[-1]
        goals.append(Goal(gid=f"order-{len(goals) + 1:02d}", kinds=[], needs=["order_status"], user_id=user,
                          order_id=order.order_id, category="Orders", source="store", n_fitting=1,
                          desc=f"You placed order {order.order_id} and want to know where it is (its status).",
                          opening=f"Where is my order {order.order_id}? What's its status?"))
    return goals


def default_mgshopdial_path() -> Path:
    root = Path(os.environ.get("SHOPASSIST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return root / "dialogues_mg_shopdial" / "MGShopDial.json"


def load_goals(scenarios: str, store, data: str | None, limit: int | None, seed: int) -> list[Goal]:
    if scenarios == "mgshopdial":
        path = Path(data) if data else default_mgshopdial_path()
        if not path.is_file():
            raise SystemExit(f"error: MG-ShopDial data not found at {path} (pass --data PATH)")
        goals = mgshopdial_goals(path, store)
    elif scenarios in ("demo", "store"):
        goals = store_goals(store, n=limit or 12, seed=seed)
    else:
        raise SystemExit(f"error: unknown scenarios {scenarios!r}: use mgshopdial or demo")
    return goals[:limit] if limit else goals
