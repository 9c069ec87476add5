"""`shopassist eval simulate`: simulated shoppers pursue checkable goals against the assistant.

A goal is a shopping task that can be checked from what the assistant did: a kind of product (words a
fitting product's title, category or type contains), optional price and rating limits, and milestones
to reach: `shown` (a fitting product within the limits was presented), `reviews` (a review summary of
one was given), `cart` (one is in the session's cart), `order_status` (the shopper's order status was
looked up). Goals come from MG-ShopDial's scenario texts (`--scenarios mgshopdial`, budgets converted to
the store's currency) or are generated from the index's own store (`--scenarios demo`).

The shopper is an LLM prompted with prompts/simulated_user.md (`--user-backend llamacpp|openai|...`), or
with `--user-backend scripted` a rule-following shopper replayed through the scripted backend, which is
deterministic. The score never trusts the shopper's "done": completion, turns to completion and
constraint violations (products shown as results that break the goal's price or rating limits) are
computed from the assistant's tool results, products and cart. Transcripts go into the results JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, backend_meta, percentile, print_table, run_meta, run_task, write_results

DONE, STOP = "###DONE###", "###STOP###"
USD_TO_INR = 83.0  # MG-ShopDial budgets are in US dollars; the stores here price in rupees
LIST_TOOLS = ("search_products", "recommend")
ORDINALS = ("first", "second", "third", "fourth", "fifth")
SHOP, YOU = "Shop assistant:", "You:"


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


# ---- goals -------------------------------------------------------------------------------------------
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


def _money(v: float) -> str:
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
        text = re.sub(r"\$\s?(\d+(?:\.\d+)?)", lambda m: _money(float(m.group(1)) * USD_TO_INR), desc)
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
        limits = f"for at most {_money(cap)}" + (", rated at least 4 stars" if goal.min_rating else "")
        steps = {("shown",): "You want to see a few fitting options.",
                 ("shown", "cart"): "Pick a fitting one and have the assistant add it to your cart.",
                 ("shown", "reviews", "cart"): f"Ask what reviewers say about the {aspect} of a fitting one, "
                                               "then have the assistant add it to your cart."}[tuple(needs)]
        goal.desc = f"You want to buy {kind.lower()} {limits}. {steps}"
        goal.opening = f"I'm looking for {kind.lower()} under {_money(cap)}" + \
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


# ---- shoppers ----------------------------------------------------------------------------------------
_CARD = re.compile(r"^\s*(\d+)\.\s*\[([^\]]+)\]")


def listed_products(view: str) -> list[tuple[int, str, float | None, float | None]]:
    """(position, product id, price, rating) of the product cards in a shop view."""
    out = []
    for line in view.splitlines():
        m = _CARD.match(line)
        if not m:
            continue
        parts = [x.strip() for x in line.split(" | ")][1:]  # a title may hold " | " itself: look for the shapes
        price = next((_price(q) for q in parts if re.match(r"(?:₹|\$|¥|€|[A-Z]{3} )\s*\d", q)), None)
        rating = next((float(q.split("★")[0]) for q in parts if re.match(r"\d(?:\.\d+)?★", q)), None)
        out.append((int(m.group(1)), m.group(2), price, rating))
    return out


def shop_view(result) -> str:
    """What the shopper sees of one assistant turn: the reply, the product cards, the cart size."""
    from assistant import render

    lines = [result.text.strip()]
    if result.products:
        lines.append("Products shown:")
        lines += [render.product_line(p, i) for i, p in enumerate(result.products[:5], 1)]
    if result.cart:
        lines.append(f"Cart: {sum(result.cart.values())} item(s)")
    return "\n".join(lines)


def _price(text: str) -> float | None:
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)", text)
    return float(m.group(1).replace(",", "")) if m else None


class RuleShopper:
    """A deterministic shopper for `--user-backend scripted`: states the goal, picks the first listed
    product that fits its limits, asks about reviews and the cart as the goal says, then says ###DONE###.
    Called by the scripted backend as `(messages, tools) -> reply`."""

    def __init__(self, goal: Goal):
        self.goal, self.steps = goal, [s for s in goal.needs if s in ("reviews", "cart")]
        self.turn, self.rephrased, self.target, self.cart_asked = 0, 0, None, 0

    def __call__(self, messages, tools=None) -> str:
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        shop = last.rsplit(SHOP, 1)[-1]  # the assistant's latest turn
        self.turn += 1
        if self.turn == 1:
            return self.goal.opening
        g = self.goal
        if "order_status" in g.needs:
            return DONE
        listed = listed_products(shop)
        ok = [x for x in listed if (g.max_price is None or (x[2] or 1e18) <= g.max_price * 1.01)
              and (g.min_rating is None or (x[3] or 0) >= g.min_rating)]
        if self.target is None:
            if not ok:
                return self._rephrase()
            self.target = ORDINALS[min(ok[0][0], 5) - 1]
            if not self.steps:
                return DONE
        step = self.steps[0] if self.steps else None
        if step == "reviews":
            self.steps.pop(0)
            return f"What do reviews say about the {g.aspect or 'quality'} of the {self.target} one?"
        if step == "cart":
            if self.cart_asked and re.search(r"cart|购物车", shop, re.I):
                return DONE
            self.cart_asked += 1
            if self.cart_asked > 2:
                return STOP
            return f"Please add the {self.target} one to my cart."
        return DONE

    def _rephrase(self) -> str:
        self.rephrased += 1
        kind = self.goal.kinds[min(self.rephrased - 1, len(self.goal.kinds) - 1)] if self.goal.kinds else "it"
        if self.rephrased > 2:
            return STOP
        limits = (f" under {_money(self.goal.max_price)}" if self.goal.max_price else "") + \
            (f" rated {self.goal.min_rating:g} stars or more" if self.goal.min_rating else "")
        return f"Do you have any {kind}{limits}?" if self.rephrased == 1 else f"Show me {kind} options{limits} please."


class SimulatedUser:
    """The shopper side of a conversation, played by any backend. The conversation so far is one user
    message ending with the assistant's latest turn (small models lose track of flipped chat roles), and
    the backend writes the shopper's next message."""

    def __init__(self, backend, goal: Goal, max_turns: int, temperature: float = 0.0, seed: int = 0):
        import prompts

        self.backend, self.temperature, self.seed = backend, temperature, seed
        # the end markers are left out of the first turn's prompt: a small model otherwise "ends" at once
        self.system = {first: prompts.render("simulated_user.md", goal=goal.desc, max_turns=max_turns,
                                             language="English", first=first) for first in (True, False)}
        self.lines: list[str] = []

    def next(self) -> tuple[str, str | None]:
        """(message, None) or ("", "done" | "stop") when the shopper ends the conversation."""
        if not self.lines:
            prompt = "The chat has not started. Write your first message to the shop assistant (only the message)."
        else:
            prompt = ("Conversation so far:\n" + "\n".join(self.lines) + "\n\nWrite your next message as the "
                      "shopper (only the message), or ###DONE### or ###STOP###.")
        system = self.system[not self.lines]
        gen = self.backend.generate([{"role": "system", "content": system}, {"role": "user", "content": prompt}],
                                    max_tokens=80, temperature=self.temperature, seed=self.seed)
        text = (gen.text or gen.raw or "").strip()
        if DONE in text or STOP in text:
            return "", "done" if DONE in text else "stop"
        text = text.split("\n")[0].strip()
        text = re.sub(r"^(you|shopper|customer|user|me)\s*(\(shopper\))?\s*:\s*", "", text, flags=re.I)
        text = text.strip().strip('"').strip()
        if not text:
            return "", "stop"
        self.lines.append(f"{YOU} {text}")
        return text, None

    def hear(self, result) -> None:
        self.lines.append(f"{SHOP} {shop_view(result)}")


