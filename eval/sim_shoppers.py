"""Simulated shoppers: `RuleShopper`, a deterministic rule-following shopper (`--user-backend scripted`),
and `SimulatedUser`, a shopper played by any LLM backend with prompts/simulated_user.md (system) and
prompts/simulated_user_turn.md (each turn). Both read the assistant's turns as a shopper sees them
(`shop_view`: the reply, product cards, cart size) and end with ###DONE### or ###STOP###.

Knows goals and what a shopper sees; knows nothing about scoring (sim_scoring.py) or the assistant's internals.
"""
from __future__ import annotations

import re

import prompts
from eval.sim_goals import Goal, money

DONE, STOP = "###DONE###", "###STOP###"
ORDINALS = ("first", "second", "third", "fourth", "fifth")
SHOP, YOU = "Shop assistant:", "You:"

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
        limits = (f" under {money(self.goal.max_price)}" if self.goal.max_price else "") + \
            (f" rated {self.goal.min_rating:g} stars or more" if self.goal.min_rating else "")
        return f"Do you have any {kind}{limits}?" if self.rephrased == 1 else f"Show me {kind} options{limits} please."


class SimulatedUser:
    """The shopper side of a conversation, played by any backend. The conversation so far is one user
    message ending with the assistant's latest turn (small models lose track of flipped chat roles), and
    the backend writes the shopper's next message."""

    def __init__(self, backend, goal: Goal, max_turns: int, temperature: float = 0.0, seed: int = 0):
        self.backend, self.temperature, self.seed = backend, temperature, seed
        # the end markers are left out of the first turn's prompt: a small model otherwise "ends" at once
        self.system = {first: prompts.render("simulated_user.md", goal=goal.desc, max_turns=max_turns,
                                             language="English", first=first) for first in (True, False)}
        self.lines: list[str] = []

    def next(self) -> tuple[str, str | None]:
        """(message, None) or ("", "done" | "stop") when the shopper ends the conversation."""
        prompt = prompts.render("simulated_user_turn.md", conversation="\n".join(self.lines))
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


def user_backend_factory(name: str, model: str | None, **kw):
    """Per goal, the backend that plays the shopper: a fresh rule shopper when scripted, else one shared LLM."""
    if name == "scripted":
        from assistant.llm.scripted import ScriptedBackend

        return lambda goal, max_turns: ScriptedBackend([RuleShopper(goal)] * (max_turns + 1), model="rule-shopper")
    from assistant.llm import load_backend

    backend = load_backend(name, model, **kw)
    return lambda goal, max_turns: backend
