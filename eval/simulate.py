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

This module holds the task loop and the command line; goals live in sim_goals.py, the shoppers in
sim_shoppers.py, the scoring in sim_scoring.py (their names are re-exported here).
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any, Sequence

from eval.harness import Case, backend_meta, print_table, run_meta, run_task, write_results
from eval.sim_goals import (
    MG_KINDS, USD_TO_INR, Goal, default_mgshopdial_path, fits, fits_kind, limit_violations, load_goals,
    mgshopdial_goals, product_text, second_to_first_person, store_goals,
)
from eval.sim_scoring import (
    KEYS, LIST_TOOLS, aggregate, milestones, per_category, score_simulation, shown_as_results, violations_rate,
)
from eval.sim_shoppers import (
    DONE, ORDINALS, SHOP, STOP, YOU, RuleShopper, SimulatedUser, listed_products, shop_view, user_backend_factory,
)

__all__ = [
    "DONE", "KEYS", "LIST_TOOLS", "MG_KINDS", "ORDINALS", "SHOP", "STOP", "USD_TO_INR", "YOU", "Goal", "RuleShopper",
    "SimulatedUser", "SimulationTask", "add_arguments", "aggregate", "default_mgshopdial_path", "fits", "fits_kind",
    "limit_violations", "listed_products", "load_goals", "main", "mgshopdial_goals", "milestones", "per_category",
    "product_text", "score_simulation", "second_to_first_person", "shop_view", "shown_as_results", "store_goals",
    "user_backend_factory", "violations_rate",
]


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
    data = args.data or (default_mgshopdial_path() if args.scenarios == "mgshopdial" else "")
    payload = {**{k: m.get(k) for k in KEYS}, "constraint_violations": m.get("constraint_violations"),
               "turns_mean": m.get("turns_mean"), "task": "simulate", "per_category": per_category(res.per_case),
               "per_case": res.per_case, "failures": [r["id"] for r in res.per_case if not r["completed"]],
               "meta": run_meta(task="simulate", index=str(args.index), scenarios=args.scenarios, data=str(data),
                                **backend_meta(assistant.backend, args.backend), turns=args.turns,
                                user={**user_meta, "temperature": args.user_temperature}, seed=args.seed)}
    write_results(args.out, payload)
    return 0