# ---- the task ----------------------------------------------------------------------------------------
class SimulationTask:
    def __init__(self, assistant, goals: list[Goal], user_backend_factory, max_turns: int,
                 user_temperature: float = 0.0, seed: int = 0):
        from eval.dialogues_task import Groundedness

        self.assistant, self.goals, self.max_turns = assistant, goals, max_turns
        self.user_backend_factory, self.user_temperature, self.seed = user_backend_factory, user_temperature, seed
        self.groundedness = Groundedness(assistant.index.store)
        self.name = "simulate"

    def cases(self) -> list[Case]:
        return [Case(id=g.gid, input=g, meta={"category": g.category}) for g in self.goals]

    def run_batch(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        return [self.simulate(c.input) for c in cases]

    def simulate(self, goal: Goal) -> dict[str, Any]:
        user = SimulatedUser(self.user_backend_factory(goal, self.max_turns), goal, self.max_turns,
                             self.user_temperature, self.seed)
        session = self.assistant.new_session(goal.user_id)
        turns, ended = [], "turns"
        for _ in range(self.max_turns):
            text, end = user.next()
            if end:
                ended = end
                break
            result = self.assistant.turn(session, text)
            turns.append((text, result))
            user.hear(result)
        return {"turns": turns, "ended": ended}

    def evaluate(self, case: Case, output: dict[str, Any]) -> dict[str, Any]:
        return score_simulation(case.input, output["turns"], output["ended"], self.assistant.index.store,
                                self.groundedness)


def milestones(goal: Goal, result, store) -> set[str]:
    """The goal's milestones this one assistant turn reached."""
    def fitting(pid: str) -> bool:  # cards lack category and type: judge the store's record
        return pid in store.products and fits(store.products[pid], goal)

    reached = set()
    if not result.no_match and any(fitting(p["product_id"]) for p in result.products):
        reached.add("shown")
    for c in result.tool_calls:
        if c.get("error"):
            continue
        r = c.get("result") or {}
        if c["name"] == "review_sentiment_summary" and fitting((r.get("product") or {}).get("product_id", "")):
            reached.add("reviews")
        if c["name"] == "order_status" and goal.order_id and str(r.get("order_id", "")).upper() == goal.order_id:
            reached.add("order_status")
    if any(fitting(pid) for pid in result.cart or {}):
        reached.add("cart")
    return reached


def shown_as_results(result) -> list[dict[str, Any]]:
    """Products the turn presented as matches of a search or recommendation."""
    out = []
    for c in result.tool_calls:
        r = c.get("result") or {}
        if c["name"] in LIST_TOOLS and not c.get("error") and r.get("matched", True):
            out += r.get("products", [])
    return out


def score_simulation(goal: Goal, turns: list[tuple[str, Any]], ended: str, store,
                     groundedness=None) -> dict[str, Any]:
    reached: set[str] = set()
    done_at = None
    shown = violations = 0
    transcript, sentences, grounded = [], 0, 0
    for i, (text, result) in enumerate(turns, 1):
        reached |= milestones(goal, result, store)
        if done_at is None and set(goal.needs) <= reached:
            done_at = i
        listed = shown_as_results(result)
        bad = [p["product_id"] for p in listed if limit_violations(p, goal)]
        shown, violations = shown + len(listed), violations + len(bad)
        g = groundedness.score(result, text) if groundedness else {"sentences": 0, "grounded_sentences": 0}
        sentences, grounded = sentences + g["sentences"], grounded + g["grounded_sentences"]
        transcript.append({"user": text, "reply": result.text, "intent": result.intent, "refused": result.refused,
                           "no_match": result.no_match, "products": [p["product_id"] for p in result.products],
                           "tools": [{"name": c["name"], "arguments": c["arguments"], "error": c.get("error")}
                                     for c in result.tool_calls],
                           "violations": len(bad), "violating_products": bad, "cart": dict(result.cart or {}),
                           "latency_ms": round(result.timings.get("total_ms", 0.0), 1)})
    return {"completed": done_at is not None, "turns_to_completion": done_at, "turns": len(turns),
            "achievable": goal.n_fitting > 0, "milestones": sorted(reached), "needs": goal.needs,
            "shown": shown, "violations": violations, "sentences": sentences, "grounded_sentences": grounded,
            "ended": ended, "category": goal.category, "goal": goal.desc, "transcript": transcript}


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, Any]:
    n = max(len(per_case), 1)
    achievable = [r for r in per_case if r["achievable"]]
    done = [r for r in per_case if r["completed"]]
    lat = [t["latency_ms"] for r in per_case for t in r["transcript"]]
    shown = sum(r["shown"] for r in per_case)
    sentences = sum(r["sentences"] for r in per_case)
    return {"goal_completion_rate": len(done) / n,
            "goal_completion_rate_achievable": (sum(r["completed"] for r in achievable) / len(achievable)
                                                if achievable else None),
            "turns_to_completion_mean": (sum(r["turns_to_completion"] for r in done) / len(done)) if done else None,
            "constraint_violation_rate": violations_rate(per_case, shown),
            "constraint_violations": sum(r["violations"] for r in per_case),
            "grounded_sentence_rate": sum(r["grounded_sentences"] for r in per_case) / sentences if sentences else None,
            "user_done_rate": sum(r["ended"] == "done" for r in per_case) / n,
            "premature_done_rate": sum(r["ended"] == "done" and not r["completed"] for r in per_case) / n,
            "turns_mean": sum(r["turns"] for r in per_case) / n,
            "turn_latency_ms_p50": percentile(lat, 50), "turn_latency_ms_p95": percentile(lat, 95),
            "n_goals": len(per_case), "n_achievable": len(achievable)}


def violations_rate(per_case: list[dict], shown: int) -> float | None:
    return sum(r["violations"] for r in per_case) / shown if shown else None


def per_category(per_case: list[dict]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cat in sorted({r["category"] for r in per_case}):
        rows = [r for r in per_case if r["category"] == cat]
        out[cat] = {"goal_completion_rate": sum(r["completed"] for r in rows) / len(rows),
                    "achievable": sum(r["achievable"] for r in rows), "n": len(rows)}
    return out


KEYS = ["goal_completion_rate", "goal_completion_rate_achievable", "turns_to_completion_mean",
        "constraint_violation_rate", "grounded_sentence_rate", "user_done_rate", "premature_done_rate",
        "turn_latency_ms_p50", "n_goals", "n_achievable"]


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


def user_backend_factory(name: str, model: str | None, **kw):
    """Per goal, the backend that plays the shopper: a fresh rule shopper when scripted, else one shared LLM."""
    if name == "scripted":
        from assistant.llm.scripted import ScriptedBackend

        return lambda goal, max_turns: ScriptedBackend([RuleShopper(goal)] * (max_turns + 1), model="rule-shopper")
    from assistant.llm import load_backend

    backend = load_backend(name, model, **kw)
    return lambda goal, max_turns: backend


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True)
    p.add_argument("--scenarios", default="demo", choices=["mgshopdial", "demo", "store"],
                   help="mgshopdial: MG-ShopDial scenario texts; demo/store: goals generated from the index's store")
    p.add_argument("--data", default=None, help="MGShopDial.json (default ../shared/data/dialogues_mg_shopdial/)")
    p.add_argument("--backend", default="llamacpp", help="the assistant's backend: llamacpp | ... | none")
    p.add_argument("--model", default=None)
    p.add_argument("--base-url", default=None)
    p.add_argument("--user-backend", default="llamacpp", help="who plays the shopper: an LLM backend or scripted")
    p.add_argument("--user-model", default=None)
    p.add_argument("--user-temperature", type=float, default=0.0)
    p.add_argument("--turns", type=int, default=6, help="most shopper messages per goal")
    p.add_argument("--limit", type=int, default=None, help="at most this many goals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)


def main(args: argparse.Namespace) -> int:
    from assistant.app import load_assistant

    kw = {"base_url": args.base_url} if args.base_url else {}
    assistant = load_assistant(args.index, args.backend, args.model, **kw)
    goals = load_goals(args.scenarios, assistant.index.store, args.data, args.limit, args.seed)
    if args.user_backend == args.backend and args.user_model == args.model and assistant.backend is not None:
        factory = lambda goal, max_turns: assistant.backend  # noqa: E731  (one model in memory plays both)
    else:
        factory = user_backend_factory(args.user_backend, args.user_model,
                                       **(kw if args.user_backend == "openai" else {}))
    task = SimulationTask(assistant, goals, factory, args.turns, args.user_temperature, args.seed)
    res = run_task(task, aggregate=aggregate, batch_size=1)
    m = res.metrics
    print_table([{k: ("n/a" if m.get(k) is None else m[k]) for k in KEYS}], KEYS, title=f"simulate: {args.scenarios}")
    for row, g in zip(res.per_case, goals):
        row["goal_spec"] = {k: v for k, v in asdict(g).items() if k not in ("desc", "opening")}
    user_meta = backend_meta(factory(goals[0], args.turns) if goals else None, args.user_backend)
    payload = {**{k: m.get(k) for k in KEYS}, "constraint_violations": m.get("constraint_violations"),
               "turns_mean": m.get("turns_mean"), "task": "simulate", "per_category": per_category(res.per_case),
               "per_case": res.per_case, "failures": [r["id"] for r in res.per_case if not r["completed"]],
               "meta": run_meta(task="simulate", index=str(args.index), scenarios=args.scenarios,
                                data=str(args.data or (default_mgshopdial_path() if args.scenarios == "mgshopdial" else "")),
                                **backend_meta(assistant.backend, args.backend), turns=args.turns,
                                user={**user_meta, "temperature": args.user_temperature}, seed=args.seed)}
    write_results(args.out, payload)
    return 0
